//! The PostgreSQL store: a team's replicas (`serve --http --stateless`) on one database.
//!
//! ## Shape
//! - `accounts`: one row per account: the key, the columns an account is looked up or
//!   filtered by (`id`, `name`, `name_norm`, `segment`, `csm`), and the segment row kept
//!   from import (`seg_row`, with the fingerprint and day it was computed for; see V4).
//! - `account_data`: the snapshot of each account, in two columns: without its usage
//!   history as JSON text (`lean`), and the history packed (`readings`, `store::readings`).
//!   Every read hands back the two as one snapshot.
//! - `plans`: the plan history, `PRIMARY KEY (account, as_of)`; a save is an
//!   `INSERT .. ON CONFLICT (account, as_of) DO UPDATE`, so two replicas drafting the same
//!   plan keep one row.
//! - `store_version`: one counter, bumped by every transaction that changes `accounts`.
//!   `find` reads it in the same snapshot (REPEATABLE READ) as the account, and reuses what
//!   it read before only while the counter is unchanged: the read cache is invalidated
//!   exactly, whichever replica wrote.
//! - `expansion_planner_schema`: the schema version, for versioned migrations (each in its
//!   own transaction, under an advisory lock so that replicas starting together migrate once).
//!
//! Every text column is `COLLATE "C"` (byte order, as SQLite's default) and case-insensitive
//! comparisons go through `ep_nocase`, ASCII-only like SQLite's `NOCASE`: the same filters and
//! the same orders on both stores, so the same answers byte for byte.
//!
//! ## Imports
//! An import is the SQLite store's own import, run inside one PostgreSQL transaction that
//! holds `accounts` in `EXCLUSIVE` mode (readers go on; other imports and saves wait) against
//! an in-memory SQLite copy: every account's key, id and name, and the whole snapshot of each
//! account the file names, brought in the first time it does
//! (`import::import_opened_staged`). The same parsing, mapping, merging and reports, all or
//! nothing. The accounts the file changed or created are then written back, the version
//! bumped if any was, and the transaction committed. Two imports into the same accounts
//! therefore run one after the other, never interleaved.
//!
//! ## Failures
//! The server's URL is shown without its password everywhere ([`Postgres::location`]). A
//! server that is down, goes away or does not answer is [`StoreError::Unreachable`] naming
//! it; connections are checked when taken from the pool, so the store recovers by itself once
//! the server is back. Timeouts (connect 5 s, statements 25 s by default, under the HTTP
//! request timeout of 30 s; lock waits 5 s, as SQLite's busy timeout; TCP keepalives) keep a
//! call from hanging; whole-segment reads and an import's own work are not cut short. A role that may not
//! write is refused up front, or when the server says so, with
//! [`StoreError::ReadOnlyRole`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Config, IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2;

use super::Stored;
use super::rows::{day_text, norm, parse_day};
use super::sqlite::outcome_from;
use super::{Found, SourceError, Sqlite, Store, StoreError, cache, import};
use crate::engine::policy::Policy;
use crate::engine::segment;
use crate::model::portfolio::{
    AccountFilter, DueReassessment, ImportReport, PlanRecord, SegmentRow,
};
use crate::model::results::{Confidence, ExpansionType, Status};
use crate::model::{Day, InputError, Money, Snapshot};

/// Whether `--db` names a PostgreSQL server rather than a file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// How long connecting may take, unless the URL sets `connect_timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one statement may run, unless the URL's `options` set `statement_timeout`:
/// under the HTTP request timeout's default (30 s).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(25);

/// How long a write waits for another's lock (an import holds the accounts table) before
/// it gives up with [`StoreError::Busy`], as SQLite's busy timeout; unless the URL's
/// `options` set `lock_timeout`.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(super::BUSY_TIMEOUT_SECS);

/// Reading a whole segment and the work of an import are not cut short by the statement
/// timeout: they read or write every selected account, and nothing can block a read. A
/// server that vanishes meanwhile is noticed by the TCP keepalives.
const UNBOUNDED: &str = "SET LOCAL statement_timeout = 0";

/// A segment scan's transaction: unbounded (above), and without JIT compilation. The scan
/// is one index walk that hands rows out as they are; compiling it buys nothing, and at a
/// million accounts its estimated cost is past `jit_above_cost`, where compiling with
/// inlining took the server 130 ms before the first row (`EXPLAIN ANALYZE`).
/// What a scan of whole snapshots reads (see `Postgres::read_rows`).
const SNAPSHOT_COLUMNS: &str = "d.lean, d.readings FROM accounts JOIN account_data d USING (key)";

/// How many accounts a segment scan asks `account_data` for at a time.
const MISSED_AT_ONCE: usize = 4096;

const WHOLE_SCAN: &str = "SET LOCAL statement_timeout = 0; SET LOCAL jit = off";

/// Every migration, in order; the index + 1 is the version it brings the schema to.
/// Append; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

