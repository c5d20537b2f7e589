//! Where known accounts come from, and resolving `{"account": "<name or id>"}` to one:
//! exact id, then case-insensitive name, then a unique prefix; anything else is an error
//! that lists the closest matches.
//!
//! The source answers one question at a time (`find`, `complete`, `scan` with a filter) so
//! that naming one account never loads the whole portfolio.

use std::path::Path;
use std::sync::LazyLock;

use crate::model::portfolio::{AccountFilter, DueReassessment, ImportReport, PlanRecord};
use crate::model::{Day, InputError, Snapshot};
use crate::store::{Store, StoreError};

/// A stored account: its key in the store and its snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub key: i64,
    pub snapshot: Snapshot,
}

/// Why an account question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The question was wrong: an unknown or ambiguous name, an empty query.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The store failed (I/O, corruption): not the caller's fault.
    #[error("{0}")]
    Unavailable(String),
    /// The store cannot write (a read-only database, a full disk); nothing was changed, and
    /// reading still works.
    #[error("{0}")]
    Unwritable(String),
}

/// The accounts a server or command works with: the SQLite store, on disk or in memory.
pub trait AccountSource: Send + Sync {
    /// One account by id, name or unique name prefix; `field` names the argument in errors.
    fn find(&self, query: &str, field: &str) -> Result<Found, SourceError>;
    /// Every account matching the filter, whole, one at a time.
    fn scan(
        &self,
        filter: &AccountFilter,
        each: &mut dyn FnMut(Found) -> Result<(), SourceError>,
    ) -> Result<(), SourceError>;
    /// Like `scan`, but the accounts may be read in up to `parts` key ranges on as many
    /// threads, each calling `each` with its part number (below `parts`) and in key order
    /// within the part. The default reads sequentially as part 0.
    fn scan_parallel(
        &self,
        filter: &AccountFilter,
        parts: usize,
        each: &(dyn Fn(usize, Found) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        let _ = parts;
        self.scan(filter, &mut |f| each(0, f))
    }
    /// How many accounts match the filter.
    fn count(&self, filter: &AccountFilter) -> Result<u64, SourceError>;
    /// Names starting with, then containing, `text`; at most `limit`.
    fn complete(&self, text: &str, limit: usize) -> Result<Vec<String>, SourceError>;
    /// Every distinct segment.
    fn segments(&self) -> Result<Vec<String>, SourceError>;
    /// A page of (name, segment), by name.
    fn names_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, Option<String>)>, SourceError>;
    /// Saves a drafted plan, keyed by account and `as_of`.
    fn save_plan(&self, key: i64, record: &PlanRecord) -> Result<(), SourceError>;
    /// Every saved plan of an account, oldest first.
    fn plans(&self, key: i64) -> Result<Vec<PlanRecord>, SourceError>;
    /// Accounts whose latest saved plan's reassessment date is on or before `as_of`.
    fn due(&self, filter: &AccountFilter, as_of: Day) -> Result<Vec<DueReassessment>, SourceError>;
    /// Imports one file, all or nothing.
    fn import(
        &self,
        file: &Path,
        map: Option<&Path>,
        dry_run: bool,
    ) -> Result<ImportReport, SourceError>;
    /// Imports a file already opened by the caller (the import tool opens it confined to
    /// its directories), shown as `file`; `map` is a mapping's name and TOML text.
    fn import_opened(
        &self,
        file: &Path,
        opened: std::fs::File,
        map: Option<(String, String)>,
        dry_run: bool,
    ) -> Result<ImportReport, SourceError>;
    /// Prepares what the first calls will need (a deferred store opens here); called off
    /// the request path after the MCP handshake.
    fn warm_up(&self) {}
}

/// A source that is a [`Store`] reached on first use: the demo portfolio, or a database
/// opened after the MCP handshake ([`Deferred`]). Every call is the store's, or the reason it
/// could not be had.
pub trait StoreOnDemand: Send + Sync {
    fn store(&self) -> Result<&Store, SourceError>;
}

