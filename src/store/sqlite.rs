//! The SQLite store: an embedded SQLite database (bundled, no system library) holding
//! accounts, their usage history, signals, events and saved plans as tables.
//!
//! Opening is careful: a file that is not an SQLite database, or is an SQLite database of
//! another application, or was written by a newer schema, is refused with an error that says
//! so, and is never written to. Only after those checks is WAL switched on and the schema
//! migrated.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{Found, SourceError, Store, StoreError, cache, import, migrations, rows};
use crate::model::portfolio::{AccountFilter, DueReassessment, ImportReport, PlanRecord};
use crate::model::results::{Confidence, ExpansionType, Outcome, Status};
use crate::model::{Day, InputError, Money, Snapshot};

use super::rows::{Selection, day_text, norm, parse_day};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Whether an SQLite error means the file is damaged or not a database at all.
fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Whether an SQLite error means the file cannot be written (a read-only file, directory or
/// mount).
fn is_read_only(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::ReadOnly))
}

/// How long a write waits for another connection's write lock before it gives up.
pub const BUSY_TIMEOUT_SECS: u64 = 5;

/// Whether an SQLite error means another connection held the write lock past the busy
/// timeout.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Whether an SQLite error means the disk (or the file system's quota) is full.
fn is_full(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}

/// The SQLite store. One connection behind a mutex: SQLite serialises writers anyway, and
/// every request is short except a segment scan, which is one read.
pub struct Sqlite {
    conn: Mutex<Connection>,
    location: String,
    /// The file, for the extra read connections of a parallel scan; `None` in memory (and
    /// when the file is read-only: a scan then reads on the one connection).
    path: Option<PathBuf>,
    /// Why the database cannot be written, when it was opened read-only; every write is
    /// then refused up front with [`StoreError::ReadOnly`].
    read_only: Option<String>,
    /// Accounts `find` read, reused until the database changes (see [`cache`]). Locked
    /// after `conn`, never before.
    cache: Mutex<cache::ReadCache>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("location", &self.location)
            .finish()
    }
}

