//! The adapter-side glue every front end shares: turn `{account | snapshot, as_of}` into a
//! validated snapshot and a day, using the configured accounts and the clock. The engine
//! itself never sees the clock: `today` is read here, once per request.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::AccountSource;
use crate::engine::Policy;
use crate::model::{Day, InputError, Snapshot};

/// Arguments shared by every step tool: exactly one of `account` or `snapshot`, and an
/// optional `as_of`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepArgs {
    /// Name or id of a known account (see `expansion://accounts/{name}`); give this or `snapshot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// A whole account snapshot (schema `expansion://schema/account`); give this or `account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<serde_json::Value>,
    /// The day to compute from, YYYY-MM-DD; overrides `snapshot.as_of`; default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

/// Today's date from the system clock, in the local time zone. Only adapters call this.
pub fn today() -> Day {
    Day(jiff::Zoned::now().date())
}

/// Policy and accounts, shared by every request.
#[derive(Clone)]
pub struct Planner {
    pub policy: Arc<Policy>,
    pub accounts: Arc<dyn AccountSource>,
    /// The clock, injectable so tests and replays are deterministic.
    pub today: fn() -> Day,
}

impl Planner {
    pub fn new(policy: Policy, accounts: Arc<dyn AccountSource>) -> Planner {
        Planner {
            policy: Arc::new(policy),
            accounts,
            today,
        }
    }

    /// Resolves the target account and the day to compute from.
    pub fn load(&self, args: &StepArgs) -> Result<(Snapshot, Day), InputError> {
        let explicit = match &args.as_of {
            Some(s) => Some(
                Day::parse(s).map_err(|e| InputError::one("as_of", format!("is invalid: {e}")))?,
            ),
            None => None,
        };
        let snapshot = match (&args.account, &args.snapshot) {
            (Some(_), Some(_)) => {
                return Err(InputError::one(
                    "account",
                    "and snapshot were both given: give exactly one",
                ));
            }
            (None, None) => {
                return Err(InputError::one(
                    "account",
                    "is missing: give `account` (a known account's name or id) or `snapshot` (a whole account snapshot)",
                ));
            }
            (Some(name), None) => self.accounts.find(name, "account")?,
            (None, Some(v)) => {
                Snapshot::from_json(v.clone()).map_err(|e| e.prefixed("snapshot"))?
            }
        };
        let as_of = explicit.or(snapshot.as_of).unwrap_or_else(self.today);
        Ok((snapshot, as_of))
    }
}
