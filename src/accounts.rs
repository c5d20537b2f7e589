//! Resolving `{"account": "<name or id>"}` to a snapshot: exact id, then case-insensitive
//! name, then a unique prefix; anything else is an error that lists the closest matches.

use crate::model::input::MAX_NAME_CHARS;
use crate::model::values::quote;
use crate::model::{InputError, Snapshot};

/// Where known accounts come from (the demo portfolio until a store is configured).
pub trait AccountSource: Send + Sync {
    fn all(&self) -> Result<Vec<Snapshot>, InputError>;

    /// One account by id or name, as [`resolve`] finds it; `field` names the argument in
    /// error messages. Every tool call with `account` comes here, so a source that can look
    /// one account up without copying all of them (an index, a query) should say so.
    fn find(&self, query: &str, field: &str) -> Result<Snapshot, InputError> {
        resolve(&self.all()?, query, field)
    }
}

/// The embedded demo portfolio.
#[derive(Clone, Copy, Debug, Default)]
pub struct Demo;

impl AccountSource for Demo {
    fn all(&self) -> Result<Vec<Snapshot>, InputError> {
        crate::demo::portfolio().map(<[Snapshot]>::to_vec)
    }

    /// Resolves in the embedded portfolio itself: copying all twelve accounts to return one
    /// was half the cost of a `check_health` call.
    fn find(&self, query: &str, field: &str) -> Result<Snapshot, InputError> {
        resolve(crate::demo::portfolio()?, query, field)
    }
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Finds one account by id or name; `field` names the argument in error messages.
pub fn resolve(accounts: &[Snapshot], query: &str, field: &str) -> Result<Snapshot, InputError> {
    let n = query.chars().count();
    if n > MAX_NAME_CHARS {
        // A name this long is not a name; refusing it also keeps the fuzzy match below
        // (quadratic in the worst case) on short strings.
        return Err(InputError::one(
            field,
            format!("is too long ({n} characters; at most {MAX_NAME_CHARS})"),
        ));
    }
    let q = norm(query);
    if q.is_empty() {
        return Err(InputError::one(field, "must not be empty"));
    }
    if let Some(a) = accounts
        .iter()
        .find(|a| a.id.as_deref().is_some_and(|id| norm(id) == q))
    {
        return Ok(a.clone());
    }
    let exact: Vec<_> = accounts.iter().filter(|a| norm(&a.name) == q).collect();
    if let [one] = exact.as_slice() {
        return Ok((*one).clone());
    }
    if exact.len() > 1 {
        return Err(InputError::one(
            field,
            format!(
                "{} is ambiguous: {} accounts have that name; use an id: {}",
                quote(query),
                exact.len(),
                exact
                    .iter()
                    .map(|a| a.id.clone().unwrap_or_else(|| a.name.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let prefix: Vec<_> = accounts
        .iter()
        .filter(|a| norm(&a.name).starts_with(&q))
        .collect();
    if let [one] = prefix.as_slice() {
        return Ok((*one).clone());
    }
    if prefix.len() > 1 {
        return Err(InputError::one(
            field,
            format!(
                "{} is ambiguous; it matches {}",
                quote(query),
                prefix
                    .iter()
                    .map(|a| a.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut scored: Vec<(f64, &Snapshot)> = accounts
        .iter()
        .map(|a| (strsim::jaro_winkler(&q, &norm(&a.name)), a))
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.name.cmp(&y.1.name)));
    let close: Vec<String> = scored.iter().take(3).map(|(_, a)| a.name.clone()).collect();
    Err(InputError::one(
        field,
        if close.is_empty() {
            format!("no account named {} (no accounts are known)", quote(query))
        } else {
            format!(
                "no account named {}; closest: {}",
                quote(query),
                close.join(", ")
            )
        },
    ))
}
