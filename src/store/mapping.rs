//! Reading CSV exports as they come out of a CRM: the mapping file that renames an export's
//! own columns to snapshot paths and declares its number and date formats, and the cell
//! parsers that turn `$95,000`, `1,200` or `03/15/2027` into snapshot values.
//!
//! ```toml
//! kind = "accounts"            # optional: detected from the columns otherwise
//! date_format = "%m/%d/%Y"     # strftime-style; default YYYY-MM-DD
//! thousands_separator = ","    # default ","
//! decimal_separator = "."      # default "."
//! delimiter = ","              # default "," ("\t" for .tsv)
//! unmapped = "error"           # or "ignore": columns neither mapped nor snapshot paths
//! ignore = ["Owner Email"]
//! true_values = ["Active"]     # added to true/yes/y/1
//! false_values = ["Inactive"]  # added to false/no/n/0
//!
//! [columns]
//! "Account ID" = "id"
//! "Annual Recurring Revenue" = "contract.arr"
//! "Signed On" = { path = "as_of", date_format = "%d.%m.%Y" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::model::Day;

/// The type of a scalar snapshot field, which decides how a cell is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Text,
    Int,
    Num,
    Money,
    Bool,
    Date,
}

/// Every scalar path a one-row-per-account CSV may carry.
pub const ACCOUNT_PATHS: &[(&str, Ty)] = &[
    ("id", Ty::Text),
    ("name", Ty::Text),
    ("segment", Ty::Text),
    ("csm", Ty::Text),
    ("account_executive", Ty::Text),
    ("currency", Ty::Text),
    ("as_of", Ty::Date),
    ("contract.arr", Ty::Money),
    ("contract.licensed_seats", Ty::Int),
    ("contract.price_per_seat", Ty::Money),
    ("contract.plan", Ty::Text),
    ("contract.renewal_date", Ty::Date),
    ("contract.renewal_contentious", Ty::Bool),
    ("contract.planning_month", Ty::Int),
    ("usage.active_users", Ty::Int),
    ("health.score", Ty::Num),
    ("health.components.adoption", Ty::Num),
    ("health.components.engagement", Ty::Num),
    ("health.components.relationship", Ty::Num),
    ("health.components.value", Ty::Num),
    ("health.components.commercial", Ty::Num),
    ("health.relationship.responsive", Ty::Bool),
    ("health.relationship.engaged", Ty::Bool),
    ("health.relationship.sponsor", Ty::Text),
    ("health.relationship.executive_sponsor_confirmed", Ty::Bool),
    ("health.relationship.champion", Ty::Text),
    ("health.relationship_score", Ty::Num),
    ("health.value_score", Ty::Num),
    ("offer.type", Ty::Text),
    ("offer.seats", Ty::Int),
    ("offer.price_per_seat", Ty::Money),
    ("offer.target_plan", Ty::Text),
    ("offer.target_price_per_seat", Ty::Money),
    ("offer.tier_premium_pct", Ty::Num),
    ("offer.module", Ty::Text),
    ("offer.module_price", Ty::Money),
    ("offer.module_price_per_seat", Ty::Money),
    ("offer.product", Ty::Text),
    ("offer.product_price", Ty::Money),
    ("offer.term_years", Ty::Int),
    ("offer.uplift_pct", Ty::Num),
    ("offer.technical_capacity", Ty::Text),
];

/// A long-format CSV: one row per list item, `account` naming the account by id or name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongKind {
    History,
    Signals,
    Events,
    Goals,
    ChurnSignals,
    Features,
    Limits,
}

