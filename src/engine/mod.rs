//! The pure core: the playbook's eight steps as functions of (snapshot, policy, as_of).
//!
//! Architecture invariant: nothing in this module reads a file, the network, a database,
//! the clock or the environment, and nothing here depends on rmcp or tokio. A failed gate is
//! an outcome in the returned value, never an `Err`.

pub mod approach;
pub mod framing;
pub mod health;
pub mod opportunity;
pub mod plan;
pub mod policy;
pub mod render;
pub mod risks;
pub mod salestalk;
pub mod segment;
pub mod signals;
pub mod success;
pub mod timing;
pub mod wording;

pub use plan::{Evaluation, draft_plan, evaluate, gated};
pub use policy::Policy;

use crate::model::snapshot::Snapshot;
use crate::model::values::{Money, fmt_money};

/// The currency code of every amount in the snapshot.
pub fn currency(s: &Snapshot) -> &str {
    s.currency.as_deref().unwrap_or("USD")
}

/// `USD 95,000`.
pub fn fmt_amount(m: Money, currency: &str) -> String {
    fmt_money(m, currency)
}

/// The annual price per seat on the current plan and where it came from.
pub fn price_per_seat(s: &Snapshot) -> Option<(Money, String)> {
    let c = &s.contract;
    if let Some(p) = c.price_per_seat {
        return Some((p, "contract.price_per_seat".into()));
    }
    let (arr, seats) = (c.arr?, c.licensed_seats?);
    let p = arr.divided_by(u64::from(seats))?;
    Some((
        p,
        format!(
            "contract.arr / contract.licensed_seats = {} / {seats}",
            fmt_amount(arr, currency(s))
        ),
    ))
}
