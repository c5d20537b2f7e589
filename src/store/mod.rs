//! The account store: one interface, [`Store`], and its two backends.
//!
//! - [`Sqlite`] (`sqlite.rs`): an embedded SQLite database (bundled, no system library), the
//!   default: a file per CSM, or the demo portfolio in memory.
//! - [`Postgres`] (`postgres.rs`): a shared PostgreSQL database, for a team whose replicas
//!   (`serve --http --stateless`) must all see the same accounts and plan history.
//!
//! Front ends hold a `dyn Store` (through [`crate::accounts::Accounts`], which also opens a
//! store on first use) and never know which backend answers. Both give the same answers
//! for the same imports, byte for byte: the import logic is the same code (SQLite's), the
//! snapshot read back is the same value, and the engine does the rest.
//!
//! Resolving `{"account": "<name or id>"}` to one account is the same on both: exact id,
//! then case-insensitive name, then a unique prefix; anything else is an error that lists
//! the closest matches ([`not_found`], [`ambiguous_name`], [`ambiguous_prefix`]).

mod cache;
pub mod confined;
pub mod csv_source;
pub mod import;
pub mod mapping;
pub mod migrations;
pub mod postgres;
pub mod readings;
pub mod rows;
pub mod sqlite;
pub mod suggest;
mod values;

use std::path::Path;
use std::sync::Arc;

use crate::engine::policy::Policy;
use crate::model::portfolio::{
    AccountFilter, DueReassessment, ImportReport, PlanRecord, SegmentRow,
};
use crate::model::{Day, InputError, Snapshot};

pub use self::postgres::Postgres;
pub use self::sqlite::{BUSY_TIMEOUT_SECS, Sqlite};

/// A stored account: its key in the store and its snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub key: i64,
    pub snapshot: Snapshot,
}

/// What a segment scan reads for one account: the segment row its store kept from import
/// (for the policy, engine build and day the scan asks for, see [`Store::scan_segment`]),
/// or else its snapshot, to assess.
///
/// Unboxed snapshot: a `Stored` is handed by value to the scan's callback and never held,
/// so its size costs a copy, where a box would cost an allocation per account.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    Row(Box<SegmentRow>),
    Snapshot(Snapshot),
}

/// Why an account question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The question was wrong: an unknown or ambiguous name, an empty query.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The store failed (I/O, corruption, a database server that cannot be reached): not
    /// the caller's fault.
    #[error("{0}")]
    Unavailable(String),
    /// The store cannot write (a read-only database or role, a full disk); nothing was
    /// changed, and reading still works.
    #[error("{0}")]
    Unwritable(String),
}

/// The accounts a server or command works with, whichever database holds them. Every
/// method is one question or one write transaction; none keeps a transaction open across
/// calls. Implemented by [`Sqlite`] and [`Postgres`].
pub trait Store: Send + Sync {
    /// One account by id, name or unique name prefix; `field` names the argument in errors.
    fn find(&self, query: &str, field: &str) -> Result<Found, SourceError>;
    /// Every account matching the filter, whole, one at a time, in key order.
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
    /// From now on, imports keep each written account's segment row as `policy` and this
    /// engine build assess it on the snapshot's own `as_of` (what `plan_segment` computes
    /// when no `as_of` is given), for [`Store::scan_segment`] to read instead of assessing.
    /// A store that keeps none (the default) assesses every account on every scan.
    fn keep_segment_rows(&self, policy: Arc<Policy>) {
        let _ = policy;
    }
    /// Like `scan_parallel`, for a segment plan: `each` gets, for each account, its key and
    /// the row the store kept from import when it was computed under `fingerprint`
    /// (`engine::segment::row_fingerprint`) on the day the scan assesses (`as_of`, else the
    /// snapshot's own), and otherwise the snapshot. Within a part the accounts may come in
    /// any order (the caller orders them by key). The default keeps no rows.
    fn scan_segment(
        &self,
        filter: &AccountFilter,
        parts: usize,
        fingerprint: i64,
        as_of: Option<Day>,
        each: &(dyn Fn(usize, i64, Stored) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        let _ = (fingerprint, as_of);
        self.scan_parallel(filter, parts, &|part, f| {
            each(part, f.key, Stored::Snapshot(f.snapshot))
        })
    }
    /// How many accounts match the filter.
    fn count(&self, filter: &AccountFilter) -> Result<u64, SourceError>;
    /// Names starting with, then containing, `text`; at most `limit`.
    fn complete(&self, text: &str, limit: usize) -> Result<Vec<String>, SourceError>;
    /// Every distinct segment, sorted.
    fn segments(&self) -> Result<Vec<String>, SourceError>;
    /// A page of (name, segment), by name.
    fn names_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, Option<String>)>, SourceError>;
    /// Saves a drafted plan, keyed by account and `as_of`: drafting the same plan again
    /// (here or on another replica) keeps one row.
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
    /// Where the data lives, for logs and errors: a file, `:memory:`, or a PostgreSQL URL
    /// without its password.
    fn location(&self) -> &str;
}