impl Sqlite {
    /// The default database file: `<data dir>/expansion-planner/accounts.db`
    /// (`~/.local/share/expansion-planner/accounts.db` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "expansion-planner")
            .map(|d| d.data_dir().join("accounts.db"))
    }

    /// Opens (creating and migrating on first use) the database at `path`.
    ///
    /// A database that exists but cannot be written (a read-only file, directory or mount)
    /// is opened read-only: reads work, and every write is refused with
    /// [`StoreError::ReadOnly`], naming the file. A warning says so at open.
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let shown = path.display().to_string();
        let open_err = |reason: String| StoreError::Open {
            path: shown.clone(),
            reason,
        };
        let meta = std::fs::metadata(path).ok();
        if let Some(m) = &meta {
            if m.is_dir() {
                return Err(open_err("it is a directory".into()));
            }
            if m.len() > 0 {
                check_header(path, &shown)?;
            }
        } else {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| open_err(format!("cannot create {}: {e}", parent.display())))?;
            }
            // Created here rather than by SQLite, for an error that says why it cannot be.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| {
                    open_err(format!(
                        "it does not exist and cannot be created: {e}{}",
                        if e.kind() == std::io::ErrorKind::PermissionDenied {
                            " (the directory is not writable)"
                        } else {
                            ""
                        }
                    ))
                })?;
        }
        // The file itself: a read-only mount or file refuses to be opened for writing.
        let file_read_only = match std::fs::OpenOptions::new().write(true).open(path) {
            Err(e) if is_read_only_io(&e) => Some(format!("the file cannot be written: {e}")),
            _ => None,
        };
        if file_read_only.is_none() {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn =
                Connection::open_with_flags(path, flags).map_err(|e| open_err(e.to_string()))?;
            match Sqlite::init(conn, shown.clone(), true, None) {
                Ok(mut store) => {
                    store.path = Some(path.to_path_buf());
                    return Ok(store);
                }
                // The file is writable but SQLite could not write beside it: in WAL mode it
                // keeps `<file>-wal` and `<file>-shm` in the same directory.
                Err(StoreError::Sql(e))
                    if matches!(
                        e.sqlite_error_code(),
                        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let reason = file_read_only.unwrap_or_else(|| {
            format!(
                "its directory {} does not accept new files, and SQLite keeps {}-wal and {}-shm beside the database",
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| ".".into()),
                shown,
                shown
            )
        });
        let conn = open_read_only(path).map_err(|e| open_err(e.to_string()))?;
        let store = Sqlite::init(conn, shown.clone(), false, Some(reason.clone()))?;
        tracing::warn!(
            db = %shown,
            "the database is read-only ({reason}): reading works; imports and saving plans are refused"
        );
        Ok(store)
    }

    /// A fresh database in memory: nothing is written anywhere.
    pub fn in_memory() -> Result<Sqlite, StoreError> {
        let conn = Connection::open_in_memory()?;
        Sqlite::init(conn, ":memory:".into(), false, None)
    }

    /// The embedded demo portfolio, in memory.
    pub fn demo() -> Result<Sqlite, StoreError> {
        let store = Sqlite::in_memory()?;
        store.put(crate::demo::portfolio()?)?;
        Ok(store)
    }

    fn init(
        mut conn: Connection,
        location: String,
        on_disk: bool,
        read_only: Option<String>,
    ) -> Result<Sqlite, StoreError> {
        let classify = |e: rusqlite::Error| {
            if is_corruption(&e) {
                StoreError::Corrupt {
                    path: location.clone(),
                    reason: e.to_string(),
                }
            } else {
                StoreError::Sql(e)
            }
        };
        conn.busy_timeout(std::time::Duration::from_secs(BUSY_TIMEOUT_SECS))
            .map_err(classify)?;
        // Read-only checks first: nothing is written to a file that is not ours.
        let app_id: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(classify)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(classify)?;
        let tables: Vec<String> = {
            let mut st = conn
                .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
                .map_err(classify)?;
            st.query_map([], |r| r.get(0))
                .map_err(classify)?
                .collect::<Result<_, _>>()
                .map_err(classify)?
        };
        if app_id != migrations::APPLICATION_ID && !(app_id == 0 && tables.is_empty()) {
            let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
            return Err(StoreError::Foreign {
                path: location,
                reason: if app_id == 0 {
                    format!(
                        "an SQLite database of another application, with tables {}",
                        shown.join(", ")
                    )
                } else {
                    format!("an SQLite database with application id {app_id:#x}")
                },
            });
        }
        if version > migrations::latest() {
            return Err(StoreError::TooNew {
                path: location,
                found: version,
                known: migrations::latest(),
            });
        }
        if on_disk {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(classify)?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(mode, "WAL journal mode is not available for this file");
            }
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(classify)?;
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(classify)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(classify)?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(classify)?;
        if let Some(reason) = &read_only {
            // Migrating writes; a read-only file can only be read as it is.
            if version < migrations::latest() {
                return Err(StoreError::ReadOnly {
                    path: location,
                    reason: format!(
                        "{reason}; and it needs its schema {} (version {version} to {}), which writes to it",
                        if version == 0 { "created" } else { "upgraded" },
                        migrations::latest()
                    ),
                });
            }
        } else {
            migrations::migrate(&mut conn).map_err(classify)?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Sqlite {
            conn: Mutex::new(conn),
            location,
            path: None,
            read_only,
            cache: Mutex::default(),
        })
    }

    /// One question or write, its SQLite errors named for the file (see [`Sqlite::classify`]).
    fn run<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, SourceError> {
        f().map_err(|e| self.classify(e).into())
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction behind (it rolls
        // back on drop), so the connection is still good.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the database cannot be written, when it was opened read-only.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// Refuses a write up front when the database was opened read-only.
    pub(crate) fn check_writable(&self) -> Result<(), StoreError> {
        match &self.read_only {
            Some(reason) => Err(StoreError::ReadOnly {
                path: self.location.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Maps SQLite errors that mean corruption, a read-only file or a full disk to a clear
    /// message naming the file.
    pub(crate) fn classify(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Sql(inner) if is_corruption(&inner) => StoreError::Corrupt {
                path: self.location.clone(),
                reason: inner.to_string(),
            },
            StoreError::Sql(inner) if is_read_only(&inner) => StoreError::ReadOnly {
                path: self.location.clone(),
                reason: format!("SQLite: {inner}"),
            },
            StoreError::Sql(inner) if is_full(&inner) => StoreError::Full {
                path: self.location.clone(),
                reason: format!("SQLite: {inner}"),
            },
            StoreError::Sql(inner) if is_busy(&inner) => StoreError::Busy {
                path: self.location.clone(),
                reason: format!("SQLite: {inner}"),
            },
            other => other,
        }
    }

    /// Inserts or replaces whole snapshots (upsert by id, else by name), in one transaction.
    pub fn put(&self, snapshots: &[Snapshot]) -> Result<(), StoreError> {
        self.check_writable()?;
        let write = || -> Result<(), StoreError> {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            for s in snapshots {
                let key = existing_key(&tx, s)?;
                rows::write_snapshot(&tx, key, s)?;
            }
            tx.commit()?;
            Ok(())
        };
        write().map_err(|e| self.classify(e))
    }

    fn load_key(&self, conn: &Connection, key: i64) -> Result<Snapshot, StoreError> {
        rows::load(conn, key, false)?
            .ok_or_else(|| StoreError::Data(format!("account key {key} vanished")))
    }

    fn cache(&self) -> MutexGuard<'_, cache::ReadCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`find`](Self::find) in the database.
    fn find_in(
        &self,
        conn: &Connection,
        query: &str,
        q: &str,
        field: &str,
    ) -> Result<Found, StoreError> {
        super::resolve(&mut SqliteLookup { store: self, conn }, query, q, field)
    }

    /// Every selected account, whole, in key order.
    pub(super) fn scan_rows(
        &self,
        filter: &AccountFilter,
        each: &mut dyn FnMut(i64, Snapshot) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let sel = Selection {
            segment: filter.segment.clone(),
            csm: filter.csm.clone(),
            ..Selection::default()
        };
        with_small_cache(&conn, || rows::scan(&conn, &sel, each)).map_err(|e| self.classify(e))
    }

    /// Key boundaries splitting the selected accounts into `parts` ranges of equal size.
    fn partition(
        &self,
        filter: &AccountFilter,
        parts: usize,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let conn = self.conn();
        let mut sql = String::from("SELECT key FROM accounts");
        let mut conds = Vec::new();
        if filter.segment.is_some() {
            conds.push("segment = ?1 COLLATE NOCASE");
        }
        if filter.csm.is_some() {
            conds.push(if filter.segment.is_some() {
                "csm = ?2 COLLATE NOCASE"
            } else {
                "csm = ?1 COLLATE NOCASE"
            });
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(" ORDER BY key");
        let args: Vec<&str> = [filter.segment.as_deref(), filter.csm.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .collect();
        let mut st = conn.prepare(&sql)?;
        let keys: Vec<i64> = st
            .query_map(rusqlite::params_from_iter(args), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let per = keys.len().div_ceil(parts.max(1)).max(1);
        Ok(keys
            .chunks(per)
            .filter_map(|c| Some((*c.first()?, *c.last()?)))
            .collect())
    }

    /// Reads the selected accounts on up to `parts` threads, each with its own read-only
    /// connection and key range (WAL lets readers run side by side). In memory, or for one
    /// part, it is a plain scan.
    fn scan_rows_parallel(
        &self,
        filter: &AccountFilter,
        parts: usize,
        each: &(dyn Fn(usize, i64, Snapshot) -> Result<(), StoreError> + Sync),
    ) -> Result<(), StoreError> {
        let Some(path) = self.path.as_ref().filter(|_| parts > 1) else {
            return self.scan_rows(filter, &mut |k, s| each(0, k, s));
        };
        let ranges = self.partition(filter, parts)?;
        std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .enumerate()
                .map(|(part, &range)| {
                    scope.spawn(move || -> Result<(), StoreError> {
                        let conn = Connection::open_with_flags(
                            path,
                            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                        )?;
                        conn.busy_timeout(std::time::Duration::from_secs(BUSY_TIMEOUT_SECS))?;
                        conn.pragma_update(None, "cache_size", -32_768_i64)?;
                        // Pages are read straight from the file mapping, without a copy
                        // through the kernel per page.
                        conn.pragma_update(None, "mmap_size", 1_073_741_824_i64)?;
                        let sel = Selection {
                            segment: filter.segment.clone(),
                            csm: filter.csm.clone(),
                            key_range: Some(range),
                            ..Selection::default()
                        };
                        rows::scan(&conn, &sel, &mut |k, s| each(part, k, s))
                    })
                })
                .collect();
            let mut result = Ok(());
            for h in handles {
                let r = h
                    .join()
                    .unwrap_or_else(|_| Err(StoreError::Data("a reading thread stopped".into())));
                if result.is_ok() {
                    result = r;
                }
            }
            result.map_err(|e| self.classify(e))
        })
    }

    fn write_plan(&self, key: i64, r: &PlanRecord) -> Result<(), StoreError> {
        let conn = self.conn();
        let at = stamp(&conn)?;
        if self.cache().already_saved(at, key, r) {
            // The history already holds this very plan: drafting it again writes nothing.
            return Ok(());
        }
        conn.prepare_cached(
            "INSERT OR REPLACE INTO plans (account, as_of, outcome, status, utilisation_pct, sustained_utilisation_pct, score, active_users, licensed_seats, expansion_type, estimated_expansion_arr_cents, confidence, currency, reassess_on, top_reason, markdown) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?
        .execute(params![
            key,
            day_text(r.as_of),
            r.outcome.as_str(),
            r.status.map(Status::as_str),
            r.utilisation_pct,
            r.sustained_utilisation_pct,
            r.score,
            r.active_users,
            r.licensed_seats,
            r.expansion_type.map(ExpansionType::as_str),
            r.estimated_expansion_arr.map(Money::cents),
            r.confidence.map(Confidence::as_str),
            r.currency,
            r.reassess_on.map(day_text),
            r.top_reason,
            r.markdown.as_deref().unwrap_or_default(),
        ])?;
        // Only the plan history changed: the accounts read before are still as stored.
        self.cache().saved(at, conn.total_changes(), key, r);
        Ok(())
    }
}

/// Whether an I/O error means the file or directory cannot be written.
fn is_read_only_io(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
    )
}

/// Opens a database that cannot be written, for reading. In WAL mode SQLite needs the
/// `-shm` file beside the database, and cannot create it in a read-only directory; the file
/// is then opened as immutable, which is what it is: nobody can write it in WAL mode without
/// that file either.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    match conn.pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0)) {
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) => {
            drop(conn);
            let text = path.to_string_lossy();
            let encoded: String = percent_encoding::utf8_percent_encode(&text, URI_PATH).collect();
            Connection::open_with_flags(
                format!("file:{encoded}?immutable=1"),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )
        }
        _ => Ok(conn),
    }
}

/// Bytes escaped in the path of a `file:` URI.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Checks the first 100 bytes: SQLite's magic string, then our application id.
fn check_header(path: &Path, shown: &str) -> Result<(), StoreError> {
    use std::io::Read;
    let mut head = [0_u8; 100];
    let mut f = std::fs::File::open(path).map_err(|e| StoreError::Open {
        path: shown.to_string(),
        reason: e.to_string(),
    })?;
    let n = f.read(&mut head).map_err(|e| StoreError::Open {
        path: shown.to_string(),
        reason: e.to_string(),
    })?;
    if n < 100 || !head.starts_with(SQLITE_MAGIC) {
        return Err(StoreError::Foreign {
            path: shown.to_string(),
            reason: "not an SQLite database file".into(),
        });
    }
    Ok(())
}

/// The key of the stored account a snapshot updates: by id, else by an unambiguous name.
fn existing_key(conn: &Connection, s: &Snapshot) -> Result<Option<i64>, StoreError> {
    if let Some(id) = &s.id {
        let k: Option<i64> = conn
            .prepare_cached("SELECT key FROM accounts WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if k.is_some() {
            return Ok(k);
        }
    }
    let keys: Vec<(i64, Option<String>)> = conn
        .prepare_cached("SELECT key, id FROM accounts WHERE name_norm = ?1")?
        .query_map([norm(&s.name)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // With an id, only an account that has none is adopted by name.
    let candidates: Vec<i64> = keys
        .iter()
        .filter(|(_, id)| s.id.is_none() || id.is_none())
        .map(|(k, _)| *k)
        .collect();
    match candidates.as_slice() {
        [k] => Ok(Some(*k)),
        _ => Ok(None),
    }
}

pub(super) fn outcome_from(s: &str) -> Result<Outcome, StoreError> {
    match s {
        "blocked" => Ok(Outcome::Blocked),
        "not_ready" => Ok(Outcome::NotReady),
        "provisional" => Ok(Outcome::Provisional),
        "on_hold" => Ok(Outcome::OnHold),
        "ready" => Ok(Outcome::Ready),
        other => Err(StoreError::Data(format!("stored outcome `{other}`"))),
    }
}

fn plan_from_row(r: &rusqlite::Row<'_>) -> Result<PlanRecord, StoreError> {
    let as_of: String = r.get(0)?;
    let outcome: String = r.get(1)?;
    let status: Option<String> = r.get(2)?;
    let et: Option<String> = r.get(8)?;
    let conf: Option<String> = r.get(10)?;
    let reassess: Option<String> = r.get(12)?;
    let parse_enum = |v: Option<String>| -> Result<Option<serde_json::Value>, StoreError> {
        Ok(v.map(serde_json::Value::String))
    };
    let status: Option<Status> = parse_enum(status)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| StoreError::Data(format!("stored status: {e}")))?;
    let expansion_type: Option<ExpansionType> = parse_enum(et)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| StoreError::Data(format!("stored expansion type: {e}")))?;
    let confidence: Option<Confidence> = parse_enum(conf)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| StoreError::Data(format!("stored confidence: {e}")))?;
    let markdown: String = r.get(14)?;
    Ok(PlanRecord {
        as_of: parse_day(&as_of)?,
        outcome: outcome_from(&outcome)?,
        status,
        utilisation_pct: r.get(3)?,
        sustained_utilisation_pct: r.get(4)?,
        score: r.get(5)?,
        active_users: r.get(6)?,
        licensed_seats: r.get(7)?,
        expansion_type,
        estimated_expansion_arr: r.get::<_, Option<i64>>(9)?.map(Money::from_cents),
        confidence,
        currency: r.get(11)?,
        reassess_on: reassess.as_deref().map(parse_day).transpose()?,
        top_reason: r.get(13)?,
        markdown: Some(markdown),
    })
}

/// [`super::Lookup`] inside the read transaction `conn` holds.
struct SqliteLookup<'a> {
    store: &'a Sqlite,
    conn: &'a Connection,
}

impl super::Lookup for SqliteLookup<'_> {
    fn key_by_id(&mut self, id: &str) -> Result<Option<i64>, StoreError> {
        let exact: Option<i64> = self
            .conn
            .prepare_cached("SELECT key FROM accounts WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match exact {
            Some(k) => Ok(Some(k)),
            None => Ok(self
                .conn
                .prepare_cached(
                    "SELECT key FROM accounts WHERE id = ?1 COLLATE NOCASE ORDER BY key LIMIT 1",
                )?
                .query_row([id], |r| r.get(0))
                .optional()?),
        }
    }

    fn by_name(&mut self, norm: &str) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT key, id, name FROM accounts WHERE name_norm = ?1 ORDER BY key")?
            .query_map([norm], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?)
    }

    fn by_prefix(&mut self, norm: &str, upper: &str) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT key, name FROM accounts WHERE name_norm >= ?1 AND name_norm < ?2 ORDER BY name_norm, key LIMIT 11",
            )?
            .query_map([norm, upper], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?)
    }

    fn all_names(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM accounts")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?)
    }

    fn load(&mut self, key: i64) -> Result<Found, StoreError> {
        Ok(Found {
            key,
            snapshot: self.store.load_key(self.conn, key)?,
        })
    }
}

