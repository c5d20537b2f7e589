//! `columns`: every path an import can fill, with its type and meaning, so a mapping file
//! can be written from the export without reading the snapshot schema.

use clap::Args;
use serde_json::Value;

use super::{CliError, Format};
use crate::model::Snapshot;
use crate::store::mapping::{ACCOUNT_PATHS, LongKind, Ty};

#[derive(Debug, Args)]
pub struct ColumnsArgs {
    /// Output format: a markdown table, or JSON (`[{"file", "path", "type", "required", "meaning"}]`).
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
}

/// How a cell of this type is written.
fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Text => "text",
        Ty::Int => "whole number",
        Ty::Num => "number",
        Ty::Money => "money",
        Ty::Bool => "yes/no",
        Ty::Date => "date",
    }
}

/// The schema node a `$ref` (possibly inside `anyOf` for an optional field) points to.
fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let target = v.get("$ref").and_then(Value::as_str).or_else(|| {
            v.get("anyOf")
                .or_else(|| v.get("allOf"))
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find_map(|x| x.get("$ref").and_then(Value::as_str)))
        });
        match target.and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) => match root.get("$defs").and_then(|d| d.get(name)) {
                Some(t) => v = t,
                None => break,
            },
            None => break,
        }
    }
    v
}

/// The description of a dotted path in the snapshot schema; `item` walks into a list's
/// items at the end.
fn meaning(root: &Value, path: &str, item: Option<&str>) -> String {
    let mut node = root;
    let mut desc = None;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts {
        let n = resolve(root, node);
        match n.get("properties").and_then(|p| p.get(*part)) {
            Some(p) => {
                desc = p.get("description").and_then(Value::as_str);
                node = p;
            }
            None => return String::new(),
        }
    }
    if let Some(field) = item {
        let list = resolve(root, node);
        let items = list.get("items").map(|i| resolve(root, i));
        desc = items
            .and_then(|i| i.get("properties"))
            .and_then(|p| p.get(field))
            .and_then(|f| {
                f.get("description")
                    .and_then(Value::as_str)
                    .or_else(|| resolve(root, f).get("description").and_then(Value::as_str))
            });
    }
    desc.unwrap_or_default()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace('\n', " ")
}

struct Row {
    file: &'static str,
    path: &'static str,
    ty: Ty,
    required: bool,
    meaning: String,
}

fn rows() -> Vec<Row> {
    let schema = serde_json::to_value(schemars::schema_for!(Snapshot)).unwrap_or(Value::Null);
    let mut out: Vec<Row> = ACCOUNT_PATHS
        .iter()
        .map(|(p, ty)| Row {
            file: "accounts",
            path: p,
            ty: *ty,
            required: false,
            meaning: meaning(&schema, p, None),
        })
        .collect();
    for k in LongKind::ALL {
        out.push(Row {
            file: k.name(),
            path: "account",
            ty: Ty::Text,
            required: true,
            meaning: "The id or name of a stored account.".into(),
        });
        for (f, ty, required) in k.fields() {
            out.push(Row {
                file: k.name(),
                path: f,
                ty: *ty,
                required: *required,
                meaning: meaning(&schema, k.list_path(), Some(f)),
            });
        }
    }
    out
}

pub fn run(a: ColumnsArgs) -> Result<(), CliError> {
    let rows = rows();
    match a.format {
        Format::Json => {
            let v: Vec<Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "file": r.file,
                        "path": r.path,
                        "type": type_name(r.ty),
                        "required": r.required,
                        "meaning": r.meaning,
                    })
                })
                .collect();
            let text = serde_json::to_string_pretty(&v)
                .map_err(|e| anyhow::anyhow!("cannot serialise the columns: {e}"))?;
            super::emit(&text)
        }
        Format::Markdown => {
            let mut out = String::from(
                "# Importable columns\n\nA CSV names its columns by these paths, or a mapping file (`--map`) renames the export's own columns to them. Types: money is `95000`, `$95,000` or `USD 95.000,00` with the declared separators (the account's currency only); dates are YYYY-MM-DD unless the mapping declares `date_format`; yes/no is true/false, yes/no, y/n, 1/0.\n\n## One row per account (`kind = \"accounts\"`)\n\nEvery column is optional; `id` or `name` says which account a row is.\n\n| Path | Type | Meaning |\n|---|---|---|\n",
            );
            let mut current = "accounts";
            for r in &rows {
                if r.file != current {
                    current = r.file;
                    let list = LongKind::from_name(r.file).map_or("", LongKind::list_path);
                    out.push_str(&format!(
                        "\n## Long format `{}` (`kind = \"{}\"`): one row per item of `{list}`\n\n| Column | Type | Required | Meaning |\n|---|---|---|---|\n",
                        r.file, r.file
                    ));
                }
                let m = r.meaning.replace('|', "\\|");
                if r.file == "accounts" {
                    out.push_str(&format!("| `{}` | {} | {m} |\n", r.path, type_name(r.ty)));
                } else {
                    out.push_str(&format!(
                        "| `{}` | {} | {} | {m} |\n",
                        r.path,
                        type_name(r.ty),
                        if r.required { "yes" } else { "no" }
                    ));
                }
            }
            super::emit(out.trim_end())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_path_has_a_meaning() {
        for r in rows() {
            assert!(
                !r.meaning.is_empty(),
                "{} {} has no meaning",
                r.file,
                r.path
            );
        }
    }
}
