//! `import --suggest-map FILE`: a commented starting mapping file for a CSV export. Each
//! column is matched to the likeliest snapshot path by its name (and the names exports
//! commonly use) and checked against its sample values; a column that matches nothing, or
//! whose values do not fit, is listed under `ignore` with the reason.

use std::collections::HashSet;
use std::path::Path;

use super::csv_source::{Next, Source, preview};
use super::mapping::{self, ACCOUNT_PATHS, Formats, Ty, is_company_revenue};
use crate::model::InputError;

/// Rows looked at for sample values.
const SAMPLE_ROWS: usize = 200;

/// Names exports use for each path, normalised (lowercase letters and digits only).
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "id",
        &[
            "id",
            "accountid",
            "recordid",
            "companyid",
            "gsid",
            "customerid",
            "crmid",
            "sfid",
        ],
    ),
    (
        "name",
        &[
            "name",
            "accountname",
            "companyname",
            "company",
            "customername",
            "customer",
        ],
    ),
    (
        "segment",
        &[
            "segment",
            "customersegment",
            "accountsegment",
            "marketsegment",
        ],
    ),
    (
        "csm",
        &[
            "csm",
            "customersuccessmanager",
            "successmanager",
            "csmname",
            "csmowner",
        ],
    ),
    (
        "account_executive",
        &[
            "accountowner",
            "companyowner",
            "owner",
            "accountexecutive",
            "ae",
            "salesowner",
        ],
    ),
    (
        "currency",
        &[
            "currency",
            "accountcurrency",
            "currencycode",
            "contractcurrency",
            "currencyisocode",
        ],
    ),
    (
        "as_of",
        &[
            "asof",
            "asofdate",
            "snapshotdate",
            "exportdate",
            "reportdate",
        ],
    ),
    (
        "contract.arr",
        &[
            "arr",
            "annualrecurringrevenue",
            "contractarr",
            "currentarr",
            "arrusd",
        ],
    ),
    (
        "contract.licensed_seats",
        &[
            "licensedseats",
            "seats",
            "licenses",
            "licences",
            "paidseats",
            "licensecount",
            "seatspurchased",
        ],
    ),
    (
        "contract.price_per_seat",
        &["priceperseat", "seatprice", "annualpriceperseat"],
    ),
    (
        "contract.plan",
        &["plan", "edition", "subscriptionplan", "producttier", "tier"],
    ),
    (
        "contract.renewal_date",
        &[
            "renewaldate",
            "contractrenewaldate",
            "nextrenewaldate",
            "renewal",
        ],
    ),
    (
        "contract.renewal_contentious",
        &[
            "renewalatrisk",
            "renewalrisk",
            "contentiousrenewal",
            "atrisk",
        ],
    ),
    (
        "contract.planning_month",
        &["budgetmonth", "planningmonth", "fiscalyearstartmonth"],
    ),
    (
        "usage.active_users",
        &[
            "activeusers",
            "activeusers30d",
            "activeusers30days",
            "mau",
            "monthlyactiveusers",
            "users",
            "uniqueusers",
        ],
    ),
    (
        "health.score",
        &[
            "healthscore",
            "health",
            "currentscore",
            "overallscore",
            "accounthealth",
            "score",
        ],
    ),
    ("health.components.adoption", &["adoption", "adoptionscore"]),
    (
        "health.components.engagement",
        &["engagement", "engagementscore"],
    ),
    ("health.components.relationship", &["relationship"]),
    ("health.components.value", &["value"]),
    (
        "health.components.commercial",
        &["commercial", "commercialscore"],
    ),
    ("health.relationship.responsive", &["responsive"]),
    ("health.relationship.engaged", &["engaged"]),
    (
        "health.relationship.sponsor",
        &["sponsor", "executivesponsor"],
    ),
    (
        "health.relationship.executive_sponsor_confirmed",
        &[
            "execsponsorconfirmed",
            "executivesponsorconfirmed",
            "sponsorconfirmed",
        ],
    ),
    ("health.relationship.champion", &["champion"]),
    ("health.relationship_score", &["relationshipscore"]),
    ("health.value_score", &["valuescore"]),
];

