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
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let msg = e.inner().to_string();
        InputError::one(
            field_path(&e.path().to_string(), &msg),
            tidy_serde_message(&msg),
        )
    })?;
    de.end()
        .map_err(|e| InputError::one("", tidy_serde_message(&e.to_string())))?;
    Ok(value)
}

/// The path of the failing field; a missing field is named by the message, not the path.
fn field_path(path: &str, msg: &str) -> String {
    let base = if path == "." {
        String::new()
    } else {
        path.to_string()
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

/// serde_json appends " at line 1 column 42" to messages from text; the field path already
/// says where, and in a value there is no line to speak of.
fn tidy_serde_message(msg: &str) -> String {
    if msg.starts_with("missing field `") {
        return "is required".into();
    }
    let base = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") && !msg.starts_with("EOF") => &msg[..i],
        _ => msg,
    };
    format!("is invalid: {}", plain_types(base))
}

/// serde names Rust types ("expected u32"); say what a JSON author should send instead.
fn plain_types(msg: &str) -> String {
    const NAMES: [(&str, &str); 8] = [
        ("expected u32", "expected a whole number >= 0"),
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a borrowed string", "expected a string"),
        ("expected a sequence", "expected an array"),
        ("expected a boolean", "expected true or false"),
    ];
    let mut out = msg.to_string();
    if let Some(i) = out.find("expected struct ") {
        out.truncate(i);
        out.push_str("expected an object");
    }
    for (from, to) in NAMES {
        out = out.replace(from, to);
    }
    out
}

impl Snapshot {
    /// Parses and validates a snapshot from a JSON value.
    pub fn from_json(value: serde_json::Value) -> Result<Snapshot, InputError> {
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
                format!("must be a three-letter ISO code such as USD (got {c:?})"),
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
            _ => {}
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
