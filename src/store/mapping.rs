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
//! optional = true              # every mapped column may be missing from the file
//! ignore = ["Owner Email"]
//! true_values = ["Active"]     # added to true/yes/y/1
//! false_values = ["Inactive"]  # added to false/no/n/0
//!
//! [columns]
//! "Account ID" = "id"
//! "Annual Recurring Revenue" = "contract.arr"
//! "Signed On" = { path = "as_of", date_format = "%d.%m.%Y" }
//! "Champion" = { path = "health.relationship.champion", optional = true }
//!
//! [values."Goal Status"]       # a column's values rewritten before they are read
//! "On Track" = "on_track"
//! ```
//!
//! Numbers are read strictly (see [`read_cell`]): a cell that does not fit the declared
//! separators, or money in another currency than the account's, is refused, never read as
//! another number.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::model::Day;
use crate::model::values::quote;

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
    Detailed(Detailed),
}

/// A mapped column with options.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detailed {
    pub path: String,
    #[serde(default)]
    pub date_format: Option<String>,
    /// The file may lack this column: then the field is left as stored.
    #[serde(default)]
    pub optional: bool,
    /// Says that a column named like a company's revenue (`Annual Revenue`) really holds
    /// the ARR of the contract, so it may go to `contract.arr`.
    #[serde(default)]
    pub revenue_is_arr: bool,
}

