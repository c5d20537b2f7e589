//! The adapter-side glue every front end shares: turn `{account | snapshot, as_of}` into a
//! validated snapshot and a day, using the configured accounts and the clock. The engine
//! itself never sees the clock: `today` is read here, once per request.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::{Accounts, SourceError};
use crate::engine::{Policy, segment};
use crate::model::portfolio::{AccountFilter, SegmentPlan, SegmentRow};
use crate::model::results::PlanResult;
use crate::model::{Day, InputError, Snapshot};
use crate::store::Stored;

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

/// A resolved request: the snapshot, the day, and the store key when it came from the store.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub snapshot: Snapshot,
    pub as_of: Day,
    /// `Some` for a stored account (plans drafted for it are saved), `None` for a snapshot.
    pub key: Option<i64>,
}

/// Policy and accounts, shared by every request.
#[derive(Clone)]
pub struct Planner {
    pub policy: Arc<Policy>,
    pub accounts: Arc<Accounts>,
    /// The clock, injectable so tests and replays are deterministic.
    pub today: fn() -> Day,
    /// Directories `import_accounts` may read from; empty disables the tool.
    pub import_dirs: Arc<Vec<PathBuf>>,
    /// Whether MCP clients that support MCP Apps get the plan and segment views
    /// (`serve --no-views` turns them off); see `mcp::apps`.
    pub views: bool,
    /// The accounts are the embedded demo portfolio (`--demo`): answers say so, so that
    /// nobody mistakes them for their own book.
    pub demo: bool,
}

/// Parses an optional `as_of` argument.
pub fn parse_as_of(v: Option<&str>, field: &str) -> Result<Option<Day>, InputError> {
    v.map(|s| Day::parse(s.trim()).map_err(|e| InputError::one(field, format!("is invalid: {e}"))))
        .transpose()
}

impl Planner {
    /// A snapshot read from a file: errors name the field within the snapshot itself.
    pub fn load_snapshot(
        &self,
        value: serde_json::Value,
        as_of: Option<&str>,
    ) -> Result<(Snapshot, Day), InputError> {
        let explicit = parse_as_of(as_of, "as_of")?;
        let snapshot = Snapshot::from_json(value)?;
        let as_of = explicit.or(snapshot.as_of).unwrap_or_else(self.today);
        Ok((snapshot, as_of))
    }

    /// A planner over `accounts`: an open store (`Arc<Sqlite>`, `Arc<dyn Store>`), the demo
    /// (`Arc::new(Demo)`), or [`Accounts`] opened on first use.
    pub fn new(policy: Policy, accounts: impl Into<Accounts>) -> Planner {
        let policy = Arc::new(policy);
        let accounts: Accounts = accounts.into();
        accounts.keep_rows_for(policy.clone());
        Planner {
            policy,
            accounts: Arc::new(accounts),
            today,
            import_dirs: Arc::new(Vec::new()),
            views: true,
            demo: false,
        }
    }

    /// The same planner, offering the MCP App views or not.
    pub fn with_views(mut self, views: bool) -> Planner {
        self.views = views;
        self
    }

    /// The same planner, its accounts labelled as the demo portfolio.
    pub fn labelled_demo(mut self, demo: bool) -> Planner {
        self.demo = demo;
        self
    }

