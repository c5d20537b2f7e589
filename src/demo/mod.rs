//! The embedded demo portfolio: a dozen realistic accounts covering every outcome and every
//! expansion type, so that the first command on a fresh machine prints real plans.

use std::sync::LazyLock;

use crate::model::input::from_str;
use crate::model::{InputError, Snapshot};

/// The portfolio as shipped: an array of snapshots, each with its own `as_of`.
pub const PORTFOLIO_JSON: &str = include_str!("portfolio.json");

static PORTFOLIO: LazyLock<Result<Vec<Snapshot>, InputError>> = LazyLock::new(|| {
    let accounts: Vec<Snapshot> = from_str(PORTFOLIO_JSON)?;
    for (i, a) in accounts.iter().enumerate() {
        a.validate()
            .map_err(|e| e.prefixed(&format!("demo[{i}]")))?;
    }
    Ok(accounts)
});

/// The demo accounts, parsed and validated once.
pub fn portfolio() -> Result<&'static [Snapshot], InputError> {
    PORTFOLIO.as_deref().map_err(Clone::clone)
}