impl<T: StoreOnDemand> AccountSource for T {
    fn find(&self, query: &str, field: &str) -> Result<Found, SourceError> {
        AccountSource::find(self.store()?, query, field)
    }
    fn scan(
        &self,
        filter: &AccountFilter,
        each: &mut dyn FnMut(Found) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        AccountSource::scan(self.store()?, filter, each)
    }
    fn scan_parallel(
        &self,
        filter: &AccountFilter,
        parts: usize,
        each: &(dyn Fn(usize, Found) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        AccountSource::scan_parallel(self.store()?, filter, parts, each)
    }
    fn count(&self, filter: &AccountFilter) -> Result<u64, SourceError> {
        AccountSource::count(self.store()?, filter)
    }
    fn complete(&self, text: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        AccountSource::complete(self.store()?, text, limit)
    }
    fn segments(&self) -> Result<Vec<String>, SourceError> {
        AccountSource::segments(self.store()?)
    }
    fn names_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, Option<String>)>, SourceError> {
        AccountSource::names_page(self.store()?, offset, limit)
    }
    fn save_plan(&self, key: i64, record: &PlanRecord) -> Result<(), SourceError> {
        AccountSource::save_plan(self.store()?, key, record)
    }
    fn plans(&self, key: i64) -> Result<Vec<PlanRecord>, SourceError> {
        AccountSource::plans(self.store()?, key)
    }
    fn due(&self, filter: &AccountFilter, as_of: Day) -> Result<Vec<DueReassessment>, SourceError> {
        AccountSource::due(self.store()?, filter, as_of)
    }
    fn import(
        &self,
        file: &Path,
        map: Option<&Path>,
        dry_run: bool,
    ) -> Result<ImportReport, SourceError> {
        AccountSource::import(self.store()?, file, map, dry_run)
    }
    fn import_opened(
        &self,
        file: &Path,
        opened: std::fs::File,
        map: Option<(String, String)>,
        dry_run: bool,
    ) -> Result<ImportReport, SourceError> {
        AccountSource::import_opened(self.store()?, file, opened, map, dry_run)
    }
    fn warm_up(&self) {
        if let Err(e) = self.store() {
            tracing::error!("the account store is not available: {e}");
        }
    }
}

/// The embedded demo portfolio in one shared in-memory store. Kept for callers that want
/// "the demo" without holding a store; `Store::demo()` gives a private one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Demo;

static DEMO: LazyLock<Result<Store, String>> =
    LazyLock::new(|| Store::demo().map_err(|e: StoreError| e.to_string()));

impl StoreOnDemand for Demo {
    fn store(&self) -> Result<&Store, SourceError> {
        DEMO.as_ref()
            .map_err(|e| SourceError::Unavailable(e.clone()))
    }
}

type Opener = Box<dyn FnOnce() -> Result<Store, String> + Send>;

/// A store opened on first use rather than at start. `serve` on stdio answers `initialize`
/// first and opens the database after (on the warm-up thread, see `mcp::warm_up`): opening
/// it (SQLite, the schema check, the demo import for `--demo`) took most of the start-up
/// time. A database that cannot be opened is then reported by every call that needs it,
/// naming the file and the reason, and in the log.
pub struct Deferred(LazyLock<Result<Store, String>, Opener>);

impl Deferred {
    pub fn new(open: impl FnOnce() -> Result<Store, String> + Send + 'static) -> Deferred {
        Deferred(LazyLock::new(Box::new(open)))
    }
}

impl StoreOnDemand for Deferred {
    fn store(&self) -> Result<&Store, SourceError> {
        LazyLock::force(&self.0)
            .as_ref()
            .map_err(|e| SourceError::Unavailable(e.clone()))
    }
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// `query` names several accounts exactly; `ids` tells them apart.
pub fn ambiguous_name(field: &str, query: &str, ids: &[String]) -> InputError {
    InputError::one(
        field,
        format!(
            "`{query}` is ambiguous: {} accounts have that name; use an id: {}",
            ids.len(),
            ids.join(", ")
        ),
    )
}

/// `query` is the start of several names.
pub fn ambiguous_prefix(field: &str, query: &str, names: &[String]) -> InputError {
    InputError::one(
        field,
        format!("`{query}` is ambiguous; it matches {}", names.join(", ")),
    )
}

/// What an empty store tells the assistant: how to import, or how to try the demo.
pub const EMPTY_STORE: &str = "the account store is empty; import your accounts with import_accounts (or `expansion-planner import FILE`), or try the demo portfolio with `expansion-planner serve --demo`";

/// No account matches; the three closest names by Jaro-Winkler similarity are suggested.
pub fn not_found(field: &str, query: &str, names: &[String]) -> InputError {
    let q = norm(query);
    let mut scored: Vec<(f64, &String)> = names
        .iter()
        .map(|n| (strsim::jaro_winkler(&q, &norm(n)), n))
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(y.1)));
    let close: Vec<String> = scored.iter().take(3).map(|(_, n)| (*n).clone()).collect();
    InputError::one(
        field,
        if close.is_empty() {
            format!("`{query}` matches no account: {EMPTY_STORE}")
        } else {
            format!(
                "`{query}` matches no account; closest: {}",
                close.join(", ")
            )
        },
    )
}