    /// Whether the account store answers a read now (the cheapest one: the first name in
    /// order, from the index); `Err` says why not, naming the database and never its
    /// password. What `serve --http`'s `/healthz` checks.
    pub fn check_store(&self) -> Result<(), String> {
        self.accounts
            .names_page(0, 1)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The same planner, allowed to import from these directories.
    pub fn with_import_dirs(mut self, dirs: Vec<PathBuf>) -> Planner {
        self.import_dirs = Arc::new(dirs);
        self
    }

    /// Resolves the target account and the day to compute from.
    pub fn load(&self, args: &StepArgs) -> Result<(Snapshot, Day), SourceError> {
        let l = self.resolve(args)?;
        Ok((l.snapshot, l.as_of))
    }

    /// Resolves the target account (from the store or the given snapshot) and the day.
    pub fn resolve(&self, args: &StepArgs) -> Result<Loaded, SourceError> {
        let explicit = parse_as_of(args.as_of.as_deref(), "as_of")?;
        let (snapshot, key) = match (&args.account, &args.snapshot) {
            (Some(_), Some(_)) => {
                return Err(InputError::one(
                    "account",
                    "and snapshot were both given: give exactly one",
                )
                .into());
            }
            (None, None) => {
                return Err(InputError::one(
                    "account",
                    "is missing: give `account` (a known account's name or id) or `snapshot` (a whole account snapshot)",
                )
                .into());
            }
            (Some(name), None) => {
                let n = name.chars().count();
                if n > crate::model::input::MAX_NAME_CHARS {
                    // Not a name; refusing it also keeps the fuzzy match on short strings.
                    return Err(InputError::one(
                        "account",
                        format!(
                            "is too long ({n} characters; at most {})",
                            crate::model::input::MAX_NAME_CHARS
                        ),
                    )
                    .into());
                }
                let f = self.accounts.find(name, "account")?;
                (f.snapshot, Some(f.key))
            }
            (None, Some(v)) => (
                Snapshot::from_json(v.clone()).map_err(|e| e.prefixed("snapshot"))?,
                None,
            ),
        };
        let as_of = explicit.or(snapshot.as_of).unwrap_or_else(self.today);
        Ok(Loaded {
            snapshot,
            as_of,
            key,
        })
    }

    /// Drafts the plan and, for a stored account, saves it to the plan history. A store
    /// that cannot write (read-only, disk full) does not stop the plan: it is logged, as
    /// [`Planner::draft_noting`] says.
    pub fn draft(&self, l: &Loaded) -> Result<PlanResult, SourceError> {
        Ok(self.draft_noting(l)?.0)
    }

    /// Drafts the plan and, for a stored account, saves it to the plan history. When the
    /// store cannot write (a read-only database, a full disk), the plan is still returned,
    /// with why it was not saved (also logged as a warning); any other store failure is an
    /// error.
    pub fn draft_noting(&self, l: &Loaded) -> Result<(PlanResult, Option<String>), SourceError> {
        let plan = crate::engine::draft_plan(&l.snapshot, &self.policy, l.as_of);
        let mut not_saved = None;
        if let Some(key) = l.key {
            match self
                .accounts
                .save_plan(key, &segment::plan_record(&l.snapshot, &plan))
            {
                Ok(()) => {}
                Err(SourceError::Unwritable(why)) => {
                    tracing::warn!(account = %l.snapshot.name, "the plan was not saved to the plan history: {why}");
                    not_saved = Some(why);
                }
                Err(e) => return Err(e),
            }
        }
        Ok((plan, not_saved))
    }

    /// One row per account matching the filter, in key order. A file-backed store or a
    /// database is read in one key range per core, each range read and assessed on its own
    /// thread.
    pub fn segment_rows(
        &self,
        filter: &AccountFilter,
        as_of: Option<Day>,
    ) -> Result<Vec<SegmentRow>, SourceError> {
        let today = (self.today)();
        let policy: &Policy = &self.policy;
        let parts = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        // One vector for every part's rows, with room for all of them up front: no vector
        // doubles and copies itself while it fills, and nothing is appended at the end. With
        // a vector per part, appending the others to the first held their rows twice (at a
        // million accounts on two cores, 578 MiB at the peak against 455 on one; on eight,
        // nearly twice the rows). Reserved room that is never written costs no memory.
        let expected = usize::try_from(self.accounts.count(filter)?).unwrap_or(0);
        let out: Mutex<(Vec<i64>, Vec<SegmentRow>)> =
            Mutex::new((Vec::with_capacity(expected), Vec::with_capacity(expected)));
        // The strings rows share (`segment::Interner`), one set per part, so that a part
        // takes the rows' lock only to push its row.
        let strings: Vec<Mutex<segment::Interner>> = (0..parts)
            .map(|_| Mutex::new(segment::Interner::default()))
            .collect();
        // A row the store kept from import for this policy, build and day is the row
        // `assess` would give (`Store::scan_segment`); every other account is assessed here.
        let fingerprint = segment::row_fingerprint(policy);
        self.accounts
            .scan_segment(filter, parts, fingerprint, as_of, &|part, key, stored| {
                if let Some(strings) = strings.get(part) {
                    let mut strings = strings.lock().unwrap_or_else(|e| e.into_inner());
                    let row = match stored {
                        Stored::Row(row) => segment::share_strings(*row, &mut strings),
                        Stored::Snapshot(s) => {
                            let day = as_of.or(s.as_of).unwrap_or(today);
                            segment::assess_interned(&s, policy, day, &mut strings)
                        }
                    };
                    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                    out.0.push(key);
                    out.1.push(row);
                }
                Ok(())
            })?;
        // The parts' rows interleave; put them back in key order, which one part reads in,
        // so that the answer does not depend on how the threads ran (rows with the same
        // name and id keep that order through the summary's stable sort).
        let (keys, mut rows) = out.into_inner().unwrap_or_else(|e| e.into_inner());
        if !keys.is_sorted() {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            order.sort_unstable_by_key(|&i| keys.get(i).copied().unwrap_or(i64::MAX));
            drop(keys);
            segment::permute(&mut rows, order);
        }
        Ok(rows)
    }

    /// A segment that names no stored account is almost always a typo: the error says
    /// which segments exist. `field` names the argument (`segment`, `--segment`).
    pub fn check_segment(&self, filter: &AccountFilter, field: &str) -> Result<(), SourceError> {
        let Some(seg) = &filter.segment else {
            return Ok(());
        };
        let only_segment = AccountFilter {
            segment: Some(seg.clone()),
            csm: None,
        };
        if self.accounts.count(&only_segment)? > 0 {
            return Ok(());
        }
        let known = self.accounts.segments()?;
        Err(InputError::one(
            field,
            format!(
                "`{seg}` matches no stored account; segments: {}",
                if known.is_empty() {
                    "none (the store is empty: import accounts first)".to_string()
                } else {
                    known.join(", ")
                }
            ),
        )
        .into())
    }

    /// The segment plan: rows from the store, summarised by the engine.
    pub fn plan_segment(
        &self,
        filter: &AccountFilter,
        as_of: Option<Day>,
    ) -> Result<SegmentPlan, SourceError> {
        let rows = self.segment_rows(filter, as_of)?;
        let reassess_day = as_of.unwrap_or_else(self.today);
        let due = self.accounts.due(filter, reassess_day)?;
        Ok(segment::summarise(filter, as_of, reassess_day, rows, due))
    }
}