impl LongKind {
    pub const ALL: [LongKind; 7] = [
        LongKind::History,
        LongKind::Signals,
        LongKind::Events,
        LongKind::Goals,
        LongKind::ChurnSignals,
        LongKind::Features,
        LongKind::Limits,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LongKind::History => "history",
            LongKind::Signals => "signals",
            LongKind::Events => "events",
            LongKind::Goals => "goals",
            LongKind::ChurnSignals => "churn_signals",
            LongKind::Features => "features",
            LongKind::Limits => "limits",
        }
    }

    /// The snapshot list the rows go to, for error paths.
    pub fn list_path(self) -> &'static str {
        match self {
            LongKind::History => "usage.history",
            LongKind::Signals => "signals",
            LongKind::Events => "events",
            LongKind::Goals => "health.goals",
            LongKind::ChurnSignals => "health.churn_signals",
            LongKind::Features => "usage.features",
            LongKind::Limits => "usage.limits",
        }
    }

    /// Columns besides `account`: (name, type, required).
    pub fn fields(self) -> &'static [(&'static str, Ty, bool)] {
        match self {
            LongKind::History => &[("date", Ty::Date, true), ("active_users", Ty::Int, true)],
            LongKind::Signals => &[
                ("kind", Ty::Text, true),
                ("date", Ty::Date, true),
                ("evidence", Ty::Text, true),
                ("source", Ty::Text, true),
                ("quote", Ty::Text, false),
                ("feature", Ty::Text, false),
                ("tier", Ty::Text, false),
                ("team_size", Ty::Int, false),
                ("users_with_access", Ty::Int, false),
                ("product", Ty::Text, false),
                ("module", Ty::Text, false),
                ("metric", Ty::Text, false),
            ],
            LongKind::Events => &[
                ("kind", Ty::Text, true),
                ("date", Ty::Date, true),
                ("detail", Ty::Text, false),
                ("open", Ty::Bool, false),
                ("until", Ty::Date, false),
            ],
            LongKind::Goals => &[("goal", Ty::Text, true), ("status", Ty::Text, true)],
            LongKind::ChurnSignals => &[
                ("kind", Ty::Text, true),
                ("detail", Ty::Text, false),
                ("since", Ty::Date, false),
                ("active", Ty::Bool, false),
            ],
            LongKind::Features => &[
                ("name", Ty::Text, true),
                ("core", Ty::Bool, false),
                ("active_users", Ty::Int, false),
            ],
            LongKind::Limits => &[
                ("metric", Ty::Text, true),
                ("used", Ty::Num, true),
                ("limit", Ty::Num, true),
                ("period", Ty::Text, false),
            ],
        }
    }

    pub fn from_name(s: &str) -> Option<LongKind> {
        LongKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// One mapped column.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    Path(String),
    Detailed {
        path: String,
        #[serde(default)]
        date_format: Option<String>,
    },
}

impl ColumnSpec {
    pub fn path(&self) -> &str {
        match self {
            ColumnSpec::Path(p) | ColumnSpec::Detailed { path: p, .. } => p,
        }
    }
    pub fn date_format(&self) -> Option<&str> {
        match self {
            ColumnSpec::Path(_) => None,
            ColumnSpec::Detailed { date_format, .. } => date_format.as_deref(),
        }
    }
}

/// The mapping file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// `accounts`, or a long format: `history`, `signals`, `events`, `goals`,
    /// `churn_signals`, `features`, `limits`.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub date_format: Option<String>,
    #[serde(default)]
    pub thousands_separator: Option<String>,
    #[serde(default)]
    pub decimal_separator: Option<String>,
    #[serde(default)]
    pub delimiter: Option<String>,
    /// `error` (default) or `ignore`.
    #[serde(default)]
    pub unmapped: Option<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub true_values: Vec<String>,
    #[serde(default)]
    pub false_values: Vec<String>,
    /// Export column -> snapshot path (or column of a long format).
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
}