/// The page cache of the store's own connection while it scans whole accounts, in KiB.
const SCAN_CACHE_KIB: i64 = 2048;
/// Its page cache otherwise (imports, lookups), in KiB.
const CACHE_KIB: i64 = 65_536;

/// Runs `f` with the connection's page cache capped at `SCAN_CACHE_KIB`: a scan reads each
/// page once, and keeping the last 64 MiB of them was an eighth of a million-account
/// segment plan's peak memory.
fn with_small_cache<R>(
    conn: &Connection,
    f: impl FnOnce() -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    conn.pragma_update(None, "cache_size", -SCAN_CACHE_KIB)?;
    let out = f();
    let restored = conn.pragma_update(None, "cache_size", -CACHE_KIB);
    let out = out?;
    restored?;
    Ok(out)
}

/// Where the database is now, for [`cache::ReadCache`]: `PRAGMA data_version` (commits by
/// other connections) and this connection's change count (its own writes).
fn stamp(conn: &Connection) -> Result<cache::Stamp, StoreError> {
    Ok(cache::Stamp {
        data_version: conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?,
        changes: conn.total_changes(),
    })
}

impl Store for Sqlite {
    fn count(&self, filter: &AccountFilter) -> Result<u64, SourceError> {
        self.run(|| {
            let conn = self.conn();
            // Without a filter, a plain count(*) is answered from the smallest index; the
            // `?1 IS NULL OR ...` form read every account row, blobs and all, and filled the
            // page cache with them.
            let n: i64 = if filter.segment.is_none() && filter.csm.is_none() {
                conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?
            } else {
                conn.query_row(
                    "SELECT count(*) FROM accounts WHERE (?1 IS NULL OR segment = ?1 COLLATE NOCASE) AND (?2 IS NULL OR csm = ?2 COLLATE NOCASE)",
                    params![filter.segment.as_deref().map(str::trim), filter.csm.as_deref().map(str::trim)],
                    |r| r.get(0),
                )?
            };
            Ok(u64::try_from(n).unwrap_or(0))
            })
    }

