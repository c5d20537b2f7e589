//! Reading a snapshot from JSON: shape errors from serde with the path of the offending
//! field, then the semantic rules serde cannot express (seats > 0, scores within 0-100...).
//! Every problem is reported with the field that caused it; nothing is guessed or clamped.

use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;

use super::snapshot::{Signal, SignalKind, Snapshot};

/// Limits that keep one snapshot to a size a person could have produced.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_LIST_ITEMS: usize = 5_000;

/// One problem with one field of the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `contract.licensed_seats` or `signals[2].date`.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// Every problem found in one input; never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    pub errors: Vec<FieldError>,
}

impl InputError {
    pub fn one(field: impl Into<String>, problem: impl Into<String>) -> InputError {
        InputError {
            errors: vec![FieldError {
                field: field.into(),
                problem: problem.into(),
            }],
        }
    }

    /// The same errors with `prefix.` in front of every field path.
    pub fn prefixed(mut self, prefix: &str) -> InputError {
        for e in &mut self.errors {
            e.field = if e.field.is_empty() || e.field == "." {
                prefix.to_string()
            } else if e.field.starts_with('[') {
                format!("{prefix}{}", e.field)
            } else {
                format!("{prefix}.{}", e.field)
            };
        }
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        if n > 1 {
            write!(f, "{n} problems in the input: ")?;
        }
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Deserializes any input type from a JSON value, naming the failing field.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, InputError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let msg = e.inner().to_string();
        InputError::one(
            field_path(&e.path().to_string(), &msg),
            tidy_serde_message(&msg),
        )
    })
}

/// Deserializes from JSON text, naming the failing field.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::one(
            "input",
            "is empty: expected a JSON snapshot object (or an array of them)",
        ));
    }
    // Repeated keys and the value count first (serde_json would keep the last of two
    // repeated keys); syntax is left to the parse below, which says line and column.
    if let Err(p) = super::json::check(text.as_bytes())
        && !p.kind.is_syntax()
    {
        let field = if p.path.is_empty() {
            "input".to_string()
        } else {
            clip_path(&p.path)
        };
        return Err(InputError::one(field, p.kind.to_string()));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let msg = e.inner().to_string();
        let path = e.path().to_string();
        if matches!(
            e.inner().classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) {
            return syntax_error(&path, e.inner());
        }
        InputError::one(field_path(&path, &msg), tidy_serde_message(&msg))
    })?;
    de.end().map_err(|e| syntax_error(".", &e))?;
    Ok(value)
}

/// Text that is not JSON: where (line and column, and the path of the value it was in
/// when one is known) and what is wrong.
fn syntax_error(path: &str, e: &serde_json::Error) -> InputError {
    let msg = e.to_string();
    let what = match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(&msg),
        None => &msg,
    };
    // serde_path_to_error writes `?` for the key it had not read yet.
    let known: Vec<&str> = path
        .split('.')
        .take_while(|p| !p.is_empty() && *p != "?")
        .collect();
    let field = if known.is_empty() || path == "." {
        "input".to_string()
    } else {
        clip_path(&known.join("."))
    };
    InputError::one(
        field,
        format!(
            "is not valid JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            clip_quoted(what)
        ),
    )
}

/// The path of the failing field; a missing field is named by the message, not the path.
fn field_path(path: &str, msg: &str) -> String {
    let base = if path == "." {
        String::new()
    } else {
        clip_path(path)
    };
    if let Some(rest) = msg.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        return if base.is_empty() {
            name.to_string()
        } else {
            format!("{base}.{name}")
        };
    }
    base
}

/// The longest field path an error repeats; a path is only this long when a key is junk.
const MAX_PATH_CHARS: usize = 120;

fn clip_path(path: &str) -> String {
    if path.chars().count() <= MAX_PATH_CHARS {
        return path.to_string();
    }
    let head: String = path.chars().take(MAX_PATH_CHARS).collect();
    format!("{head}…")
}

