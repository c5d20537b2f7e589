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
//!   needs it, naming the file or server and the reason, and in the log.
//!
//! The store module does not know this one: `store` ← `accounts` ← `service`, no cycle.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use crate::model::Day;
use crate::model::portfolio::{AccountFilter, DueReassessment, ImportReport, PlanRecord};
use crate::store::{Postgres, Sqlite};

pub use crate::store::{
    EMPTY_STORE, Found, SourceError, Store, ambiguous_name, ambiguous_prefix, not_found,
};

type Opener = Box<dyn FnOnce() -> Result<Arc<dyn Store>, Unavailable> + Send>;

/// A store, open or opened on first use. Dereferences to the store.
pub struct Accounts(LazyLock<Result<Arc<dyn Store>, Unavailable>, Opener>);

/// The embedded demo portfolio: `Planner::new(policy, Arc::new(Demo))` serves it. Every
/// `Demo` shares one in-memory store; `Sqlite::demo()` gives a private one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Demo;

static DEMO: LazyLock<Result<Arc<dyn Store>, Unavailable>> = LazyLock::new(|| {
    Sqlite::demo()
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(|e| Unavailable(format!("the demo portfolio cannot be loaded: {e}")))
});

impl Accounts {
    /// A store that is already open.
    pub fn ready(store: Arc<dyn Store>) -> Accounts {
        Accounts(LazyLock::new(Box::new(move || Ok(store))))
    }

    /// The shared demo portfolio, built on first use.
    pub fn demo() -> Accounts {
        Accounts(LazyLock::new(Box::new(|| DEMO.clone())))
    }

    /// A store opened on first use; `open`'s error is what every call then answers.
    pub fn deferred(
        open: impl FnOnce() -> Result<Box<dyn Store>, String> + Send + 'static,
    ) -> Accounts {
        Accounts(LazyLock::new(Box::new(move || {
            open().map(Arc::from).map_err(Unavailable)
        })))
    }

    /// Opens the store now if it is not open yet (off the request path, after the MCP
    /// handshake), and logs why when it cannot be.
    pub fn warm_up(&self) {
        if let Err(e) = LazyLock::force(&self.0) {
            tracing::error!("the account store is not available: {}", e.0);
        }
    }
}

impl std::ops::Deref for Accounts {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        match LazyLock::force(&self.0) {
            Ok(store) => store.as_ref(),
            Err(unavailable) => unavailable,
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
struct Unavailable(String);

impl Unavailable {
    fn err<T>(&self) -> Result<T, SourceError> {
        Err(SourceError::Unavailable(self.0.clone()))
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