impl ColumnSpec {
    pub fn path(&self) -> &str {
        match self {
            ColumnSpec::Path(p) | ColumnSpec::Detailed(Detailed { path: p, .. }) => p,
        }
    }
    pub fn date_format(&self) -> Option<&str> {
        match self {
            ColumnSpec::Path(_) => None,
            ColumnSpec::Detailed(d) => d.date_format.as_deref(),
        }
    }
    fn optional(&self) -> bool {
        matches!(self, ColumnSpec::Detailed(d) if d.optional)
    }
    fn revenue_is_arr(&self) -> bool {
        matches!(self, ColumnSpec::Detailed(d) if d.revenue_is_arr)
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
    /// Every mapped column may be missing from the file (one map for similar exports).
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub true_values: Vec<String>,
    #[serde(default)]
    pub false_values: Vec<String>,
    /// Export column -> snapshot path (or column of a long format).
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
    /// Export column -> (value as written -> value to import), applied before a cell is
    /// read: `[values."Goal Status"] "On Track" = "on_track"`.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

/// Whether a column's name says it holds the company's own revenue (HubSpot's and
/// Salesforce's `Annual Revenue`), which is not what the company pays you.
pub fn is_company_revenue(column: &str) -> bool {
    let n: String = column
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    n.contains("annualrevenue")
        || matches!(
            n.as_str(),
            "revenue" | "totalrevenue" | "companyrevenue" | "annualsales" | "sales"
        )
}

impl Mapping {
    /// Reads and checks a mapping file's text; errors name the key that is wrong.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = 1 + text.get(..s.start).unwrap_or("").matches('\n').count();
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message().trim_end())
        })?;
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
        if let Some(d) = &m.delimiter
            && !d.is_ascii()
        {
            return Err(format!(
                "delimiter must be an ASCII character such as \",\", \";\" or \"\\t\" (got {d:?})"
            ));
        }
        if let Some(u) = &m.unmapped
            && u != "error"
            && u != "ignore"
        {
            return Err(format!("unmapped must be `error` or `ignore` (got {u:?})"));
        }
        if m.formats().decimal == m.formats().thousands {
            return Err(format!(
                "decimal_separator and thousands_separator must differ (both {:?})",
                m.formats().decimal.to_string()
            ));
        }
        for f in m
            .columns
            .values()
            .filter_map(ColumnSpec::date_format)
            .chain(m.date_format.as_deref())
        {
            check_date_format(f)?;
        }
        for (column, spec) in &m.columns {
            if spec.path().trim() == "contract.arr"
                && is_company_revenue(column)
                && !spec.revenue_is_arr()
            {
                return Err(format!(
                    "column `{column}` is mapped to contract.arr, but a column of that name holds the company's own revenue (in HubSpot and Salesforce, `Annual Revenue` is how much the customer earns), not the ARR it pays you: map your ARR property instead, or write `\"{column}\" = {{ path = \"contract.arr\", revenue_is_arr = true }}` if this column really holds ARR"
                ));
            }
        }
        Ok(m)
    }

    /// Whether the file may lack `column`.
    pub fn is_optional(&self, column: &str) -> bool {
        self.optional || self.columns.get(column).is_some_and(ColumnSpec::optional)
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

/// The value map of one column: written value (trimmed; exact match first, then ignoring
/// case) to the value imported.
#[derive(Clone, Debug, Default)]
pub struct ValueMap {
    exact: HashMap<String, String>,
    folded: HashMap<String, String>,
}

impl ValueMap {
    pub fn new(m: &BTreeMap<String, String>) -> ValueMap {
        let mut v = ValueMap::default();
        for (from, to) in m {
            v.exact.insert(from.trim().to_string(), to.clone());
            v.folded.insert(from.trim().to_lowercase(), to.clone());
        }
        v
    }

    pub fn apply<'a>(&'a self, cell: &'a str) -> &'a str {
        let t = cell.trim();
        if self.exact.is_empty() {
            return t;
        }
        self.exact
            .get(t)
            .or_else(|| self.folded.get(&t.to_lowercase()))
            .map(String::as_str)
            .unwrap_or(t)
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

impl Formats {
    /// A number written the way this file must write it, for messages.
    fn example(&self) -> String {
        let t = if self.thousands == ' ' {
            "␣".to_string()
        } else {
            self.thousands.to_string()
        };
        format!("1{t}234{}50", self.decimal)
    }

    fn declared(&self) -> String {
        format!(
            "thousands_separator {:?}, decimal_separator {:?}",
            self.thousands.to_string(),
            self.decimal.to_string()
        )
    }
}

/// Currency symbols as exports write them, longest first, with the ISO codes each may
/// stand for.
const SYMBOLS: &[(&str, &[&str])] = &[
    ("US$", &["USD"]),
    ("CA$", &["CAD"]),
    ("AU$", &["AUD"]),
    ("NZ$", &["NZD"]),
    ("HK$", &["HKD"]),
    ("R$", &["BRL"]),
    ("C$", &["CAD"]),
    ("A$", &["AUD"]),
    ("S$", &["SGD"]),
    ("$", &["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("¥", &["JPY", "CNY"]),
    ("₹", &["INR"]),
    ("₩", &["KRW"]),
    ("zł", &["PLN"]),
    ("kr", &["SEK", "NOK", "DKK", "ISK"]),
];

/// A currency as a money cell wrote it: a symbol or an ISO code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written(pub String);

impl Written {
    /// Whether this symbol or code can be an amount in `currency` (an ISO code).
    pub fn fits(&self, currency: &str) -> bool {
        let c = currency.trim().to_ascii_uppercase();
        match SYMBOLS.iter().find(|(s, _)| *s == self.0) {
            Some((_, codes)) => codes.contains(&c.as_str()),
            None => self.0 == c,
        }
    }
}

fn is_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Splits a leading or trailing currency symbol or ISO code off a trimmed cell (a leading
/// minus sign may stand before it; the caller reads the sign).
fn split_currency(t: &str) -> Result<(&str, Option<Written>), String> {
    let body = t.strip_prefix('-').map(str::trim_start).unwrap_or(t);
    let mut found: Option<(&str, &str)> = None;
    for (sym, _) in SYMBOLS {
        if let Some(rest) = body.strip_prefix(sym) {
            found = Some((sym, rest.trim_start()));
        } else if let Some(rest) = body.strip_suffix(sym) {
            found = Some((sym, rest.trim_end()));
        }
        if found.is_some() {
            break;
        }
    }
    if found.is_none() {
        let n = body.len();
        if let (Some(code), Some(rest)) = (body.get(..3), body.get(3..))
            && is_code(code)
        {
            found = Some((code, rest.trim_start()));
        } else if let (Some(rest), Some(code)) = (
            body.get(..n.saturating_sub(3)),
            body.get(n.saturating_sub(3)..),
        ) && is_code(code)
        {
            found = Some((code, rest.trim_end()));
        }
    }
    match found {
        None => Ok((t, None)),
        Some((_, "")) => Err(format!("{} is not a number", quote(t))),
        Some((cur, rest)) => Ok((rest, Some(Written(cur.to_string())))),
    }
}

/// A number as written in an export, read strictly with the declared separators: digits
/// grouped in threes by the thousands separator, at most one decimal separator after them.
/// Returns the value, the currency written with it and the number of decimals. Anything
/// else is refused, never read as another number: `€12.000` with `,` for thousands is not
/// 12.
fn number(cell: &str, f: &Formats) -> Result<(f64, Option<Written>, bool, usize), String> {
    let t = cell.trim();
    let (t, percent) = match t.strip_suffix('%') {
        Some(rest) => (rest.trim_end(), true),
        None => (t, false),
    };
    let (body, currency) = split_currency(t)?;
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let negative = negative || cell.trim_start().starts_with('-');
    let space_groups = f.thousands == ' ';
    let mut int = String::new();
    let mut frac: Option<String> = None;
    let mut groups: Vec<usize> = vec![0];
    for c in body.chars() {
        let is_space = c == ' ' || c == '\u{a0}' || c == '\u{202f}';
        if c.is_ascii_digit() {
            match &mut frac {
                Some(fr) => fr.push(c),
                None => {
                    int.push(c);
                    if let Some(g) = groups.last_mut() {
                        *g += 1;
                    }
                }
            }
        } else if c == f.decimal && frac.is_none() {
            frac = Some(String::new());
        } else if (c == f.thousands || space_groups && is_space) && frac.is_none() {
            groups.push(0);
        } else if c == f.thousands || c == f.decimal {
            return Err(format!(
                "{} has `{c}` after the decimal separator: it does not fit the declared {} (numbers like {} are accepted)",
                quote(cell.trim()),
                f.declared(),
                f.example()
            ));
        } else if matches!(c, '.' | ',' | '\'' | '’') || is_space {
            let shown = if is_space {
                "a space".to_string()
            } else {
                format!("`{c}`")
            };
            return Err(format!(
                "{} is written with {shown}, which is neither of the declared {}: numbers like {} are accepted; declare the separators this export uses in the mapping file",
                quote(cell.trim()),
                f.declared(),
                f.example()
            ));
        } else {
            return Err(format!(
                "{} is not a number (numbers like {} are accepted)",
                quote(cell.trim()),
                f.example()
            ));
        }
    }
    let grouped = groups.len() > 1;
    let bad_groups = grouped
        && (groups.first().is_none_or(|g| *g == 0 || *g > 3)
            || groups.iter().skip(1).any(|g| *g != 3));
    if int.is_empty() || bad_groups || frac.as_deref() == Some("") {
        return Err(format!(
            "{} does not fit the declared {}: digits are grouped in threes by the thousands separator, as in {}",
            quote(cell.trim()),
            f.declared(),
            f.example()
        ));
    }
    let decimals = frac.as_ref().map_or(0, String::len);
    let text = match &frac {
        Some(fr) => format!("{}{int}.{fr}", if negative { "-" } else { "" }),
        None => format!("{}{int}", if negative { "-" } else { "" }),
    };
    let x = text
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{} is not a number", cell.trim()))?;
    Ok((x, currency, percent, decimals))
}

/// A cell read into the JSON value the snapshot field takes, with the currency a money cell
/// was written in.
#[derive(Debug, PartialEq)]
pub struct Cell {
    pub value: Option<Value>,
    pub currency: Option<Written>,
}

/// Parses one cell into the JSON value the snapshot field takes. `None` for an empty cell:
/// missing means unknown.
pub fn cell_value(
    cell: &str,
    ty: Ty,
    f: &Formats,
    date_format: Option<&str>,
) -> Result<Option<Value>, String> {
    read_cell(cell, ty, f, date_format).map(|c| c.value)
}

/// [`cell_value`], keeping the currency a money cell was written in.
pub fn read_cell(
    cell: &str,
    ty: Ty,
    f: &Formats,
    date_format: Option<&str>,
) -> Result<Cell, String> {
    let t = cell.trim();
    let tq = quote(t);
    if t.is_empty() {
        return Ok(Cell {
            value: None,
            currency: None,
        });
    }
    let mut currency = None;
    let v = match ty {
        Ty::Text => Value::String(t.to_string()),
        Ty::Num | Ty::Money | Ty::Int => {
            let (x, cur, percent, decimals) = number(t, f)?;
            if cur.is_some() && ty != Ty::Money {
                return Err(format!(
                    "{tq} is written with a currency, but this column is not an amount of money: write the number alone"
                ));
            }
            if percent && ty != Ty::Num {
                return Err(format!(
                    "{tq} is a percentage, but this column is not one: write the number alone"
                ));
            }
            match ty {
                Ty::Money if decimals > 2 => {
                    return Err(format!(
                        "{tq} has {decimals} digits after the decimal separator {:?}, and money is kept to the cent: if {:?} groups thousands in this export, declare thousands_separator = {:?} and decimal_separator = {:?} in the mapping file (amounts like {} are accepted now)",
                        f.decimal.to_string(),
                        f.decimal.to_string(),
                        f.decimal.to_string(),
                        f.thousands.to_string(),
                        f.example()
                    ));
                }
                Ty::Num
                    if decimals == 3
                        && !t.contains(f.thousands)
                        && matches!(f.decimal, '.' | ',')
                        && x.abs() >= 1.0
                        && x.abs() < 1000.0 =>
                {
                    return Err(format!(
                        "{tq} is ambiguous: with decimal_separator {:?} it is {x}, but exports that group thousands with {:?} mean {}: write it with fewer or more decimals, or declare the separators this export uses",
                        f.decimal.to_string(),
                        f.decimal.to_string(),
                        x * 1000.0
                    ));
                }
                Ty::Int if x.fract() != 0.0 || x < 0.0 || x > f64::from(u32::MAX) => {
                    let hint = if decimals > 0 {
                        format!(
                            "; {:?} is the declared decimal separator: if it groups thousands in this export, declare thousands_separator = {:?}",
                            f.decimal.to_string(),
                            f.decimal.to_string()
                        )
                    } else {
                        String::new()
                    };
                    return Err(format!("must be a whole number >= 0 (got {tq}){hint}"));
                }
                _ => {}
            }
            currency = cur;
            if ty == Ty::Int {
                // The checks above make the cast exact.
                Value::from(x as u64)
            } else {
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{tq} is not a number"))?
            }
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
                    "{tq} is not a yes/no value: true/false, yes/no, y/n, 1/0 are accepted, and whatever true_values and false_values list in the mapping file"
                ));
            }
        }
        Ty::Date => Value::String(date(t, date_format.or(f.date_format.as_deref()))?.to_string()),
    };
    Ok(Cell {
        value: Some(v),
        currency,
    })
}

/// A date in the declared format, or YYYY-MM-DD.
pub fn date(t: &str, format: Option<&str>) -> Result<Day, String> {
    match format {
        None => Day::parse(t).map_err(|e| {
            format!("{e}; declare date_format in the mapping file if this export writes dates another way")
        }),
        Some(fmt) => jiff::fmt::strtime::parse(fmt, t)
            .and_then(|p| p.to_date())
            .map(Day)
            .map_err(|_| {
                let tq = quote(t);
                let example = jiff::fmt::strtime::format(fmt, jiff::civil::date(2027, 3, 15))
                    .unwrap_or_default();
                format!(
                    "{tq} is not a real date in the declared format {fmt:?}: dates like {example} (15 March 2027) are accepted"
                )
            }),
    }
}

/// A whole number cell, for the fast history path.
pub fn int(cell: &str, f: &Formats) -> Result<u32, String> {
    let t = cell.trim();
    let tq = quote(t);
    if let Ok(n) = t.parse::<u32>() {
        return Ok(n);
    }
    match cell_value(t, Ty::Int, f, None)? {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("must be a whole number >= 0 (got {tq})")),
        _ => Err("is required".into()),
    }
}

/// The built-in starting maps, `--map NAME`: name, what export it reads, the map.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "hubspot-companies",
        "HubSpot companies export (CRM > Companies > Export)",
        include_str!("maps/hubspot-companies.toml"),
    ),
    (
        "salesforce-accounts",
        "Salesforce account report exported as CSV (Details Only)",
        include_str!("maps/salesforce-accounts.toml"),
    ),
    (
        "gainsight-companies",
        "Gainsight CS Company report exported as CSV",
        include_str!("maps/gainsight-companies.toml"),
    ),
    (
        "totango-accounts",
        "Totango accounts export (account attributes) as CSV",
        include_str!("maps/totango-accounts.toml"),
    ),
    (
        "mixpanel-usage",
        "Mixpanel Insights daily unique users by account, exported as CSV",
        include_str!("maps/mixpanel-usage.toml"),
    ),
];

/// The built-in map a `--map` value names: a bare name (no directory, no extension) that
/// is one of [`BUILTIN`].
pub fn builtin_for(map: &std::path::Path) -> Option<&'static str> {
    let name = map.to_str()?;
    if name.contains(['/', '\\', '.']) {
        return None;
    }
    BUILTIN.iter().find(|b| b.0 == name).map(|b| b.2)
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