/// serde_json appends " at line 1 column 42" to messages from text; the field path already
/// says where, and in a value there is no line to speak of. serde names Rust types (`f64`,
/// `u32`); the reader of the message is an assistant or a CSM, so they become what JSON
/// calls them, with the range. Quoted user text is shortened (see [`clip_quoted`]).
fn tidy_serde_message(msg: &str) -> String {
    if msg.starts_with("missing field `") {
        return "is required".into();
    }
    let base = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") && !msg.starts_with("EOF") => &msg[..i],
        _ => msg,
    };
    let mut out = clip_quoted(base);
    let mut number = false;
    for (rust, json) in [
        ("expected f64", "expected a number"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected i64", "expected a whole number"),
    ] {
        if let Some(head) = out.strip_suffix(rust) {
            out = format!("{head}{json}");
            number = true;
        }
    }
    if number && out.starts_with("invalid type: string") {
        out.push_str(
            " (write it as a JSON number, without quotes; NaN and Infinity are not numbers)",
        );
    }
    format!("is invalid: {}", plain_types(&out))
}

/// serde names Rust types ("expected struct Contract"); say what a JSON author should send.
fn plain_types(msg: &str) -> String {
    let mut out = msg.to_string();
    if let Some(i) = out.find("expected struct ") {
        out.truncate(i);
        out.push_str("expected an object");
    }
    for (from, to) in [
        ("expected u64", "expected a whole number >= 0"),
        ("expected a borrowed string", "expected a string"),
        ("expected a sequence", "expected an array"),
        ("expected a boolean", "expected true or false"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// Shortens every `backticked` or "double-quoted" run longer than
/// [`MAX_QUOTED_CHARS`](super::values::MAX_QUOTED_CHARS) characters: serde repeats unknown
/// keys, unknown variants and mistyped strings verbatim, and a 10 MB string must not come back
/// as a 10 MB error.
pub(crate) fn clip_quoted(msg: &str) -> String {
    let max = super::values::MAX_QUOTED_CHARS;
    let mut out = String::with_capacity(msg.len().min(1024));
    let mut rest = msg;
    while let Some(start) = rest.find(['`', '"']) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let mut chars = from.chars();
        let quote = chars.next().unwrap_or('`');
        let body = chars.as_str();
        match body.find(quote) {
            Some(end) => {
                let (inner, after) = body.split_at(end);
                let n = inner.chars().count();
                out.push(quote);
                if n > max {
                    out.extend(inner.chars().take(max));
                    out.push('…');
                    out.push(quote);
                    out.push_str(&format!(" ({n} characters)"));
                } else {
                    out.push_str(inner);
                    out.push(quote);
                }
                rest = after.get(quote.len_utf8()..).unwrap_or("");
            }
            None => {
                let n = from.chars().count();
                if n > max + 1 {
                    out.extend(from.chars().take(max + 1));
                    out.push('…');
                } else {
                    out.push_str(from);
                }
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl Snapshot {
    /// Parses and validates a snapshot from a JSON value.
    pub fn from_json(value: serde_json::Value) -> Result<Snapshot, InputError> {
        reject_positional(&value)?;
        let snapshot: Snapshot = from_value(value)?;
        snapshot.validate()?;
        Ok(snapshot)
    }

    /// The semantic rules the types cannot carry. Reports every problem, not just the first.
    pub fn validate(&self) -> Result<(), InputError> {
        let mut v = Validator::default();
        let s = self;
        v.name("name", Some(&s.name), true);
        v.name("id", s.id.as_deref(), false);
        v.name("segment", s.segment.as_deref(), false);
        v.name("csm", s.csm.as_deref(), false);
        v.name("account_executive", s.account_executive.as_deref(), false);
        if let Some(c) = &s.currency
            && (c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            v.err(
                "currency",
                format!(
                    "must be a three-letter ISO code such as USD (got {})",
                    super::values::quote(c)
                ),
            );
        }

        let c = &s.contract;
        if c.licensed_seats == Some(0) {
            v.err("contract.licensed_seats", "must be greater than 0 (got 0)");
        }
        if let Some(m) = c.planning_month
            && !(1..=12).contains(&m)
        {
            v.err(
                "contract.planning_month",
                format!("must be a month from 1 to 12 (got {m})"),
            );
        }
        v.name("contract.plan", c.plan.as_deref(), false);

        let u = &s.usage;
        v.list_len("usage.history", u.history.len());
        v.list_len("usage.limits", u.limits.len());
        v.list_len("usage.features", u.features.len());
        let mut seen = BTreeSet::new();
        for (i, p) in u.history.iter().enumerate() {
            if !seen.insert(p.date) {
                v.err(
                    format!("usage.history[{i}].date"),
                    format!("repeats {} (one reading per date)", p.date),
                );
            }
        }
        for (i, l) in u.limits.iter().enumerate() {
            v.name(&format!("usage.limits[{i}].metric"), Some(&l.metric), true);
            if !l.used.is_finite() || l.used < 0.0 {
                v.err(
                    format!("usage.limits[{i}].used"),
                    format!("must be a number >= 0 (got {})", l.used),
                );
            }
            if !l.limit.is_finite() || l.limit <= 0.0 {
                v.err(
                    format!("usage.limits[{i}].limit"),
                    format!("must be greater than 0 (got {})", l.limit),
                );
            }
        }
        for (i, f) in u.features.iter().enumerate() {
            v.name(&format!("usage.features[{i}].name"), Some(&f.name), true);
        }

        let h = &s.health;
        v.score("health.score", h.score);
        v.score("health.relationship_score", h.relationship_score);
        v.score("health.value_score", h.value_score);
        if let Some(comp) = &h.components {
            v.score("health.components.adoption", comp.adoption);
            v.score("health.components.engagement", comp.engagement);
            v.score("health.components.relationship", comp.relationship);
            v.score("health.components.value", comp.value);
            v.score("health.components.commercial", comp.commercial);
        }
        v.list_len("health.churn_signals", h.churn_signals.len());
        v.list_len("health.goals", h.goals.len());
        for (i, cs) in h.churn_signals.iter().enumerate() {
            v.text(
                &format!("health.churn_signals[{i}].detail"),
                cs.detail.as_deref(),
            );
        }
        for (i, g) in h.goals.iter().enumerate() {
            v.text(&format!("health.goals[{i}].goal"), Some(&g.goal));
            if g.goal.trim().is_empty() {
                v.err(format!("health.goals[{i}].goal"), "must not be empty");
            } else {
                v.identity(&format!("health.goals[{i}].goal"), &g.goal);
            }
        }
        if let Some(r) = &h.relationship {
            v.name("health.relationship.sponsor", r.sponsor.as_deref(), false);
            v.name("health.relationship.champion", r.champion.as_deref(), false);
        }

        v.list_len("signals", s.signals.len());
        for (i, sig) in s.signals.iter().enumerate() {
            v.signal(i, sig);
        }
        v.list_len("events", s.events.len());
        for (i, e) in s.events.iter().enumerate() {
            v.text(&format!("events[{i}].detail"), e.detail.as_deref());
            if let Some(u) = e.until
                && u < e.date
            {
                v.err(
                    format!("events[{i}].until"),
                    format!("must not be before events[{i}].date {} (got {u})", e.date),
                );
            }
        }

        if let Some(o) = &s.offer {
            v.pct("offer.tier_premium_pct", o.tier_premium_pct);
            v.pct("offer.uplift_pct", o.uplift_pct);
            if let Some(t) = o.term_years
                && !(1..=10).contains(&t)
            {
                v.err(
                    "offer.term_years",
                    format!("must be from 1 to 10 (got {t})"),
                );
            }
            if o.seats == Some(0) {
                v.err("offer.seats", "must be greater than 0 (got 0)");
            }
            v.name("offer.target_plan", o.target_plan.as_deref(), false);
            v.name("offer.module", o.module.as_deref(), false);
            v.name("offer.product", o.product.as_deref(), false);
        }
        v.finish()
    }
}

/// Where the snapshot holds an object (a struct), by path; `""` is the snapshot itself.
const OBJECT_PATHS: [&str; 7] = [
    "",
    "contract",
    "usage",
    "health",
    "health.components",
    "health.relationship",
    "offer",
];

/// The lists of objects, by path.
const LIST_PATHS: [&str; 7] = [
    "usage.history",
    "usage.limits",
    "usage.features",
    "health.churn_signals",
    "health.goals",
    "signals",
    "events",
];

/// serde fills a struct from a JSON array by position (`"contract": [54000, 45]` would be
/// `arr` and `licensed_seats`). That form is not in the contract and a reordered array would
/// be a silently wrong plan, so an array where an object belongs is refused here, before serde
/// sees it.
fn reject_positional(value: &serde_json::Value) -> Result<(), InputError> {
    use serde_json::Value;
    fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
        if path.is_empty() {
            return Some(v);
        }
        path.split('.').try_fold(v, |v, k| v.get(k))
    }
    let not_object = |field: String| {
        InputError::one(
            field,
            "is invalid: expected an object with named fields, got an array",
        )
    };
    for path in OBJECT_PATHS {
        if at(value, path).is_some_and(Value::is_array) {
            return Err(not_object(path.to_string()));
        }
    }
    for path in LIST_PATHS {
        if let Some(Value::Array(items)) = at(value, path)
            && let Some(i) = items.iter().position(Value::is_array)
        {
            return Err(not_object(format!("{path}[{i}]")));
        }
    }
    Ok(())
}

/// Characters an identity field refuses: every control character (Unicode Cc, which holds
/// `\t`, `\n`, `\r` and U+0085), the line and paragraph separators, and the bidirectional
/// embeddings, overrides, isolates and marks.
fn is_forbidden_in_identity(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn control_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\t' => "tab",
        '\n' => "line feed",
        '\r' => "carriage return",
        '\0' => "NUL",
        '\u{85}' => "next line",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061C}'
        | '\u{200E}'
        | '\u{200F}' => "bidirectional control",
        _ => return None,
    })
}

#[derive(Default)]
struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    fn err(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            problem: problem.into(),
        });
    }

    fn name(&mut self, field: &str, value: Option<&str>, required: bool) {
        match value {
            Some(s) if s.trim().is_empty() => {
                if required {
                    self.err(field, "must not be empty");
                } else {
                    self.err(field, "must not be empty when given (omit it instead)");
                }
            }
            Some(s) if s.chars().count() > MAX_NAME_CHARS => self.err(
                field,
                format!(
                    "is too long ({} characters; at most {MAX_NAME_CHARS})",
                    s.chars().count()
                ),
            ),
            Some(s) => self.identity(field, s),
            None => {}
        }
    }

    /// An identity (a name, id, segment, owner, feature or goal) is one line of plain text:
    /// control characters (line breaks and tabs included), line and paragraph separators and
    /// bidirectional overrides are refused, so a name cannot lay out or reorder what shows it.
    fn identity(&mut self, field: &str, s: &str) {
        if let Some((i, c)) = s
            .chars()
            .enumerate()
            .find(|&(_, c)| is_forbidden_in_identity(c))
        {
            self.err(
                field,
                format!(
                    "must be one line of plain text: it holds the control character U+{:04X}{} at character {}",
                    u32::from(c),
                    control_name(c).map(|n| format!(" ({n})")).unwrap_or_default(),
                    i + 1
                ),
            );
        }
    }

    fn text(&mut self, field: &str, value: Option<&str>) {
        if let Some(s) = value {
            let n = s.chars().count();
            if n > MAX_TEXT_CHARS {
                self.err(
                    field,
                    format!("is too long ({n} characters; at most {MAX_TEXT_CHARS})"),
                );
            }
        }
    }

    fn list_len(&mut self, field: &str, n: usize) {
        if n > MAX_LIST_ITEMS {
            self.err(field, format!("has {n} items; at most {MAX_LIST_ITEMS}"));
        }
    }

    fn score(&mut self, field: &str, value: Option<f64>) {
        if let Some(x) = value
            && (!x.is_finite() || !(0.0..=100.0).contains(&x))
        {
            self.err(field, format!("must be between 0 and 100 (got {x})"));
        }
    }

    fn pct(&mut self, field: &str, value: Option<f64>) {
        if let Some(x) = value
            && (!x.is_finite() || !(0.0..=1000.0).contains(&x))
        {
            self.err(
                field,
                format!("must be a percentage between 0 and 1000 (got {x})"),
            );
        }
    }

    fn signal(&mut self, i: usize, sig: &Signal) {
        let at = |f: &str| format!("signals[{i}].{f}");
        self.text(&at("evidence"), Some(&sig.evidence));
        self.text(&at("quote"), sig.quote.as_deref());
        if sig.evidence.trim().is_empty() {
            self.err(
                at("evidence"),
                "must not be empty: document the specific evidence (dates, usage data, quotes)",
            );
        }
        self.name(&at("feature"), sig.feature.as_deref(), false);
        self.name(&at("tier"), sig.tier.as_deref(), false);
        self.name(&at("product"), sig.product.as_deref(), false);
        self.name(&at("module"), sig.module.as_deref(), false);
        self.name(&at("metric"), sig.metric.as_deref(), false);
        if sig.kind == SignalKind::TeamGrowth
            && let (Some(team), Some(access)) = (sig.team_size, sig.users_with_access)
            && team < access
        {
            self.err(
                        at("team_size"),
                        format!("({team}) is smaller than users_with_access ({access}): a growing team has at least as many people as have access"),
                    );
        }
    }

    fn finish(self) -> Result<(), InputError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(InputError {
                errors: self.errors,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Every object and list in a snapshot with every part filled in, by path.
    fn shapes(v: &Value, path: &str, objects: &mut Vec<String>, lists: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                objects.push(path.to_string());
                for (k, child) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    shapes(child, &p, objects, lists);
                }
            }
            Value::Array(items) => {
                lists.push(path.to_string());
                // Elements are objects whose own fields hold no objects or lists.
                assert!(items.iter().all(Value::is_object), "{path}");
            }
            _ => {}
        }
    }

    #[test]
    fn positional_check_knows_every_object_and_list() {
        let full = json!({
            "name": "N",
            "contract": {"arr": 1},
            "usage": {"active_users": 1,
                "history": [{"date": "2026-01-01", "active_users": 1}],
                "limits": [{"metric": "m", "used": 1, "limit": 2}],
                "features": [{"name": "f"}]},
            "health": {"score": 1, "components": {"adoption": 1},
                "churn_signals": [{"kind": "other"}], "goals": [{"goal": "g", "status": "achieved"}],
                "relationship": {"responsive": true}},
            "signals": [{"kind": "advocacy", "date": "2026-01-01", "evidence": "e", "source": "customer"}],
            "events": [{"kind": "qbr", "date": "2026-01-01"}],
            "offer": {"type": "seats"}
        });
        let s = Snapshot::from_json(full).unwrap();
        let (mut objects, mut lists) = (Vec::new(), Vec::new());
        shapes(
            &serde_json::to_value(&s).unwrap(),
            "",
            &mut objects,
            &mut lists,
        );
        objects.sort();
        lists.sort();
        let mut want_objects: Vec<String> = OBJECT_PATHS.iter().map(|s| s.to_string()).collect();
        let mut want_lists: Vec<String> = LIST_PATHS.iter().map(|s| s.to_string()).collect();
        want_objects.sort();
        want_lists.sort();
        assert_eq!(objects, want_objects);
        assert_eq!(lists, want_lists);
    }

    #[test]
    fn an_array_where_an_object_belongs_is_refused() {
        for (v, field) in [
            (json!(["N"]), ""),
            (json!({"name": "N", "contract": [54000, 45]}), "contract"),
            (
                json!({"name": "N", "health": {"components": [80, 70]}}),
                "health.components",
            ),
            (
                json!({"name": "N", "usage": {"history": [["2026-01-01", 5]]}}),
                "usage.history[0]",
            ),
        ] {
            let e = Snapshot::from_json(v).unwrap_err();
            assert_eq!(e.errors[0].field, field, "{e}");
            assert!(e.to_string().contains("got an array"), "{e}");
        }
    }

    #[test]
    fn serde_messages_speak_json_and_stay_short() {
        let e = Snapshot::from_json(json!({"name": "N", "contract": {"licensed_seats": "45"}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected a whole number from 0 to 4294967295"),
            "{e}"
        );
        assert!(e.contains("without quotes"), "{e}");
        let long = "x".repeat(1_000_000);
        let e = Snapshot::from_json(json!({"name": "N", long.clone(): 1}))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 1_000, "{} bytes", e.len());
        assert!(e.contains("(1000000 characters)"), "{e}");
        let e = Snapshot::from_json(json!({"name": "N", "signals": [{"kind": long}]}))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 1_000, "{} bytes", e.len());
    }
}
