//! Accounts already read from the database, reused until the database changes.
//!
//! An assistant planning one account calls several tools on it in a row (check_health, then
//! the steps, then draft_plan), and each call names the account again. Reading and decoding
//! an account from SQLite is most of what a health check costs, so the store keeps what
//! `find` resolved and read, and hands out copies while the database is as it was.
//!
//! "As it was" is exact, not a time-out: every lookup reads `PRAGMA data_version` (which
//! changes when another connection, in this process or another, commits) and this
//! connection's total change count (which changes when this connection writes). Either
//! differing empties the cache. The one write that leaves accounts as they were, saving a
//! plan to the history, says so ([`ReadCache::saved`]), so drafting a plan does not throw
//! away the account it was drafted from. The cache also remembers the plans saved since, so
//! that drafting the same plan again (same account, same day, same figures) does not write
//! the same row again.

use std::collections::HashMap;

use super::Found;
use crate::model::portfolio::PlanRecord;
use crate::model::{Day, Snapshot};

/// What the database was when the cache was filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// `PRAGMA data_version`: commits by other connections.
    pub data_version: i64,
    /// `sqlite3_total_changes`: rows this connection inserted, updated or deleted.
    pub changes: u64,
}

#[derive(Debug, Default)]
pub struct ReadCache {
    stamp: Option<Stamp>,
    /// The trimmed name or id asked for, to the account it resolved to.
    keys: HashMap<String, i64>,
    snapshots: HashMap<i64, Snapshot>,
    /// Plans this connection saved, by account and `as_of`, while the database was as stamped.
    saved: HashMap<(i64, Day), PlanRecord>,
}

impl ReadCache {
    /// Accounts kept at most (a few MB with 90 days of history each); past this the cache
    /// starts afresh.
    const MAX_ACCOUNTS: usize = 256;

    /// The account `query` resolved to, if the database is still as it was.
    pub fn get(&mut self, stamp: Stamp, query: &str) -> Option<Found> {
        if self.stamp != Some(stamp) {
            self.reset(stamp);
            return None;
        }
        let key = *self.keys.get(query)?;
        self.snapshots.get(&key).map(|s| Found {
            key,
            snapshot: s.clone(),
        })
    }

    /// Remembers what `query` resolved to, read when the database was at `stamp`.
    pub fn put(&mut self, stamp: Stamp, query: &str, found: &Found) {
        if self.stamp != Some(stamp) {
            self.reset(stamp);
        }
        if self.snapshots.len() >= Self::MAX_ACCOUNTS || self.keys.len() >= 4 * Self::MAX_ACCOUNTS {
            self.keys.clear();
            self.snapshots.clear();
        }
        self.keys.insert(query.to_string(), found.key);
        self.snapshots
            .entry(found.key)
            .or_insert_with(|| found.snapshot.clone());
    }

    /// Whether this exact plan is already what the history holds for its account and day.
    pub fn already_saved(&self, stamp: Stamp, key: i64, plan: &PlanRecord) -> bool {
        self.stamp == Some(stamp) && self.saved.get(&(key, plan.as_of)) == Some(plan)
    }

    /// This connection saved `plan` (and wrote nothing else) when the database was at `at`;
    /// its change count is now `after`. Accounts read before are still as stored.
    pub fn saved(&mut self, at: Stamp, after: u64, key: i64, plan: &PlanRecord) {
        let now = Stamp {
            changes: after,
            ..at
        };
        if self.stamp == Some(at) {
            self.stamp = Some(now);
        } else {
            self.reset(now);
        }
        if self.saved.len() >= Self::MAX_ACCOUNTS {
            self.saved.clear();
        }
        self.saved.insert((key, plan.as_of), plan.clone());
    }

    fn reset(&mut self, stamp: Stamp) {
        self.stamp = Some(stamp);
        self.keys.clear();
        self.snapshots.clear();
        self.saved.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.snapshots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(key: i64, name: &str) -> Found {
        let mut snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "name": name,
            "contract": {"licensed_seats": 10},
            "usage": {"active_users": 5}
        }))
        .unwrap();
        snapshot.name = name.to_string();
        Found { key, snapshot }
    }

    const AT: Stamp = Stamp {
        data_version: 1,
        changes: 10,
    };

    #[test]
    fn a_hit_only_while_the_database_is_unchanged() {
        let mut c = ReadCache::default();
        assert!(c.get(AT, "Northwind").is_none());
        c.put(AT, "Northwind", &found(1, "Northwind"));
        assert_eq!(c.get(AT, "Northwind").unwrap().snapshot.name, "Northwind");
        assert!(c.get(AT, "northwind").is_none(), "keyed by what was asked");
        // Another connection committed.
        let other = Stamp {
            data_version: 2,
            ..AT
        };
        assert!(c.get(other, "Northwind").is_none());
        assert_eq!(c.len(), 0);
        // This connection wrote.
        c.put(other, "Northwind", &found(1, "Northwind"));
        let wrote = Stamp {
            changes: 11,
            ..other
        };
        assert!(c.get(wrote, "Northwind").is_none());
    }

    fn plan(day: &str, score: f64) -> PlanRecord {
        serde_json::from_value(serde_json::json!({
            "as_of": day, "outcome": "ready", "status": "Healthy", "utilisation_pct": 80.0,
            "sustained_utilisation_pct": 80.0, "score": score, "active_users": 8,
            "licensed_seats": 10, "expansion_type": null, "estimated_expansion_arr": null,
            "confidence": null, "currency": "USD", "reassess_on": null, "top_reason": "x"
        }))
        .unwrap()
    }

    #[test]
    fn saving_a_plan_keeps_the_accounts_and_remembers_the_plan() {
        let mut c = ReadCache::default();
        c.put(AT, "acc-001", &found(1, "Northwind"));
        let p = plan("2026-11-15", 86.0);
        assert!(!c.already_saved(AT, 1, &p));
        c.saved(AT, 11, 1, &p);
        let after = Stamp { changes: 11, ..AT };
        assert!(c.get(after, "acc-001").is_some(), "accounts kept");
        assert!(c.already_saved(after, 1, &p));
        assert!(!c.already_saved(after, 2, &p), "another account");
        assert!(
            !c.already_saved(after, 1, &plan("2026-11-15", 85.0)),
            "other figures"
        );
        assert!(
            !c.already_saved(after, 1, &plan("2026-11-16", 86.0)),
            "another day"
        );
        // Any other change forgets it: the row may have been replaced or deleted.
        let other = Stamp {
            data_version: 2,
            ..after
        };
        assert!(!c.already_saved(other, 1, &p));
        assert!(c.get(other, "acc-001").is_none());
        assert!(!c.already_saved(after, 1, &p), "forgotten once reset");
    }

    #[test]
    fn stays_bounded() {
        let mut c = ReadCache::default();
        for k in 0..(ReadCache::MAX_ACCOUNTS as i64 * 3) {
            c.put(AT, &format!("a{k}"), &found(k, "x"));
            assert!(c.len() <= ReadCache::MAX_ACCOUNTS);
        }
    }
}