const V1: &str = r#"
CREATE FUNCTION ep_nocase(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;

CREATE TABLE accounts (
    key       bigint PRIMARY KEY,
    id        text COLLATE "C" UNIQUE,
    name      text COLLATE "C" NOT NULL,
    name_norm text COLLATE "C" NOT NULL,
    segment   text COLLATE "C",
    csm       text COLLATE "C",
    snapshot  text NOT NULL
);
CREATE INDEX accounts_name_norm ON accounts (name_norm);
CREATE INDEX accounts_id_nocase ON accounts (ep_nocase(id));
CREATE INDEX accounts_segment ON accounts (ep_nocase(segment));
CREATE INDEX accounts_csm ON accounts (ep_nocase(csm));

CREATE TABLE plans (
    account                       bigint NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    as_of                         text COLLATE "C" NOT NULL,
    outcome                       text NOT NULL,
    status                        text,
    utilisation_pct               double precision,
    sustained_utilisation_pct     double precision,
    score                         double precision,
    active_users                  bigint,
    licensed_seats                bigint,
    expansion_type                text,
    estimated_expansion_arr_cents bigint,
    confidence                    text,
    currency                      text NOT NULL,
    reassess_on                   text COLLATE "C",
    top_reason                    text NOT NULL,
    markdown                      text NOT NULL,
    PRIMARY KEY (account, as_of)
);
CREATE INDEX plans_reassess_on ON plans (reassess_on);

CREATE TABLE store_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO store_version (version) VALUES (0);
"#;

/// Issue 14: what a segment scan reads instead of the whole snapshot: the snapshot without
/// its usage history (`lean`, JSON) and the history packed (`readings`, see
/// `store::readings`), written with `snapshot` in the same statement (until V3 dropped it).
/// A JSON array of 90 readings was most of what a scan parsed. Filled for the accounts already stored by
/// `Postgres::backfill_scan_columns`, then made NOT NULL.
const V2: &str = r#"
ALTER TABLE accounts ADD COLUMN lean text, ADD COLUMN readings bytea;
"#;

/// V3: `snapshot` goes. `lean` and `readings` hold the same account: a stored history has
/// one reading a day in date order (imports merge it by day in SQLite's `usage_history`),
/// which is what `readings` packs, so the two give back the snapshot exactly. Kept, it made
/// every row twice as wide, and a segment scan read the width: at a million accounts the
/// server spent 3.0 s scanning 1.6 GB of rows, 1.6 s once they were only what the scan
/// reads. The table is rewritten in key order so that the space is given back.
const V3: &str = r#"
ALTER TABLE accounts DROP COLUMN snapshot;
CLUSTER accounts USING accounts_pkey;
ANALYZE accounts;
"#;

/// V4: each account's segment row, kept from import (`Store::keep_segment_rows`): the row
/// as JSON (`seg_row`), the day it was assessed on (`seg_day`, the snapshot's own `as_of`)
/// and the policy and engine build it was computed under (`seg_fp`,
/// `engine::segment::row_fingerprint`). Written in the same transaction as the account,
/// from the same snapshot, so a row never outlives the account it was computed from; a
/// scan reads it only when `seg_fp` and `seg_day` are what it would compute with, and
/// assesses the snapshot otherwise. NULL (an account stored before V4, one without an
/// `as_of`, or imported by a build told of no policy): assessed on every scan, as before.
///
/// The snapshot itself (`lean`, `readings`) moves to a table of its own, `account_data`,
/// read by key only for the accounts a scan must assess: kept in `accounts`, a scan that
/// reads only kept rows still had the server read every snapshot (202 MB at 100,000
/// accounts, a third of the scan's time).
const V4: &str = r#"
ALTER TABLE accounts ADD COLUMN seg_fp bigint, ADD COLUMN seg_day text COLLATE "C", ADD COLUMN seg_row text;
CREATE TABLE account_data (
    key      bigint PRIMARY KEY REFERENCES accounts (key) ON DELETE CASCADE,
    lean     text NOT NULL,
    readings bytea NOT NULL
);
INSERT INTO account_data (key, lean, readings) SELECT key, lean, readings FROM accounts ORDER BY key;
ALTER TABLE accounts DROP COLUMN lean, DROP COLUMN readings;
CLUSTER accounts USING accounts_pkey;
ANALYZE accounts;
ANALYZE account_data;
"#;

/// The schema version this build writes.
fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Any constant: the advisory lock replicas take to migrate one at a time.
const MIGRATION_LOCK: i64 = 0x4558_504C;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// The pool's last connection error, with its cause ("Connection refused"), for the error a
/// caller gets when no connection could be had in time.
#[derive(Debug, Default)]
struct LastError(Arc<Mutex<Option<String>>>);

impl r2d2::HandleError<postgres::Error> for LastError {
    fn handle_error(&self, e: postgres::Error) {
        let text = with_cause(&e);
        tracing::debug!("PostgreSQL connection failed: {text}");
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
    }
}

/// An error and its causes, `a: b: c`.
fn with_cause(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// The PostgreSQL store.
pub struct Postgres {
    pool: Pool,
    /// `postgres://user@host:port/database`: the URL without its password.
    location: String,
    /// Why this role cannot write, when it cannot; every write is then refused up front.
    read_only: Option<String>,
    cache: Mutex<cache::ReadCache>,
    last_error: Arc<Mutex<Option<String>>>,
    /// The policy imports keep segment rows for, and its fingerprint; none until
    /// `keep_segment_rows`.
    keep: RwLock<Option<(Arc<Policy>, i64)>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("location", &self.location)
            .finish()
    }
}

/// The URL without its password (and without any other parameter).
fn shown(config: &Config) -> String {
    let user = config.get_user().unwrap_or("");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            let port = config
                .get_ports()
                .get(i)
                .or_else(|| config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!(
        "postgres://{at}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or(user)
    )
}

impl Postgres {
    /// Connects to the database `url` names, creating or migrating the schema on first use.
    /// The pool opens more connections as needed and replaces broken ones.
    pub fn open(url: &str) -> Result<Postgres, StoreError> {
        let mut config: Config = url.parse().map_err(|e: postgres::Error| StoreError::Open {
            path: redact(url),
            reason: format!("the URL is not a PostgreSQL connection URL: {e}"),
        })?;
        let location = shown(&config);
        // A password kept out of the command line (where `ps` shows it), as libpq reads it.
        if config.get_password().is_none()
            && let Some(pw) = std::env::var_os("PGPASSWORD")
        {
            config.password(pw.as_encoded_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let mut options = config.get_options().unwrap_or("").to_string();
        for (name, value) in [
            ("statement_timeout", STATEMENT_TIMEOUT),
            ("lock_timeout", LOCK_TIMEOUT),
        ] {
            if !options.contains(name) {
                if !options.is_empty() {
                    options.push(' ');
                }
                options.push_str(&format!("-c {name}={}", value.as_millis()));
            }
        }
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name("expansion-planner");
        }
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(2))
            .keepalives_retries(3);
        let manager = PostgresConnectionManager::new(config, NoTls);
        let last_error = LastError::default();
        let shared = last_error.0.clone();
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .min_idle(Some(0))
            .connection_timeout(CONNECT_TIMEOUT + Duration::from_secs(1))
            .error_handler(Box::new(last_error))
            .build_unchecked(manager);
        let mut store = Postgres {
            pool,
            location,
            read_only: None,
            cache: Mutex::default(),
            last_error: shared,
            keep: RwLock::new(None),
        };
        store.read_only = store.prepare()?;
        if let Some(reason) = &store.read_only {
            tracing::warn!(
                db = %store.location,
                "the database is read-only for this role ({reason}): reading works; imports and saving plans are refused"
            );
        }
        Ok(store)
    }

    /// Checks the schema (ours? too new?), migrates it when this role may, and says why
    /// this role cannot write, when it cannot.
    fn prepare(&self) -> Result<Option<String>, StoreError> {
        let mut client = self.client()?;
        let e = |e: postgres::Error| self.classify(e);
        let row = client
            .query_one(
                "SELECT current_user::text, to_regclass('expansion_planner_schema') IS NOT NULL, to_regclass('accounts') IS NOT NULL, current_setting('transaction_read_only') = 'on'",
                &[],
            )
            .map_err(e)?;
        let user: String = row.get(0);
        let ours: bool = row.get(1);
        let has_accounts: bool = row.get(2);
        let standby: bool = row.get(3);
        if !ours && has_accounts {
            return Err(StoreError::Foreign {
                path: self.location.clone(),
                reason: "it has an `accounts` table but no expansion-planner schema version".into(),
            });
        }
        let version: i64 = if ours {
            client
                .query_one(
                    "SELECT max(version)::bigint FROM expansion_planner_schema",
                    &[],
                )
                .map_err(e)?
                .get::<_, Option<i64>>(0)
                .unwrap_or(0)
        } else {
            0
        };
        if version > latest() {
            return Err(StoreError::TooNew {
                path: self.location.clone(),
                found: version,
                known: latest(),
            });
        }
        let mut read_only = if standby {
            Some("the server only accepts read-only transactions".to_string())
        } else {
            None
        };
        if version < latest() {
            if let Some(reason) = &read_only {
                return Err(StoreError::ReadOnlyRole {
                    path: self.location.clone(),
                    reason: format!("{reason}; and its schema needs to be created or upgraded"),
                });
            }
            self.migrate(&mut client).map_err(|err| match err {
                StoreError::ReadOnlyRole { path, reason } => StoreError::ReadOnlyRole {
                    path,
                    reason: format!(
                        "{reason}; the role `{user}` cannot create the schema: run expansion-planner once as the database's owner"
                    ),
                },
                other => other,
            })?;
        }
        if read_only.is_none() {
            let may_write: bool = client
                .query_one(
                    "SELECT has_table_privilege('accounts', 'INSERT, UPDATE, DELETE') AND has_table_privilege('plans', 'INSERT, UPDATE') AND has_table_privilege('store_version', 'UPDATE')",
                    &[],
                )
                .map_err(e)?
                .get(0);
            if !may_write {
                read_only = Some(format!(
                    "the role `{user}` may read the tables but not write them"
                ));
            }
        }
        Ok(read_only)
    }

    /// V2: packs the history of every account stored before it and writes its snapshot
    /// without the history (`lean`), in the migration's own transaction.
    fn backfill_scan_columns(&self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        let e = |e: postgres::Error| self.classify(e);
        let rows = tx
            .query("SELECT key, snapshot FROM accounts WHERE lean IS NULL", &[])
            .map_err(e)?;
        for row in rows {
            let key: i64 = row.get(0);
            let text: &str = row.get(1);
            let (lean, readings) = scan_columns(&mut decode(key, text)?)?;
            tx.execute(
                "UPDATE accounts SET lean = $2, readings = $3 WHERE key = $1",
                &[&key, &lean, &readings],
            )
            .map_err(e)?;
        }
        tx.batch_execute(
            "ALTER TABLE accounts ALTER COLUMN lean SET NOT NULL, ALTER COLUMN readings SET NOT NULL",
        )
        .map_err(e)?;
        Ok(())
    }

    fn migrate(&self, client: &mut postgres::Client) -> Result<(), StoreError> {
        let e = |e: postgres::Error| self.classify(e);
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
            let mut tx = client.transaction().map_err(e)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .map_err(e)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS expansion_planner_schema (version bigint PRIMARY KEY)",
            )
            .map_err(e)?;
            let done: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM expansion_planner_schema WHERE version = $1)",
                    &[&version],
                )
                .map_err(e)?
                .get(0);
            if done {
                continue;
            }
            tx.batch_execute(sql).map_err(e)?;
            if version == 2 {
                self.backfill_scan_columns(&mut tx)?;
            }
            tx.execute(
                "INSERT INTO expansion_planner_schema (version) VALUES ($1)",
                &[&version],
            )
            .map_err(e)?;
            tx.commit().map_err(e)?;
            tracing::info!(version, db = %self.location, "database migrated");
        }
        Ok(())
    }

    /// A connection from the pool (checked on the way out), or why none can be had.
    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        self.pool.get().map_err(|e| {
            let last = self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            StoreError::Unreachable {
                server: self.location.clone(),
                reason: match last {
                    Some(last) => format!(
                        "no connection within {} s: {last}",
                        self.pool.connection_timeout().as_secs()
                    ),
                    None => format!("cannot connect: {e}"),
                },
            }
        })
    }

    /// A PostgreSQL error as the store's: the server gone or not answering, a role that
    /// may not write, or anything else, each naming the server.
    fn classify(&self, e: postgres::Error) -> StoreError {
        let server = self.location.clone();
        let code = e.code().cloned();
        let text = match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => with_cause(&e),
        };
        match code {
            Some(c) if c == SqlState::INSUFFICIENT_PRIVILEGE => StoreError::ReadOnlyRole {
                path: server,
                reason: format!("PostgreSQL: {text}"),
            },
            Some(c) if c == SqlState::READ_ONLY_SQL_TRANSACTION => StoreError::ReadOnlyRole {
                path: server,
                reason: format!("PostgreSQL: {text}"),
            },
            Some(c) if c == SqlState::LOCK_NOT_AVAILABLE => StoreError::Busy {
                path: server,
                reason: format!("PostgreSQL: {text}"),
            },
            Some(c) if c == SqlState::QUERY_CANCELED => StoreError::Unreachable {
                server,
                reason: format!("the statement did not finish in time: {text}"),
            },
            Some(c)
                if c == SqlState::ADMIN_SHUTDOWN
                    || c == SqlState::CRASH_SHUTDOWN
                    || c == SqlState::CANNOT_CONNECT_NOW
                    || c == SqlState::CONNECTION_FAILURE
                    || c == SqlState::CONNECTION_EXCEPTION =>
            {
                StoreError::Unreachable {
                    server,
                    reason: format!("the server went away: {text}"),
                }
            }
            Some(_) => StoreError::Postgres {
                server,
                reason: text,
            },
            None => StoreError::Unreachable {
                server,
                reason: if e.is_closed() {
                    format!("the connection was closed: {text}")
                } else {
                    text
                },
            },
        }
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        match &self.read_only {
            Some(reason) => Err(StoreError::ReadOnlyRole {
                path: self.location.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn cache(&self) -> MutexGuard<'_, cache::ReadCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One question or write, its errors as the caller's.
    fn run<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, SourceError> {
        f().map_err(SourceError::from)
    }

    fn find_in(
        &self,
        tx: &mut Transaction<'_>,
        query: &str,
        q: &str,
        field: &str,
    ) -> Result<Found, StoreError> {
        super::resolve(&mut PgLookup { store: self, tx }, query, q, field)
    }

    fn load_key(&self, tx: &mut Transaction<'_>, key: i64) -> Result<Found, StoreError> {
        let row = tx
            .query_opt(
                "SELECT lean, readings FROM account_data WHERE key = $1",
                &[&key],
            )
            .map_err(|e| self.classify(e))?
            .ok_or_else(|| StoreError::Data(format!("account key {key} vanished")))?;
        Ok(Found {
            key,
            snapshot: decode_stored(key, row.get(0), row.get(1))?,
        })
    }

    /// Imports inside one transaction. The stored accounts' keys, ids and names are staged
    /// in an in-memory SQLite store; `run` imports the file into it, bringing in each
    /// account the file names (its whole snapshot) on first use; the accounts it changed or
    /// created are written back, all in the one transaction.
    fn import_with(
        &self,
        run: impl FnOnce(&Sqlite, &mut import::Stage<'_>) -> Result<ImportReport, StoreError>,
    ) -> Result<ImportReport, StoreError> {
        // Even a dry run writes, inside a transaction it then rolls back.
        self.check_writable()?;
        let e = |e: postgres::Error| self.classify(e);
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(e)?;
        tx.batch_execute("LOCK TABLE accounts IN EXCLUSIVE MODE")
            .map_err(e)?;
        tx.batch_execute(UNBOUNDED).map_err(e)?;
        let staged = Sqlite::in_memory()?;
        let mut last_key = 0_i64;
        {
            let conn = staged.conn();
            let st = conn.unchecked_transaction()?;
            let mut rows = tx
                .query_raw(
                    "SELECT key, id, name, name_norm FROM accounts ORDER BY key",
                    std::iter::empty::<&(dyn ToSql + Sync)>(),
                )
                .map_err(e)?;
            while let Some(row) = rows.next().map_err(e)? {
                let key: i64 = row.get(0);
                super::rows::insert_stub(&st, key, row.get(1), row.get(2), row.get(3))?;
                last_key = last_key.max(key);
            }
            st.commit()?;
        }
        // Each account the file names, as stored (its two columns and the fingerprint of the
        // segment row kept with it), by key.
        let mut before: HashMap<i64, (String, Vec<u8>, Option<i64>)> = HashMap::new();
        let report = {
            let mut stage = |conn: &rusqlite::Connection, key: i64| -> Result<(), StoreError> {
                if key > last_key {
                    // Created by this file: nothing stored to bring in.
                    return Ok(());
                }
                let row = tx
                    .query_opt(
                        "SELECT d.lean, d.readings, a.seg_fp FROM accounts a JOIN account_data d USING (key) WHERE key = $1",
                        &[&key],
                    )
                    .map_err(|err| self.classify(err))?
                    .ok_or_else(|| StoreError::Data(format!("account key {key} vanished")))?;
                let (lean, readings, seg_fp): (String, Vec<u8>, Option<i64>) =
                    (row.get(0), row.get(1), row.get(2));
                super::rows::write_snapshot(
                    conn,
                    Some(key),
                    &decode_stored(key, &lean, &readings)?,
                )?;
                before.insert(key, (lean, readings, seg_fp));
                Ok(())
            };
            run(&staged, &mut stage)?
        };
        if !report.written {
            return Ok(report);
        }
        let mut keys: Vec<i64> = before.keys().copied().collect();
        {
            let conn = staged.conn();
            let mut st = conn.prepare("SELECT key FROM accounts WHERE key > ?1 ORDER BY key")?;
            let created = st.query_map([last_key], |r| r.get::<_, i64>(0))?;
            for k in created {
                keys.push(k?);
            }
        }
        keys.sort_unstable();
        let mut batch = Batch::default();
        let mut changed = 0_usize;
        let keep = self.keep.read().unwrap_or_else(|e| e.into_inner()).clone();
        for key in keys {
            let s = {
                let conn = staged.conn();
                super::rows::load(&conn, key, false)?
            };
            let Some(mut s) = s else { continue };
            let (lean, readings) = scan_columns(&mut s)?;
            // The row is computed from the account as a scan will read it back, so that a
            // kept row and one assessed on the spot are the same by construction.
            let kept = match &keep {
                Some(k) => kept_row(Some(k), &decode_stored(key, &lean, &readings)?)?,
                None => None,
            };
            let was = before.get(&key);
            let differs = was.is_none_or(|(l, r, _)| *l != lean || *r != readings);
            // An account the file left as it was is written again only to bring its kept
            // row up to this policy and build; that changes no answer, so it does not count
            // as a change (no reassessment, no stale read caches).
            let refresh =
                !differs && kept.is_some() && was.and_then(|w| w.2) != kept.as_ref().map(|k| k.0);
            if differs || refresh {
                if differs {
                    changed += 1;
                }
                batch.push(key, &s, lean, readings, kept);
                if batch.len() >= Batch::SIZE {
                    batch.write(&mut tx).map_err(e)?;
                }
            }
        }
        batch.write(&mut tx).map_err(e)?;
        if changed > 0 {
            // Every replica's read cache is stale from this commit on.
            tx.execute("UPDATE store_version SET version = version + 1", &[])
                .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(report)
    }

    /// The selected accounts' `key` and `columns` (a select list, then `FROM` and the tables:
    /// `SNAPSHOT_COLUMNS`, `SEGMENT_COLUMNS`; which may use `$5` and `$6`, bound to
    /// `extra`), in key order, read in up to `parts` key ranges of equal size, each on its
    /// own thread and pooled connection (`read_part`); one part is read on the calling
    /// thread.
    fn read_rows(
        &self,
        filter: &AccountFilter,
        parts: usize,
        columns: &str,
        extra: &[&(dyn ToSql + Sync)],
        each: &(dyn Fn(usize, &postgres::Row) -> Result<(), SourceError> + Sync),
        then: &(dyn Fn(usize, &mut Transaction<'_>) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        if parts <= 1 {
            return self.read_part(
                filter,
                columns,
                extra,
                (i64::MIN, i64::MAX),
                &mut |row| each(0, row),
                &mut |tx| then(0, tx),
            );
        }
        let e = |e: postgres::Error| SourceError::from(self.classify(e));
        let (sql, segment, csm) = self.filtered(
            "SELECT min(key), max(key) FROM (SELECT key, ntile($3) OVER (ORDER BY key) AS part FROM accounts",
            filter,
            ") parts GROUP BY part ORDER BY part",
        );
        let n = i32::try_from(parts).unwrap_or(8);
        let ranges: Vec<(i64, i64)> = self
            .client()?
            .query(&sql, &[&segment, &csm, &n])
            .map_err(e)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .enumerate()
                .map(|(part, &range)| {
                    scope.spawn(move || {
                        self.read_part(
                            filter,
                            columns,
                            extra,
                            range,
                            &mut |row| each(part, row),
                            &mut |tx| then(part, tx),
                        )
                    })
                })
                .collect();
            let mut result = Ok(());
            for h in handles {
                let r = h.join().unwrap_or_else(|_| {
                    Err(SourceError::Unavailable("a reading thread stopped".into()))
                });
                if result.is_ok() {
                    result = r;
                }
            }
            result
        })
    }

    /// The selected accounts with keys from `low` to `high`, in key order, in one read-only
    /// REPEATABLE READ transaction without a statement timeout or JIT (`WHOLE_SCAN`); `then`
    /// runs in the same transaction after the last row.
    fn read_part(
        &self,
        filter: &AccountFilter,
        columns: &str,
        extra: &[&(dyn ToSql + Sync)],
        (low, high): (i64, i64),
        each: &mut dyn FnMut(&postgres::Row) -> Result<(), SourceError>,
        then: &mut dyn FnMut(&mut Transaction<'_>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let e = |e: postgres::Error| SourceError::from(self.classify(e));
        let (sql, segment, csm) = self.filtered(
            &format!("SELECT key, {columns}"),
            filter,
            "AND key BETWEEN $3 AND $4 ORDER BY key",
        );
        let mut client = self.client()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(e)?;
        tx.batch_execute(WHOLE_SCAN).map_err(e)?;
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&segment, &csm, &low, &high];
        params.extend_from_slice(extra);
        let mut rows = tx.query_raw(&sql, params).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            each(&row)?;
        }
        drop(rows);
        then(&mut tx)
    }

    fn filtered(
        &self,
        sql_head: &str,
        filter: &AccountFilter,
        tail: &str,
    ) -> (String, Option<String>, Option<String>) {
        (
            format!(
                "{sql_head} WHERE ($1::text IS NULL OR ep_nocase(segment) = ep_nocase($1)) AND ($2::text IS NULL OR ep_nocase(csm) = ep_nocase($2)) {tail}"
            ),
            filter.segment.as_deref().map(|s| s.trim().to_string()),
            filter.csm.as_deref().map(|s| s.trim().to_string()),
        )
    }
}

/// [`super::Lookup`] inside the REPEATABLE READ transaction `tx`.
struct PgLookup<'a, 't> {
    store: &'a Postgres,
    tx: &'a mut Transaction<'t>,
}

impl super::Lookup for PgLookup<'_, '_> {
    fn key_by_id(&mut self, id: &str) -> Result<Option<i64>, StoreError> {
        let e = |e: postgres::Error| self.store.classify(e);
        if let Some(r) = self
            .tx
            .query_opt("SELECT key FROM accounts WHERE id = $1", &[&id])
            .map_err(e)?
        {
            return Ok(Some(r.get(0)));
        }
        Ok(self
            .tx
            .query_opt(
                "SELECT key FROM accounts WHERE ep_nocase(id) = ep_nocase($1) ORDER BY key LIMIT 1",
                &[&id],
            )
            .map_err(e)?
            .map(|r| r.get(0)))
    }

    fn by_name(&mut self, norm: &str) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        Ok(self
            .tx
            .query(
                "SELECT key, id, name FROM accounts WHERE name_norm = $1 ORDER BY key",
                &[&norm],
            )
            .map_err(|e| self.store.classify(e))?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn by_prefix(&mut self, norm: &str, upper: &str) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(self
            .tx
            .query(
                "SELECT key, name FROM accounts WHERE name_norm >= $1 AND name_norm < $2 ORDER BY name_norm, key LIMIT 11",
                &[&norm, &upper],
            )
            .map_err(|e| self.store.classify(e))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn all_names(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .tx
            .query("SELECT name FROM accounts", &[])
            .map_err(|e| self.store.classify(e))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn load(&mut self, key: i64) -> Result<Found, StoreError> {
        self.store.load_key(self.tx, key)
    }
}

/// Accounts written back by an import, a thousand a statement.
#[derive(Default)]
struct Batch {
    keys: Vec<i64>,
    ids: Vec<Option<String>>,
    names: Vec<String>,
    norms: Vec<String>,
    segments: Vec<Option<String>>,
    csms: Vec<Option<String>>,
    leans: Vec<String>,
    readings: Vec<Vec<u8>>,
    seg_fps: Vec<Option<i64>>,
    seg_days: Vec<Option<String>>,
    seg_rows: Vec<Option<String>>,
}

/// A segment row kept from import, read back.
fn kept_from_json(key: i64, json: &str) -> Result<SegmentRow, StoreError> {
    serde_json::from_str(json).map_err(|err| {
        StoreError::Data(format!(
            "the segment row kept for account key {key} does not read back: {err}"
        ))
    })
}

/// `read` of the `wanted` accounts a segment scan had to assess had a snapshot: any fewer is
/// a store that lost one, never a plan silently short of accounts.
fn no_snapshot(wanted: usize, read: usize) -> Result<(), SourceError> {
    if read == wanted {
        return Ok(());
    }
    Err(StoreError::Data(format!(
        "{} of {wanted} accounts have no stored snapshot (table account_data)",
        wanted.saturating_sub(read)
    ))
    .into())
}

/// The segment row an import keeps with an account (see V4): its fingerprint, day and JSON;
/// none when no policy was given or the snapshot names no `as_of` (its row would depend on
/// the day a scan runs).
fn kept_row(
    keep: Option<&(Arc<Policy>, i64)>,
    s: &Snapshot,
) -> Result<Option<(i64, String, String)>, StoreError> {
    let (Some((policy, fp)), Some(day)) = (keep, s.as_of) else {
        return Ok(None);
    };
    let row = segment::assess(s, policy, day);
    let json = serde_json::to_string(&row)
        .map_err(|err| StoreError::Data(format!("account {}: {err}", s.name)))?;
    Ok(Some((*fp, day_text(day), json)))
}

/// How an account is stored: the snapshot without its usage history, as JSON (`lean`), and
/// the history packed (`readings`, `store::readings`). `s` is left without its history.
fn scan_columns(s: &mut Snapshot) -> Result<(String, Vec<u8>), StoreError> {
    let readings = super::readings::pack(&s.usage.history);
    s.usage.history = Vec::new();
    let lean = serde_json::to_string(&s)
        .map_err(|err| StoreError::Data(format!("account {}: {err}", s.name)))?;
    Ok((lean, readings))
}

impl Batch {
    const SIZE: usize = 1000;

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn push(
        &mut self,
        key: i64,
        s: &Snapshot,
        lean: String,
        readings: Vec<u8>,
        kept: Option<(i64, String, String)>,
    ) {
        self.keys.push(key);
        self.ids.push(s.id.clone());
        self.names.push(s.name.clone());
        self.norms.push(norm(&s.name));
        self.segments.push(s.segment.clone());
        self.csms.push(s.csm.clone());
        self.leans.push(lean);
        self.readings.push(readings);
        let (fp, day, row) = match kept {
            Some((fp, day, row)) => (Some(fp), Some(day), Some(row)),
            None => (None, None, None),
        };
        self.seg_fps.push(fp);
        self.seg_days.push(day);
        self.seg_rows.push(row);
    }

    fn write(&mut self, tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
        if self.keys.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO accounts (key, id, name, name_norm, segment, csm, seg_fp, seg_day, seg_row)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[])
             ON CONFLICT (key) DO UPDATE SET id = EXCLUDED.id, name = EXCLUDED.name, name_norm = EXCLUDED.name_norm, segment = EXCLUDED.segment, csm = EXCLUDED.csm, seg_fp = EXCLUDED.seg_fp, seg_day = EXCLUDED.seg_day, seg_row = EXCLUDED.seg_row",
            &[
                &self.keys,
                &self.ids,
                &self.names,
                &self.norms,
                &self.segments,
                &self.csms,
                &self.seg_fps,
                &self.seg_days,
                &self.seg_rows,
            ],
        )?;
        tx.execute(
            "INSERT INTO account_data (key, lean, readings)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])
             ON CONFLICT (key) DO UPDATE SET lean = EXCLUDED.lean, readings = EXCLUDED.readings",
            &[&self.keys, &self.leans, &self.readings],
        )?;
        *self = Batch::default();
        Ok(())
    }
}

/// A stored snapshot, read back.
fn decode(key: i64, text: &str) -> Result<Snapshot, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Data(format!("account key {key} does not read back: {e}")))
}

/// A stored snapshot: its `lean` JSON and its packed `readings` (see `scan_columns`).
fn decode_stored(key: i64, lean: &str, readings: &[u8]) -> Result<Snapshot, StoreError> {
    let mut s = decode(key, lean)?;
    super::readings::unpack_into(readings, &mut s.usage.history)?;
    Ok(s)
}

/// A URL that did not parse, shown without anything that may be a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!(
                "{}://…{}",
                url.get(..scheme).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_string(),
    }
}

