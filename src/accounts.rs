//! Which store a server or command works with, reached on first use when it must be.
//!
//! [`Accounts`] is a [`Store`] handle: it dereferences to the store itself (SQLite or
//! PostgreSQL), so `planner.accounts.find(..)` is the store's own method, with no layer in
//! between. What it adds is *when* the store is opened:
//! - [`Accounts::ready`]: a store already open (`scan`, `import`, `serve --http`);
//! - [`Accounts::demo`]: the embedded demo portfolio, one in-memory SQLite store per process,
//!   built on first use;
//! - [`Accounts::deferred`]: `serve` on stdio answers `initialize` first and opens the
//!   database after (on the warm-up thread, see `mcp::warm_up`): opening it (the schema
//!   check, the demo import for `--demo`, a connection to PostgreSQL) took most of the
//!   start-up time. A database that cannot be opened is then reported by every call that
//!   needs it, naming the file or server and the reason, and in the log; each such call
//!   tries again, so a database server that was down at start is used once it is up.
//!
//! The store module does not know this one: `store` ← `accounts` ← `service`, no cycle.

use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use crate::engine::policy::Policy;
use crate::model::Day;
use crate::model::portfolio::{AccountFilter, DueReassessment, ImportReport, PlanRecord};
use crate::store::{Postgres, Sqlite};

pub use crate::store::{
    EMPTY_STORE, Found, SourceError, Store, ambiguous_name, ambiguous_prefix, not_found,
};

type Opener = Box<dyn Fn() -> Result<Arc<dyn Store>, String> + Send + Sync>;

/// A store, open or opened on first use. Dereferences to the store.
pub struct Accounts {
    /// The store once it is open.
    open: OnceLock<Arc<dyn Store>>,
    /// How to open it; tried again on the next use while it fails (a database server that
    /// was down when the server started is used once it is up).
    opener: Option<Opener>,
    /// One opening at a time.
    opening: Mutex<()>,
    /// What answers while the store cannot be opened: the latest reason.
    unavailable: Unavailable,
    /// The policy the store keeps segment rows for (`Store::keep_segment_rows`), told to
    /// a store opened later when it opens.
    keep: OnceLock<Arc<Policy>>,
}

/// The embedded demo portfolio: `Planner::new(policy, Arc::new(Demo))` serves it. Every
/// `Demo` shares one in-memory store; `Sqlite::demo()` gives a private one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Demo;

static DEMO: LazyLock<Result<Arc<dyn Store>, String>> = LazyLock::new(|| {
    Sqlite::demo()
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(|e| format!("the demo portfolio cannot be loaded: {e}"))
});

impl Accounts {
    fn with(opener: Option<Opener>) -> Accounts {
        Accounts {
            open: OnceLock::new(),
            opener,
            opening: Mutex::new(()),
            unavailable: Unavailable(Arc::new(Mutex::new(String::from(
                "the account store is not open",
            )))),
            keep: OnceLock::new(),
        }
    }

    /// A store that is already open.
    pub fn ready(store: Arc<dyn Store>) -> Accounts {
        let a = Accounts::with(None);
        let _ = a.open.set(store);
        a
    }

    /// The shared demo portfolio, built on first use.
    pub fn demo() -> Accounts {
        Accounts::with(Some(Box::new(|| DEMO.clone())))
    }

    /// A store opened on first use; while `open` fails, every call answers its error, and
    /// the next call tries again.
    pub fn deferred(
        open: impl Fn() -> Result<Box<dyn Store>, String> + Send + Sync + 'static,
    ) -> Accounts {
        Accounts::with(Some(Box::new(move || open().map(Arc::from))))
    }

    /// Imports through this handle keep each account's segment row under `policy` (the
    /// planner's), now if the store is open, else as soon as it opens. The first policy
    /// told is the one kept.
    pub fn keep_rows_for(&self, policy: Arc<Policy>) {
        if self.keep.set(policy.clone()).is_ok()
            && let Some(store) = self.open.get()
        {
            store.keep_segment_rows(policy);
        }
    }