/// A usage export: one reading per account and day.
const HISTORY: &[(&str, &[&str])] = &[
    (
        "account",
        &[
            "account",
            "accountid",
            "companyid",
            "groupid",
            "company",
            "accountname",
            "customerid",
        ],
    ),
    ("date", &["date", "day", "week", "readingdate"]),
    (
        "active_users",
        &[
            "activeusers",
            "uniqueusers",
            "uniques",
            "users",
            "dau",
            "wau",
            "mau",
        ],
    ),
];

fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What the sample values of a column look like.
#[derive(Default)]
struct Profile {
    values: Vec<String>,
}

/// The date format a column's values fit, when they are dates.
fn date_format(values: &[String]) -> Option<&'static str> {
    let candidates = [
        "%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%y", "%d-%m-%Y",
    ];
    candidates.into_iter().find(|f| {
        !values.is_empty()
            && values.iter().all(|v| {
                jiff::fmt::strtime::parse(f, v)
                    .and_then(|p| p.to_date())
                    .is_ok()
            })
    })
}

/// The separators the numbers of a file are written with: European when some number is
/// grouped with `.` or has a `,` before one or two final digits.
fn separators(numbers: &[&str]) -> (char, char) {
    let eu = numbers.iter().any(|v| {
        let digits: String = v
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            .collect();
        let dot_groups = digits.split('.').count() > 1
            && digits.split(',').next().is_some_and(|int| {
                int.split('.').skip(1).all(|g| g.len() == 3) && int.contains('.')
            });
        let comma_decimal = digits
            .rsplit_once(',')
            .is_some_and(|(_, d)| (1..=2).contains(&d.len()) && !digits.contains('.'));
        dot_groups || comma_decimal
    });
    if eu { ('.', ',') } else { (',', '.') }
}

fn fits(values: &[String], ty: Ty, f: &Formats, date_fmt: Option<&str>) -> bool {
    values
        .iter()
        .all(|v| mapping::read_cell(v, ty, f, date_fmt).is_ok())
}

/// The type a column's values fit best, for columns whose name says nothing.
fn value_kind(values: &[String], f: &Formats) -> Option<&'static str> {
    if values.is_empty() {
        return None;
    }
    if date_format(values).is_some() {
        return Some("dates");
    }
    if values.iter().any(|v| v.contains(['$', '€', '£'])) && fits(values, Ty::Money, f, None) {
        return Some("money");
    }
    if fits(values, Ty::Int, f, None) {
        return Some("whole numbers");
    }
    if fits(values, Ty::Num, f, None) {
        return Some("numbers");
    }
    if fits(values, Ty::Bool, f, None) {
        return Some("yes/no values");
    }
    None
}

fn paths_of(kind: &str) -> Vec<&'static str> {
    let ty = match kind {
        "dates" => Ty::Date,
        "money" => Ty::Money,
        "whole numbers" => Ty::Int,
        "numbers" => Ty::Num,
        "yes/no values" => Ty::Bool,
        _ => return vec![],
    };
    ACCOUNT_PATHS
        .iter()
        .filter(|(_, t)| *t == ty)
        .map(|(p, _)| *p)
        .take(4)
        .collect()
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn examples(values: &[String]) -> String {
    let mut seen = HashSet::new();
    let shown: Vec<String> = values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .take(3)
        .map(|v| format!("`{}`", preview(v)))
        .collect();
    if shown.is_empty() {
        "no values in the sample".into()
    } else {
        format!("e.g. {}", shown.join(", "))
    }
}