impl Mapping {
    /// Reads and checks a mapping file's text; errors name the key that is wrong.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if let Some(k) = &m.kind
            && k != "accounts"
            && LongKind::from_name(k).is_none()
        {
            return Err(format!(
                "kind `{k}` is not one of accounts, history, signals, events, goals, churn_signals, features, limits"
            ));
        }
        for (name, v) in [
            ("thousands_separator", &m.thousands_separator),
            ("decimal_separator", &m.decimal_separator),
            ("delimiter", &m.delimiter),
        ] {
            if let Some(s) = v
                && s.chars().count() != 1
            {
                return Err(format!("{name} must be one character (got {s:?})"));
            }
        }
        if let Some(u) = &m.unmapped
            && u != "error"
            && u != "ignore"
        {
            return Err(format!("unmapped must be `error` or `ignore` (got {u:?})"));
        }
        if m.decimal_separator.is_some() && m.decimal_separator == m.thousands_separator {
            return Err("decimal_separator and thousands_separator must differ".into());
        }
        for f in m
            .columns
            .values()
            .filter_map(ColumnSpec::date_format)
            .chain(m.date_format.as_deref())
        {
            check_date_format(f)?;
        }
        Ok(m)
    }

    pub fn formats(&self) -> Formats {
        Formats {
            date_format: self.date_format.clone(),
            thousands: self
                .thousands_separator
                .as_deref()
                .and_then(|s| s.chars().next())
                .unwrap_or(','),
            decimal: self
                .decimal_separator
                .as_deref()
                .and_then(|s| s.chars().next())
                .unwrap_or('.'),
            true_values: self.true_values.iter().map(|s| s.to_lowercase()).collect(),
            false_values: self.false_values.iter().map(|s| s.to_lowercase()).collect(),
        }
    }
}

fn check_date_format(f: &str) -> Result<(), String> {
    let probe = jiff::civil::date(2027, 3, 15);
    let shown = jiff::fmt::strtime::format(f, probe)
        .map_err(|e| format!("date_format {f:?} is invalid: {e}"))?;
    let back = jiff::fmt::strtime::parse(f, &shown)
        .and_then(|t| t.to_date())
        .map_err(|e| format!("date_format {f:?} cannot be read back: {e}"))?;
    if back != probe {
        return Err(format!("date_format {f:?} does not hold a whole date"));
    }
    Ok(())
}

/// How numbers, dates and booleans are written in one file.
#[derive(Clone, Debug)]
pub struct Formats {
    pub date_format: Option<String>,
    pub thousands: char,
    pub decimal: char,
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
}

impl Default for Formats {
    fn default() -> Formats {
        Mapping::default().formats()
    }
}

/// A number as written in an export: currency symbols and codes, spaces and thousands
/// separators are dropped; a trailing `%` is allowed.
fn number(cell: &str, f: &Formats) -> Result<f64, String> {
    let mut s = String::with_capacity(cell.len());
    let body = cell.trim();
    let body = body.strip_suffix('%').unwrap_or(body).trim_end();
    // A leading ISO currency code, as in `USD 1,234.50`.
    let body = match (body.get(..3), body.get(3..)) {
        (Some(code), Some(rest))
            if !rest.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            rest.trim_start()
        }
        _ => body,
    };
    for c in body.chars() {
        if c == f.thousands || c.is_whitespace() || matches!(c, '$' | '€' | '£' | '¥' | '\u{a0}')
        {
            continue;
        }
        if c == f.decimal {
            s.push('.');
        } else {
            s.push(c);
        }
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err(format!("`{cell}` is not a number"));
    }
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("`{cell}` is not a number"))
}