fn enum_of<T: serde::de::DeserializeOwned>(
    v: Option<String>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    v.map(|s| serde_json::from_value(serde_json::Value::String(s)))
        .transpose()
        .map_err(|e| StoreError::Data(format!("stored {what}: {e}")))
}

fn count_of(v: Option<i64>) -> Result<Option<u32>, StoreError> {
    v.map(|n| u32::try_from(n).map_err(|_| StoreError::Data(format!("stored count {n}"))))
        .transpose()
}

fn plan_from_row(r: &postgres::Row) -> Result<PlanRecord, StoreError> {
    let as_of: String = r.get(0);
    let outcome: String = r.get(1);
    let reassess: Option<String> = r.get(12);
    let markdown: String = r.get(14);
    Ok(PlanRecord {
        as_of: parse_day(&as_of)?,
        outcome: outcome_from(&outcome)?,
        status: enum_of::<Status>(r.get(2), "status")?,
        utilisation_pct: r.get(3),
        sustained_utilisation_pct: r.get(4),
        score: r.get(5),
        active_users: count_of(r.get(6))?,
        licensed_seats: count_of(r.get(7))?,
        expansion_type: enum_of::<ExpansionType>(r.get(8), "expansion type")?,
        estimated_expansion_arr: r.get::<_, Option<i64>>(9).map(Money::from_cents),
        confidence: enum_of::<Confidence>(r.get(10), "confidence")?,
        currency: r.get(11),
        reassess_on: reassess.as_deref().map(parse_day).transpose()?,
        top_reason: r.get(13),
        markdown: Some(markdown),
    })
}