/// The delimiter of a CSV export: the most frequent of `,` `;` tab on its first lines.
fn sniff_delimiter(file: &Path) -> Result<u8, InputError> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| {
            InputError::one(
                "--suggest-map",
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
    let count = |b: u8| head.iter().filter(|x| **x == b).count();
    let ext_tab = file.extension().and_then(|e| e.to_str()) == Some("tsv");
    Ok([b',', b';', b'\t']
        .into_iter()
        .max_by_key(|b| (count(*b), ext_tab && *b == b'\t', *b == b','))
        .unwrap_or(b','))
}

/// Writes the suggested mapping file for `file`.
pub fn suggest_map(file: &Path) -> Result<String, InputError> {
    let delimiter = sniff_delimiter(file)?;
    let reader = std::fs::File::open(file)
        .map(|f| std::io::BufReader::with_capacity(1 << 16, f))
        .map_err(|e| {
            InputError::one(
                "--suggest-map",
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
    let mut src = Source::new(reader, delimiter, u64::MAX);
    let synonyms: HashSet<String> = SYNONYMS
        .iter()
        .chain(HISTORY)
        .flat_map(|(_, names)| names.iter().map(|n| n.to_string()))
        .collect();
    let known = |c: &str| synonyms.contains(&norm(c));
    let (_, header) = match src.header(&known) {
        Ok(Some(h)) => h,
        Ok(None) => {
            return Err(InputError::one(
                "--suggest-map",
                format!("{} has no header row", file.display()),
            ));
        }
        Err((line, e)) => {
            return Err(InputError::one(
                "--suggest-map",
                format!("{} line {line}: {e}", file.display()),
            ));
        }
    };
    let columns: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let mut profiles: Vec<Profile> = columns.iter().map(|_| Profile::default()).collect();
    let mut rows = 0;
    let mut ids: Vec<String> = Vec::new();
    while rows < SAMPLE_ROWS {
        match src.next_row() {
            Next::Row(_, r) => {
                rows += 1;
                for (p, cell) in profiles.iter_mut().zip(r.iter()) {
                    let t = cell.trim();
                    if !t.is_empty() {
                        p.values.push(t.to_string());
                    }
                }
                if let Some(first) = r.get(0) {
                    ids.push(first.trim().to_string());
                }
            }
            Next::Bad(..) => rows += 1,
            Next::End => break,
        }
    }
    let numbers: Vec<&str> = profiles
        .iter()
        .flat_map(|p| p.values.iter())
        .filter(|v| {
            v.chars().any(|c| c.is_ascii_digit())
                && !v.chars().any(char::is_alphabetic)
                && !v.contains(['/', '-', ':'])
        })
        .map(String::as_str)
        .collect();
    let (thousands, decimal) = separators(&numbers);
    let formats = Formats {
        thousands,
        decimal,
        ..Formats::default()
    };
    // A usage export: an account column, a date column and an active-users column, and an
    // account that repeats.
    let history_match = |target: &str| {
        columns.iter().position(|c| {
            HISTORY
                .iter()
                .find(|(p, _)| *p == target)
                .is_some_and(|(_, names)| names.contains(&norm(c).as_str()))
        })
    };
    let repeats = {
        let distinct: HashSet<&String> = ids.iter().collect();
        distinct.len() < ids.len()
    };
    let history = match (
        history_match("account"),
        history_match("date"),
        history_match("active_users"),
    ) {
        (Some(a), Some(d), Some(u)) if repeats && columns.len() <= 6 => Some((a, d, u)),
        _ => None,
    };

    let mut mapped: Vec<String> = Vec::new();
    let mut ignored: Vec<(String, String)> = Vec::new();
    let mut used: HashSet<&str> = HashSet::new();
    let mut date_formats: Vec<&'static str> = Vec::new();
    for (i, (col, p)) in columns.iter().zip(&profiles).enumerate() {
        if col.is_empty() {
            continue;
        }
        let n = norm(col);
        let target: Option<(&'static str, Ty)> = match history {
            Some((a, d, u)) => {
                if i == a {
                    Some(("account", Ty::Text))
                } else if i == d {
                    Some(("date", Ty::Date))
                } else if i == u {
                    Some(("active_users", Ty::Int))
                } else {
                    None
                }
            }
            None => ACCOUNT_PATHS
                .iter()
                .find(|(path, _)| norm(path) == n || *path == col.as_str())
                .or_else(|| {
                    SYNONYMS
                        .iter()
                        .find(|(_, names)| names.contains(&n.as_str()))
                        .and_then(|(path, _)| ACCOUNT_PATHS.iter().find(|(p, _)| p == path))
                })
                .map(|(p, t)| (*p, *t)),
        };
        if history.is_none() && is_company_revenue(col) {
            ignored.push((
                col.clone(),
                format!(
                    "the company's own revenue ({}), not the ARR it pays you: map your ARR column to contract.arr instead",
                    examples(&p.values)
                ),
            ));
            continue;
        }
        let Some((path, ty)) = target else {
            let why = match value_kind(&p.values, &formats) {
                Some(kind) if !paths_of(kind).is_empty() && history.is_none() => format!(
                    "no snapshot path is named like it; its values are {kind} ({}): if it is one of {}, map it (see `expansion-planner columns`)",
                    examples(&p.values),
                    paths_of(kind).join(", ")
                ),
                _ => format!(
                    "no snapshot path is named like it ({})",
                    examples(&p.values)
                ),
            };
            ignored.push((col.clone(), why));
            continue;
        };
        if !used.insert(path) {
            ignored.push((
                col.clone(),
                format!("`{path}` is already mapped from an earlier column"),
            ));
            continue;
        }
        let fmt = if ty == Ty::Date {
            date_format(&p.values)
        } else {
            None
        };
        if ty == Ty::Date && fmt.is_none() && !p.values.is_empty() {
            ignored.push((
                col.clone(),
                format!(
                    "named like `{path}`, but its values are not dates in a format recognised ({})",
                    examples(&p.values)
                ),
            ));
            continue;
        }
        if let Some(f) = fmt {
            date_formats.push(f);
        }
        if ty != Ty::Date && !fits(&p.values, ty, &formats, None) {
            ignored.push((
                col.clone(),
                format!(
                    "named like `{path}`, but its values do not fit a {} ({}): add a `[values.{}]` map or fix the export",
                    match ty {
                        Ty::Int => "whole number",
                        Ty::Num => "number",
                        Ty::Money => "money amount",
                        Ty::Bool => "yes/no value",
                        _ => "text",
                    },
                    examples(&p.values),
                    quote(col)
                ),
            ));
            used.remove(path);
            continue;
        }
        mapped.push(format!(
            "{} = {}{}   # {}",
            quote(col),
            match fmt {
                Some(f) if date_formats.first() != Some(&f) => {
                    format!("{{ path = {}, date_format = {} }}", quote(path), quote(f))
                }
                _ => quote(path),
            },
            "",
            if p.values.is_empty() {
                "empty in the sample".to_string()
            } else {
                examples(&p.values)
            }
        ));
    }

    let mut out = format!(
        "# A mapping file suggested for {} by `expansion-planner import --suggest-map`.\n# Check every line: columns were matched to snapshot paths by name and sample values\n# ({} rows read). `expansion-planner columns` lists every path with its meaning.\n",
        file.file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
        rows
    );
    out.push_str(&format!(
        "kind = {}\n",
        quote(if history.is_some() {
            "history"
        } else {
            "accounts"
        })
    ));
    if let Some(f) = date_formats.first() {
        out.push_str(&format!("date_format = {}\n", quote(f)));
    }
    out.push_str(&format!(
        "thousands_separator = {}\ndecimal_separator = {}\n",
        quote(&thousands.to_string()),
        quote(&decimal.to_string())
    ));
    if delimiter != b',' {
        out.push_str(&format!(
            "delimiter = {}\n",
            quote(&char::from(delimiter).to_string())
        ));
    }
    out.push_str(
        "# optional = true   # uncomment when some exports lack some of the columns below\n",
    );
    if !ignored.is_empty() {
        out.push_str("\n# Not imported:\n");
        for (c, why) in &ignored {
            out.push_str(&format!("#   {}: {why}\n", quote(c)));
        }
        out.push_str(&format!(
            "ignore = [{}]\n",
            ignored
                .iter()
                .map(|(c, _)| quote(c))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push_str("\n[columns]\n");
    for m in mapped {
        out.push_str(&m);
        out.push('\n');
    }
    out.push_str(
        "\n# Value maps rewrite a column's values before they are read, e.g.\n# [values.\"Renewal Risk\"]\n# \"At Risk\" = \"yes\"\n",
    );
    Ok(out)
}