    /// Opens the store now if it is not open yet (off the request path, after the MCP
    /// handshake), and logs why when it cannot be.
    pub fn warm_up(&self) {
        if self.get().is_none() {
            tracing::error!(
                "the account store is not available: {}",
                self.unavailable.text()
            );
        }
    }

    /// The store, opening it if it is not open yet; `None` (with the reason in
    /// `unavailable`) while it cannot be opened.
    fn get(&self) -> Option<&Arc<dyn Store>> {
        if let Some(store) = self.open.get() {
            return Some(store);
        }
        let opener = self.opener.as_ref()?;
        let _one = self.opening.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = self.open.get() {
            return Some(store);
        }
        match opener() {
            Ok(store) => {
                if let Some(policy) = self.keep.get() {
                    store.keep_segment_rows(policy.clone());
                }
                Some(self.open.get_or_init(|| store))
            }
            Err(reason) => {
                *self.unavailable.0.lock().unwrap_or_else(|e| e.into_inner()) = reason;
                None
            }
        }
    }
}

impl std::ops::Deref for Accounts {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        match self.get() {
            Some(store) => store.as_ref(),
            None => &self.unavailable,
        }
    }
}

impl From<Demo> for Accounts {
    fn from(_: Demo) -> Accounts {
        Accounts::demo()
    }
}

impl From<Arc<Demo>> for Accounts {
    fn from(_: Arc<Demo>) -> Accounts {
        Accounts::demo()
    }
}

impl<S: Store + 'static> From<Arc<S>> for Accounts {
    fn from(store: Arc<S>) -> Accounts {
        Accounts::ready(store)
    }
}

impl From<Sqlite> for Accounts {
    fn from(store: Sqlite) -> Accounts {
        Accounts::ready(Arc::new(store))
    }
}

impl From<Postgres> for Accounts {
    fn from(store: Postgres) -> Accounts {
        Accounts::ready(Arc::new(store))
    }
}

impl From<Arc<dyn Store>> for Accounts {
    fn from(store: Arc<dyn Store>) -> Accounts {
        Accounts::ready(store)
    }
}

impl From<Box<dyn Store>> for Accounts {
    fn from(store: Box<dyn Store>) -> Accounts {
        Accounts::ready(Arc::from(store))
    }
}

/// A store that could not be opened: every question is answered with why.
#[derive(Clone, Debug)]
struct Unavailable(Arc<Mutex<String>>);

impl Unavailable {
    fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn err<T>(&self) -> Result<T, SourceError> {
        Err(SourceError::Unavailable(self.text()))
    }
}

impl Store for Unavailable {
    fn find(&self, _: &str, _: &str) -> Result<Found, SourceError> {
        self.err()
    }
    fn scan(
        &self,
        _: &AccountFilter,
        _: &mut dyn FnMut(Found) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        self.err()
    }
    fn count(&self, _: &AccountFilter) -> Result<u64, SourceError> {
        self.err()
    }
    fn complete(&self, _: &str, _: usize) -> Result<Vec<String>, SourceError> {
        self.err()
    }
    fn segments(&self) -> Result<Vec<String>, SourceError> {
        self.err()
    }
    fn names_page(&self, _: usize, _: usize) -> Result<Vec<(String, Option<String>)>, SourceError> {
        self.err()
    }
    fn save_plan(&self, _: i64, _: &PlanRecord) -> Result<(), SourceError> {
        self.err()
    }
    fn plans(&self, _: i64) -> Result<Vec<PlanRecord>, SourceError> {
        self.err()
    }
    fn due(&self, _: &AccountFilter, _: Day) -> Result<Vec<DueReassessment>, SourceError> {
        self.err()
    }
    fn import(&self, _: &Path, _: Option<&Path>, _: bool) -> Result<ImportReport, SourceError> {
        self.err()
    }
    fn import_opened(
        &self,
        _: &Path,
        _: std::fs::File,
        _: Option<(String, String)>,
        _: bool,
    ) -> Result<ImportReport, SourceError> {
        self.err()
    }
    fn location(&self) -> &str {
        "(not opened)"
    }
}