impl Store for Postgres {
    fn find(&self, query: &str, field: &str) -> Result<Found, SourceError> {
        self.run(|| {
            let q = norm(query);
            if q.is_empty() {
                return Err(InputError::one(field, "must not be empty").into());
            }
            let e = |e: postgres::Error| self.classify(e);
            let mut client = self.client()?;
            // One snapshot for the version and the reads: what is cached is what the
            // version says.
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(e)?;
            let version: i64 = tx
                .query_one("SELECT version FROM store_version", &[])
                .map_err(e)?
                .get(0);
            let stamp = cache::Stamp {
                data_version: version,
                changes: 0,
            };
            let asked = query.trim();
            if let Some(found) = self.cache().get(stamp, asked) {
                return Ok(found);
            }
            let found = self.find_in(&mut tx, query, &q, field)?;
            self.cache().put(stamp, asked, &found);
            Ok(found)
        })
    }

    fn scan(
        &self,
        filter: &AccountFilter,
        each: &mut dyn FnMut(Found) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        self.read_part(
            filter,
            SNAPSHOT_COLUMNS,
            &[],
            (i64::MIN, i64::MAX),
            &mut |row| {
                let key: i64 = row.get(0);
                each(Found {
                    key,
                    snapshot: decode_stored(key, row.get(1), row.get(2))?,
                })
            },
            &mut |_| Ok(()),
        )
    }