/// The questions resolving an account asks its store, each answered inside the one read
/// transaction the lookup runs in. [`resolve`] asks them in the one order both stores use.
pub(crate) trait Lookup {
    /// The account whose id is `id` exactly, else the lowest key whose id equals it
    /// ignoring ASCII case.
    fn key_by_id(&mut self, id: &str) -> Result<Option<i64>, StoreError>;
    /// Every account whose normalised name is `norm`, by key: (key, id, name).
    fn by_name(&mut self, norm: &str) -> Result<Vec<(i64, Option<String>, String)>, StoreError>;
    /// Up to 11 accounts whose normalised name is at least `norm` and below `upper` (a name
    /// prefix), by normalised name, then key: (key, name).
    fn by_prefix(&mut self, norm: &str, upper: &str) -> Result<Vec<(i64, String)>, StoreError>;
    /// Every account's name, for the closest matches of a name that matched nothing.
    fn all_names(&mut self) -> Result<Vec<String>, StoreError>;
    /// The account under `key`, whole.
    fn load(&mut self, key: i64) -> Result<Found, StoreError>;
}

/// `query` (normalised: `q`) resolved to one account: exact id (then ignoring case), exact
/// name, a unique name prefix; else the error that lists the closest matches. `field`
/// names the argument in errors.
pub(crate) fn resolve(
    l: &mut dyn Lookup,
    query: &str,
    q: &str,
    field: &str,
) -> Result<Found, StoreError> {
    if let Some(key) = l.key_by_id(query.trim())? {
        return l.load(key);
    }
    match l.by_name(q)?.as_slice() {
        [(key, _, _)] => return l.load(*key),
        [] => {}
        many => {
            let ids: Vec<String> = many
                .iter()
                .map(|(_, id, name)| id.clone().unwrap_or_else(|| name.clone()))
                .collect();
            return Err(ambiguous_name(field, query, &ids).into());
        }
    }
    let mut upper = q.to_string();
    upper.push(char::MAX);
    match l.by_prefix(q, &upper)?.as_slice() {
        [(key, _)] => return l.load(*key),
        [] => {}
        many => {
            let names: Vec<String> = many.iter().map(|(_, n)| n.clone()).collect();
            return Err(ambiguous_prefix(field, query, &names).into());
        }
    }
    Err(not_found(field, query, &l.all_names()?).into())
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "{path} is not an expansion-planner database ({reason}); it was left untouched: pass another file with --db"
    )]
    Foreign { path: String, reason: String },
    #[error(
        "{path} is corrupt ({reason}); it was left untouched: restore it from a backup, or pass another file with --db"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "{path} was written by a newer expansion-planner (schema version {found}; this build knows up to {known}); it was left untouched"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error(
        "cannot write to {path}: the database is read-only ({reason}); nothing was changed. Reading still works (plan, scan, list_accounts, get_account, plan_segment); to import or save plans, make the file and its directory writable, or pass another file with --db"
    )]
    ReadOnly { path: String, reason: String },
    /// A PostgreSQL role that may read but not write: the same refusal as
    /// [`StoreError::ReadOnly`], with the grant that would allow it.
    #[error(
        "cannot write to {path}: the database is read-only ({reason}); nothing was changed. Reading still works (plan, scan, list_accounts, get_account, plan_segment); to import or save plans, connect as a role that may write (GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO it), or pass another --db"
    )]
    ReadOnlyRole { path: String, reason: String },
    #[error(
        "cannot write to {path}: the disk is full ({reason}); nothing was changed: the write was rolled back and the database holds what it held before. Free space on the disk that holds {path} and try again"
    )]
    Full { path: String, reason: String },
    #[error(
        "cannot write to {path}: another process holds the database's write lock ({reason}) and did not release it within {BUSY_TIMEOUT_SECS} s; nothing was changed. Reading still works; try again once the other write (an import, say) has finished"
    )]
    Busy { path: String, reason: String },
    /// The PostgreSQL server could not be reached, went away, or did not answer in time.
    /// `server` is the URL without its password.
    #[error(
        "the PostgreSQL server {server} is not available ({reason}); nothing was changed by this call. Check that the server is running and reachable; expansion-planner reconnects by itself once it is back"
    )]
    Unreachable { server: String, reason: String },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database error on {server}: {reason}")]
    Postgres { server: String, reason: String },
    #[error("stored data is invalid: {0}")]
    Data(String),
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Io(String),
}

impl From<StoreError> for SourceError {
    fn from(e: StoreError) -> SourceError {
        match e {
            StoreError::Input(i) => SourceError::Input(i),
            e @ (StoreError::ReadOnly { .. }
            | StoreError::ReadOnlyRole { .. }
            | StoreError::Full { .. }
            | StoreError::Busy { .. }) => SourceError::Unwritable(e.to_string()),
            other => SourceError::Unavailable(other.to_string()),
        }
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