    fn find(&self, query: &str, field: &str) -> Result<Found, SourceError> {
        self.run(|| {
            let guard = self.conn();
            let q = norm(query);
            if q.is_empty() {
                return Err(InputError::one(field, "must not be empty").into());
            }
            // One read transaction for the lookups and the load: each statement on its own would
            // take and release the file's locks (about a dozen system calls per account), and
            // the account could change between finding it and reading it. Ended by rollback on
            // drop: it writes nothing.
            let conn = guard.unchecked_transaction()?;
            let stamp = stamp(&conn)?;
            let asked = query.trim();
            if let Some(found) = self.cache().get(stamp, asked) {
                return Ok(found);
            }
            let found = self.find_in(&conn, query, &q, field)?;
            self.cache().put(stamp, asked, &found);
            Ok(found)
        })
    }

    fn complete(&self, text: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        self.run(|| {
            let conn = self.conn();
            let q = norm(text);
            let lim = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut upper = q.clone();
            upper.push(char::MAX);
            let mut out: Vec<String> = conn
                .prepare_cached(
                    "SELECT name FROM accounts WHERE name_norm >= ?1 AND name_norm < ?2 ORDER BY name LIMIT ?3",
                )?
                .query_map(params![q, upper, lim], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if out.len() < limit && !q.is_empty() {
                let rest: Vec<String> = conn
                    .prepare_cached(
                        "SELECT name FROM accounts WHERE instr(name_norm, ?1) > 1 ORDER BY name LIMIT ?2",
                    )?
                    .query_map(params![q, lim], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                out.extend(rest);
            }
            out.dedup();
            out.truncate(limit);
            Ok(out)
            })
    }

    fn segments(&self) -> Result<Vec<String>, SourceError> {
        self.run(|| {
            let conn = self.conn();
            let v = conn
                .prepare_cached(
                    "SELECT DISTINCT segment FROM accounts WHERE segment IS NOT NULL ORDER BY segment",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(v)
            })
    }

    fn names_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, Option<String>)>, SourceError> {
        self.run(|| {
            let conn = self.conn();
            let v = conn
                .prepare_cached(
                    "SELECT name, segment FROM accounts ORDER BY name, key LIMIT ?1 OFFSET ?2",
                )?
                .query_map(
                    params![
                        i64::try_from(limit).unwrap_or(i64::MAX),
                        i64::try_from(offset).unwrap_or(i64::MAX)
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
    }

    fn save_plan(&self, key: i64, r: &PlanRecord) -> Result<(), SourceError> {
        self.run(|| {
            self.check_writable()?;
            self.write_plan(key, r).map_err(|e| self.classify(e))
        })
    }

    fn plans(&self, key: i64) -> Result<Vec<PlanRecord>, SourceError> {
        self.run(|| {
            let conn = self.conn();
            let mut st = conn.prepare_cached(
                "SELECT as_of, outcome, status, utilisation_pct, sustained_utilisation_pct, score, active_users, licensed_seats, expansion_type, estimated_expansion_arr_cents, confidence, currency, reassess_on, top_reason, markdown FROM plans WHERE account = ?1 ORDER BY as_of",
            )?;
            let mut rows = st.query([key])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(plan_from_row(r)?);
            }
            Ok(out)
            })
    }

    fn due(&self, filter: &AccountFilter, as_of: Day) -> Result<Vec<DueReassessment>, SourceError> {
        self.run(|| {
            let conn = self.conn();
            let mut st = conn.prepare_cached(
                "SELECT a.name, a.id, a.segment, a.csm, p.as_of, p.outcome, p.reassess_on, p.utilisation_pct, p.score, p.top_reason
                 FROM plans p JOIN accounts a ON a.key = p.account
                 WHERE p.as_of = (SELECT max(q.as_of) FROM plans q WHERE q.account = p.account AND q.as_of <= ?1)
                   AND p.reassess_on IS NOT NULL AND p.reassess_on <= ?1
                   AND (?2 IS NULL OR a.segment = ?2 COLLATE NOCASE)
                   AND (?3 IS NULL OR a.csm = ?3 COLLATE NOCASE)
                 ORDER BY p.reassess_on, a.name",
            )?;
            let mut rows = st.query(params![
                day_text(as_of),
                filter.segment.as_deref().map(str::trim),
                filter.csm.as_deref().map(str::trim)
            ])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let last: String = r.get(4)?;
                let outcome: String = r.get(5)?;
                let reassess: String = r.get(6)?;
                let reassess_on = parse_day(&reassess)?;
                out.push(DueReassessment {
                    name: r.get(0)?,
                    id: r.get(1)?,
                    segment: r.get(2)?,
                    csm: r.get(3)?,
                    last_plan_as_of: parse_day(&last)?,
                    last_outcome: outcome_from(&outcome)?,
                    reassess_on,
                    days_overdue: reassess_on.days_until(as_of),
                    utilisation_pct: r.get(7)?,
                    score: r.get(8)?,
                    top_reason: r.get(9)?,
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
            // Even a dry run writes, inside a transaction it then rolls back.
            self.check_writable()?;
            import::import_file(self, file, map, dry_run).map_err(|e| self.classify(e))
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
            self.check_writable()?;
            let map = map.map(|(name, text)| import::MapArg::Text { name, text });
            import::import_opened(self, file, opened, map, dry_run).map_err(|e| self.classify(e))
        })
    }

    fn scan(
        &self,
        filter: &AccountFilter,
        each: &mut dyn FnMut(Found) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut failure: Option<SourceError> = None;
        let r = self.scan_rows(
            filter,
            &mut |key, snapshot| match each(Found { key, snapshot }) {
                Ok(()) => Ok(()),
                Err(e) => {
                    let msg = e.to_string();
                    failure = Some(e);
                    Err(StoreError::Data(msg))
                }
            },
        );
        match (r, failure) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(e.into()),
            (Ok(()), None) => Ok(()),
        }
    }

    fn scan_parallel(
        &self,
        filter: &AccountFilter,
        parts: usize,
        each: &(dyn Fn(usize, Found) -> Result<(), SourceError> + Sync),
    ) -> Result<(), SourceError> {
        // The first failure of the caller's closure is kept as it is (it may be an input
        // error); the store only needs to know that it should stop.
        let failure: Mutex<Option<SourceError>> = Mutex::new(None);
        let r = self.scan_rows_parallel(filter, parts, &|part, key, snapshot| {
            each(part, Found { key, snapshot }).map_err(|e| {
                let msg = e.to_string();
                let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
                f.get_or_insert(e);
                StoreError::Data(msg)
            })
        });
        match (r, failure.into_inner().unwrap_or_else(|p| p.into_inner())) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(e.into()),
            (Ok(()), None) => Ok(()),
        }
    }

    fn location(&self) -> &str {
        &self.location
    }
}