    /// Reads the selected accounts in up to `parts` key ranges of equal size, each on its
    /// own thread and pooled connection: decoding the snapshots is most of a scan's cost.
    fn scan_parallel(
        &self,
        filter: &AccountFilter,
        parts: usize,
        each: &(dyn Fn(usize, Found) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        self.read_rows(
            filter,
            parts,
            SNAPSHOT_COLUMNS,
            &[],
            &|part, row| {
                let key: i64 = row.get(0);
                each(
                    part,
                    Found {
                        key,
                        snapshot: decode_stored(key, row.get(1), row.get(2))?,
                    },
                )
            },
            &|_, _| Ok(()),
        )
    }

    fn keep_segment_rows(&self, policy: Arc<Policy>) {
        let fp = segment::row_fingerprint(&policy);
        *self.keep.write().unwrap_or_else(|e| e.into_inner()) = Some((policy, fp));
    }

    /// The kept row where it is the one this scan would compute (same fingerprint, and the
    /// day asked for is the one it was assessed on), else the snapshot. The server reads the
    /// narrow `accounts` table whole, and `account_data` only for the accounts whose row it
    /// cannot give, by key, after the kept rows: within a part, kept rows come first.
    fn scan_segment(
        &self,
        filter: &AccountFilter,
        parts: usize,
        fingerprint: i64,
        as_of: Option<Day>,
        each: &(dyn Fn(usize, i64, Stored) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        let day = as_of.map(day_text);
        let e = |e: postgres::Error| SourceError::from(self.classify(e));
        // Which way to read is chosen on how many rows are kept for this scan: mostly
        // (the default day, the server's policy): the kept rows, then the few snapshots by
        // key; mostly not (another day, policy or build): every snapshot beside its row in
        // one merge join, as a scan of snapshots reads them. An import in between changes
        // only which way is faster, never what is read.
        let (sql, segment, csm) = self.filtered(
            "SELECT count(*) FILTER (WHERE seg_fp = $3 AND ($4::text IS NULL OR seg_day = $4)), count(*) FROM accounts",
            filter,
            "",
        );
        let counts = self
            .client()?
            .query_one(&sql, &[&segment, &csm, &fingerprint, &day])
            .map_err(e)?;
        let (kept, total): (i64, i64) = (counts.get(0), counts.get(1));
        let hit = "seg_fp = $5 AND ($6::text IS NULL OR seg_day = $6)";
        if kept * 2 < total {
            let columns = format!(
                "CASE WHEN {hit} THEN seg_row END, CASE WHEN {hit} THEN NULL ELSE d.lean END, CASE WHEN {hit} THEN NULL ELSE d.readings END FROM accounts JOIN account_data d USING (key)"
            );
            return self.read_rows(
                filter,
                parts,
                &columns,
                &[&fingerprint, &day],
                &|part, row| {
                    let key: i64 = row.get(0);
                    let stored = match (
                        row.get::<_, Option<&str>>(1),
                        row.get::<_, Option<&str>>(2),
                        row.get::<_, Option<&[u8]>>(3),
                    ) {
                        (Some(json), _, _) => Stored::Row(Box::new(kept_from_json(key, json)?)),
                        (None, Some(lean), Some(readings)) => {
                            Stored::Snapshot(decode_stored(key, lean, readings)?)
                        }
                        _ => return no_snapshot(1, 0),
                    };
                    each(part, key, stored)
                },
                &|_, _| Ok(()),
            );
        }
        let columns = format!("CASE WHEN {hit} THEN seg_row END FROM accounts");
        // Per part: the keys without a kept row, and how many rows the part had.
        let missed: Vec<Mutex<(Vec<i64>, usize)>> =
            (0..parts.max(1)).map(|_| Mutex::default()).collect();
        self.read_rows(
            filter,
            parts,
            &columns,
            &[&fingerprint, &day],
            &|part, row| {
                let key: i64 = row.get(0);
                if let Some(m) = missed.get(part) {
                    m.lock().unwrap_or_else(|p| p.into_inner()).1 += 1;
                }
                match row.get::<_, Option<&str>>(1) {
                    Some(json) => each(part, key, Stored::Row(Box::new(kept_from_json(key, json)?))),
                    None => {
                        if let Some(m) = missed.get(part) {
                            m.lock().unwrap_or_else(|p| p.into_inner()).0.push(key);
                        }
                        Ok(())
                    }
                }
            },
            &|part, tx| {
                let (keys, seen) = match missed.get(part) {
                    Some(m) => std::mem::take(&mut *m.lock().unwrap_or_else(|p| p.into_inner())),
                    None => (Vec::new(), 0),
                };
                let (Some(&low), Some(&high)) = (keys.first(), keys.last()) else {
                    return Ok(());
                };
                // Most of the part to assess (another day, policy or build): its snapshots
                // in one merge join over the key range, skipping the few kept ones, is far
                // cheaper than looking each up by key.
                if keys.len() * 4 > seen {
                    let (sql, segment, csm) = self.filtered(
                        &format!("SELECT key, {SNAPSHOT_COLUMNS}"),
                        filter,
                        "AND key BETWEEN $3 AND $4 ORDER BY key",
                    );
                    let params: [&(dyn ToSql + Sync); 4] = [&segment, &csm, &low, &high];
                    let mut rows = tx.query_raw(&sql, params).map_err(e)?;
                    let mut wanted = keys.iter().peekable();
                    let mut read = 0_usize;
                    while let Some(row) = rows.next().map_err(e)? {
                        let key: i64 = row.get(0);
                        while wanted.next_if(|k| **k < key).is_some() {}
                        if wanted.next_if_eq(&&key).is_some() {
                            read += 1;
                            each(
                                part,
                                key,
                                Stored::Snapshot(decode_stored(key, row.get(1), row.get(2))?),
                            )?;
                        }
                    }
                    return no_snapshot(keys.len(), read);
                }
                for chunk in keys.chunks(MISSED_AT_ONCE) {
                    let chunk = chunk.to_vec();
                    let params: [&(dyn ToSql + Sync); 1] = [&chunk];
                    let mut rows = tx
                        .query_raw(
                            "SELECT key, lean, readings FROM account_data WHERE key = ANY($1) ORDER BY key",
                            params,
                        )
                        .map_err(e)?;
                    let mut read = 0_usize;
                    while let Some(row) = rows.next().map_err(e)? {
                        let key: i64 = row.get(0);
                        read += 1;
                        each(
                            part,
                            key,
                            Stored::Snapshot(decode_stored(key, row.get(1), row.get(2))?),
                        )?;
                    }
                    no_snapshot(chunk.len(), read)?;
                }
                Ok(())
            },
        )
    }

    fn count(&self, filter: &AccountFilter) -> Result<u64, SourceError> {
        self.run(|| {
            let (sql, segment, csm) = self.filtered("SELECT count(*) FROM accounts", filter, "");
            let n: i64 = self
                .client()?
                .query_one(&sql, &[&segment, &csm])
                .map_err(|e| self.classify(e))?
                .get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn complete(&self, text: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        self.run(|| {
            let e = |e: postgres::Error| self.classify(e);
            let mut client = self.client()?;
            let q = norm(text);
            let lim = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut upper = q.clone();
            upper.push(char::MAX);
            let mut out: Vec<String> = client
                .query(
                    "SELECT name FROM accounts WHERE name_norm >= $1 AND name_norm < $2 ORDER BY name LIMIT $3",
                    &[&q, &upper, &lim],
                )
                .map_err(e)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if out.len() < limit && !q.is_empty() {
                let rest = client
                    .query(
                        "SELECT name FROM accounts WHERE strpos(name_norm, $1) > 1 ORDER BY name LIMIT $2",
                        &[&q, &lim],
                    )
                    .map_err(e)?;
                out.extend(rest.iter().map(|r| r.get::<_, String>(0)));
            }
            out.dedup();
            out.truncate(limit);
            Ok(out)
        })
    }

    fn segments(&self) -> Result<Vec<String>, SourceError> {
        self.run(|| {
            Ok(self
                .client()?
                .query(
                    "SELECT DISTINCT segment FROM accounts WHERE segment IS NOT NULL ORDER BY segment",
                    &[],
                )
                .map_err(|e| self.classify(e))?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn names_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, Option<String>)>, SourceError> {
        self.run(|| {
            let lim = i64::try_from(limit).unwrap_or(i64::MAX);
            let off = i64::try_from(offset).unwrap_or(i64::MAX);
            Ok(self
                .client()?
                .query(
                    "SELECT name, segment FROM accounts ORDER BY name, key LIMIT $1 OFFSET $2",
                    &[&lim, &off],
                )
                .map_err(|e| self.classify(e))?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        })
    }

    fn save_plan(&self, key: i64, r: &PlanRecord) -> Result<(), SourceError> {
        self.run(|| {
            self.check_writable()?;
            let as_of = day_text(r.as_of);
            let status = r.status.map(Status::as_str);
            let active = r.active_users.map(i64::from);
            let seats = r.licensed_seats.map(i64::from);
            let et = r.expansion_type.map(ExpansionType::as_str);
            let arr = r.estimated_expansion_arr.map(Money::cents);
            let conf = r.confidence.map(Confidence::as_str);
            let reassess = r.reassess_on.map(day_text);
            let markdown = r.markdown.as_deref().unwrap_or_default();
            self.client()?
                .execute(
                    "INSERT INTO plans (account, as_of, outcome, status, utilisation_pct, sustained_utilisation_pct, score, active_users, licensed_seats, expansion_type, estimated_expansion_arr_cents, confidence, currency, reassess_on, top_reason, markdown)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                     ON CONFLICT (account, as_of) DO UPDATE SET outcome = EXCLUDED.outcome, status = EXCLUDED.status, utilisation_pct = EXCLUDED.utilisation_pct, sustained_utilisation_pct = EXCLUDED.sustained_utilisation_pct, score = EXCLUDED.score, active_users = EXCLUDED.active_users, licensed_seats = EXCLUDED.licensed_seats, expansion_type = EXCLUDED.expansion_type, estimated_expansion_arr_cents = EXCLUDED.estimated_expansion_arr_cents, confidence = EXCLUDED.confidence, currency = EXCLUDED.currency, reassess_on = EXCLUDED.reassess_on, top_reason = EXCLUDED.top_reason, markdown = EXCLUDED.markdown",
                    &[
                        &key,
                        &as_of,
                        &r.outcome.as_str(),
                        &status,
                        &r.utilisation_pct,
                        &r.sustained_utilisation_pct,
                        &r.score,
                        &active,
                        &seats,
                        &et,
                        &arr,
                        &conf,
                        &r.currency,
                        &reassess,
                        &r.top_reason,
                        &markdown,
                    ],
                )
                .map_err(|e| self.classify(e))?;
            Ok(())
        })
    }

    fn plans(&self, key: i64) -> Result<Vec<PlanRecord>, SourceError> {
        self.run(|| {
            self.client()?
                .query(
                    "SELECT as_of, outcome, status, utilisation_pct, sustained_utilisation_pct, score, active_users, licensed_seats, expansion_type, estimated_expansion_arr_cents, confidence, currency, reassess_on, top_reason, markdown FROM plans WHERE account = $1 ORDER BY as_of",
                    &[&key],
                )
                .map_err(|e| self.classify(e))?
                .iter()
                .map(plan_from_row)
                .collect()
        })
    }

    fn due(&self, filter: &AccountFilter, as_of: Day) -> Result<Vec<DueReassessment>, SourceError> {
        self.run(|| {
            let day = day_text(as_of);
            let segment = filter.segment.as_deref().map(str::trim);
            let csm = filter.csm.as_deref().map(str::trim);
            let rows = self
                .client()?
                .query(
                    "SELECT a.name, a.id, a.segment, a.csm, p.as_of, p.outcome, p.reassess_on, p.utilisation_pct, p.score, p.top_reason
                     FROM plans p JOIN accounts a ON a.key = p.account
                     WHERE p.as_of = (SELECT max(q.as_of) FROM plans q WHERE q.account = p.account AND q.as_of <= $1)
                       AND p.reassess_on IS NOT NULL AND p.reassess_on <= $1
                       AND ($2::text IS NULL OR ep_nocase(a.segment) = ep_nocase($2))
                       AND ($3::text IS NULL OR ep_nocase(a.csm) = ep_nocase($3))
                     ORDER BY p.reassess_on, a.name",
                    &[&day, &segment, &csm],
                )
                .map_err(|e| self.classify(e))?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let last: String = r.get(4);
                let outcome: String = r.get(5);
                let reassess: String = r.get(6);
                let reassess_on = parse_day(&reassess)?;
                out.push(DueReassessment {
                    name: r.get(0),
                    id: r.get(1),
                    segment: r.get(2),
                    csm: r.get(3),
                    last_plan_as_of: parse_day(&last)?,
                    last_outcome: outcome_from(&outcome)?,
                    reassess_on,
                    days_overdue: reassess_on.days_until(as_of),
                    utilisation_pct: r.get(7),
                    score: r.get(8),
                    top_reason: r.get(9),
                });
            }
            Ok(out)
        })
    }

    fn import(
        &self,
        file: &Path,
        map: Option<&Path>,
        dry_run: bool,
    ) -> Result<ImportReport, SourceError> {
        self.run(|| {
            self.import_with(|staged, stage| {
                import::import_file_staged(staged, file, map, dry_run, Some(stage))
            })
        })
    }

    fn import_opened(
        &self,
        file: &Path,
        opened: std::fs::File,
        map: Option<(String, String)>,
        dry_run: bool,
    ) -> Result<ImportReport, SourceError> {
        self.run(|| {
            let map = map.map(|(name, text)| import::MapArg::Text { name, text });
            self.import_with(|staged, stage| {
                import::import_opened_staged(staged, file, opened, map, dry_run, Some(stage))
            })
        })
    }

    fn location(&self) -> &str {
        &self.location
    }
}