/// Parses one cell into the JSON value the snapshot field takes. `None` for an empty cell:
/// missing means unknown.
pub fn cell_value(
    cell: &str,
    ty: Ty,
    f: &Formats,
    date_format: Option<&str>,
) -> Result<Option<Value>, String> {
    let t = cell.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v = match ty {
        Ty::Text => Value::String(t.to_string()),
        Ty::Num | Ty::Money => {
            let x = number(t, f)?;
            serde_json::Number::from_f64(x)
                .map(Value::Number)
                .ok_or_else(|| format!("`{t}` is not a number"))?
        }
        Ty::Int => {
            let x = number(t, f)?;
            if x.fract() != 0.0 || x < 0.0 || x > f64::from(u32::MAX) {
                return Err(format!("must be a whole number >= 0 (got `{t}`)"));
            }
            Value::from(x as u64)
        }
        Ty::Bool => {
            let l = t.to_lowercase();
            if ["true", "yes", "y", "1", "t"].contains(&l.as_str()) || f.true_values.contains(&l) {
                Value::Bool(true)
            } else if ["false", "no", "n", "0", "f"].contains(&l.as_str())
                || f.false_values.contains(&l)
            {
                Value::Bool(false)
            } else {
                return Err(format!(
                    "`{t}` is not a yes/no value (true/false, yes/no, 1/0)"
                ));
            }
        }
        Ty::Date => Value::String(date(t, date_format.or(f.date_format.as_deref()))?.to_string()),
    };
    Ok(Some(v))
}

/// A date in the declared format, or YYYY-MM-DD.
pub fn date(t: &str, format: Option<&str>) -> Result<Day, String> {
    match format {
        None => Day::parse(t),
        Some(fmt) => jiff::fmt::strtime::parse(fmt, t)
            .and_then(|p| p.to_date())
            .map(Day)
            .map_err(|e| format!("`{t}` is not a real date in the format {fmt:?} ({e})")),
    }
}

/// A whole number cell, for the fast history path.
pub fn int(cell: &str, f: &Formats) -> Result<u32, String> {
    let t = cell.trim();
    if let Ok(n) = t.parse::<u32>() {
        return Ok(n);
    }
    match cell_value(t, Ty::Int, f, None)? {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("must be a whole number >= 0 (got `{t}`)")),
        _ => Err("is required".into()),
    }
}

/// Sets `path` (dotted) in a JSON object, creating the objects on the way.
pub fn set_path(obj: &mut serde_json::Map<String, Value>, path: &str, v: Option<Value>) {
    match path.split_once('.') {
        None => match v {
            Some(v) => {
                obj.insert(path.to_string(), v);
            }
            None => {
                obj.remove(path);
            }
        },
        Some((head, rest)) => {
            let entry = obj
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, v);
                if inner.is_empty() && head == "offer" {
                    obj.remove(head);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crm_numbers_and_dates() {
        let f = Formats::default();
        assert_eq!(
            cell_value("$95,000", Ty::Money, &f, None).unwrap(),
            Some(Value::from(95000.0))
        );
        assert_eq!(
            cell_value("1,200", Ty::Int, &f, None).unwrap(),
            Some(Value::from(1200_u64))
        );
        assert_eq!(
            cell_value("USD 1,234.50", Ty::Money, &f, None).unwrap(),
            Some(Value::from(1234.5))
        );
        assert!(cell_value("12.5", Ty::Int, &f, None).is_err());
        assert!(cell_value("abc", Ty::Num, &f, None).is_err());
        assert_eq!(cell_value("  ", Ty::Num, &f, None).unwrap(), None);
        assert_eq!(
            cell_value("03/15/2027", Ty::Date, &f, Some("%m/%d/%Y")).unwrap(),
            Some(Value::from("2027-03-15"))
        );
        assert!(cell_value("02/30/2027", Ty::Date, &f, Some("%m/%d/%Y")).is_err());
        let eu = Formats {
            thousands: '.',
            decimal: ',',
            ..Formats::default()
        };
        assert_eq!(
            cell_value("€1.234,56", Ty::Money, &eu, None).unwrap(),
            Some(Value::from(1234.56))
        );
    }

    #[test]
    fn mapping_errors_name_the_key() {
        assert!(
            Mapping::from_toml("kind = \"nope\"")
                .unwrap_err()
                .contains("kind")
        );
        assert!(
            Mapping::from_toml("date_format = \"%Q\"")
                .unwrap_err()
                .contains("date_format")
        );
        assert!(Mapping::from_toml("colums = {}").is_err());
    }
}
