//! Versioned schema migrations. Each runs once, in its own transaction, and records its
//! version in `PRAGMA user_version`; `PRAGMA application_id` marks the file as ours so that a
//! foreign SQLite file is recognised and left alone.
//!
//! Append new migrations; never edit one that has shipped.

use rusqlite::Connection;

/// `EXPL` in ASCII: the application id stamped on every expansion-planner database.
pub const APPLICATION_ID: i32 = 0x4558_504C;

/// Every migration, in order. The index + 1 is the schema version it brings the file to.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Dates are `YYYY-MM-DD` text, money is integer cents, booleans are 0/1, and list items
/// keep their input order in `pos`. Child tables are clustered on (account, ...) so that a
/// portfolio scan reads each table once, in account order.
///
/// One exception: `usage_history.date` is the integer YYYYMMDD (20261115). That table has a
/// row per reading, 9 million for 100,000 accounts with 90 days each; the integer is 3
/// bytes against 10, compares as a number, and needs no text parsing when read back, which
/// is a measurable share of import and segment-scan time. It still reads as a date.
const V1: &str = r#"
CREATE TABLE accounts (
    key                         INTEGER PRIMARY KEY,
    id                          TEXT UNIQUE,
    name                        TEXT NOT NULL,
    name_norm                   TEXT NOT NULL,
    segment                     TEXT,
    csm                         TEXT,
    account_executive           TEXT,
    currency                    TEXT,
    as_of                       TEXT,
    arr_cents                   INTEGER,
    licensed_seats              INTEGER,
    price_per_seat_cents        INTEGER,
    plan                        TEXT,
    renewal_date                TEXT,
    renewal_contentious         INTEGER,
    planning_month              INTEGER,
    active_users                INTEGER,
    health_score                REAL,
    has_components              INTEGER NOT NULL DEFAULT 0,
    adoption                    REAL,
    engagement                  REAL,
    relationship                REAL,
    value                       REAL,
    commercial                  REAL,
    has_relationship            INTEGER NOT NULL DEFAULT 0,
    responsive                  INTEGER,
    engaged                     INTEGER,
    sponsor                     TEXT,
    executive_sponsor_confirmed INTEGER,
    champion                    TEXT,
    relationship_score          REAL,
    value_score                 REAL
);
CREATE INDEX accounts_name_norm ON accounts (name_norm);
CREATE INDEX accounts_id_nocase ON accounts (id COLLATE NOCASE);
CREATE INDEX accounts_segment ON accounts (segment COLLATE NOCASE);
CREATE INDEX accounts_csm ON accounts (csm COLLATE NOCASE);

CREATE TABLE usage_history (
    account      INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    date         INTEGER NOT NULL, -- YYYYMMDD

    active_users INTEGER NOT NULL,
    PRIMARY KEY (account, date)
) WITHOUT ROWID;

CREATE TABLE usage_limits (
    account INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    pos     INTEGER NOT NULL,
    metric  TEXT NOT NULL,
    used    REAL NOT NULL,
    "limit" REAL NOT NULL,
    period  TEXT,
    PRIMARY KEY (account, pos)
) WITHOUT ROWID;

CREATE TABLE features (
    account      INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    pos          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    core         INTEGER NOT NULL,
    active_users INTEGER,
    PRIMARY KEY (account, pos)
) WITHOUT ROWID;

CREATE TABLE churn_signals (
    account INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    pos     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT,
    since   TEXT,
    active  INTEGER,
    PRIMARY KEY (account, pos)
) WITHOUT ROWID;

CREATE TABLE goals (
    account INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    pos     INTEGER NOT NULL,
    goal    TEXT NOT NULL,
    status  TEXT NOT NULL,
    PRIMARY KEY (account, pos)
) WITHOUT ROWID;

CREATE TABLE signals (
    account           INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    pos               INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    date              TEXT NOT NULL,
    evidence          TEXT NOT NULL,
    source            TEXT NOT NULL,
    quote             TEXT,
    feature           TEXT,
    tier              TEXT,
    team_size         INTEGER,
    users_with_access INTEGER,
    product           TEXT,
    module            TEXT,
    metric            TEXT,
    PRIMARY KEY (account, pos)
) WITHOUT ROWID;

CREATE TABLE events (
    account INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    pos     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    date    TEXT NOT NULL,
    detail  TEXT,
    open    INTEGER,
    PRIMARY KEY (account, pos)
) WITHOUT ROWID;

CREATE TABLE offers (
    account                     INTEGER PRIMARY KEY REFERENCES accounts (key) ON DELETE CASCADE,
    type                        TEXT NOT NULL,
    seats                       INTEGER,
    price_per_seat_cents        INTEGER,
    target_plan                 TEXT,
    target_price_per_seat_cents INTEGER,
    tier_premium_pct            REAL,
    module                      TEXT,
    module_price_cents          INTEGER,
    module_price_per_seat_cents INTEGER,
    product                     TEXT,
    product_price_cents         INTEGER,
    term_years                  INTEGER,
    uplift_pct                  REAL
);

CREATE TABLE plans (
    account                       INTEGER NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    as_of                         TEXT NOT NULL,
    outcome                       TEXT NOT NULL,
    status                        TEXT,
    utilisation_pct               REAL,
    sustained_utilisation_pct     REAL,
    score                         REAL,
    active_users                  INTEGER,
    licensed_seats                INTEGER,
    expansion_type                TEXT,
    estimated_expansion_arr_cents INTEGER,
    confidence                    TEXT,
    currency                      TEXT NOT NULL,
    reassess_on                   TEXT,
    top_reason                    TEXT NOT NULL,
    markdown                      TEXT NOT NULL,
    PRIMARY KEY (account, as_of)
) WITHOUT ROWID;
CREATE INDEX plans_reassess_on ON plans (reassess_on);
"#;

/// Issue 10: the day a timing blocker ends, and whether the customer can staff a
/// technical tier. Both nullable: an older row simply does not know them.
const V2: &str = r#"
ALTER TABLE events ADD COLUMN until TEXT;
ALTER TABLE offers ADD COLUMN technical_capacity TEXT;
"#;

/// Issue 14: every account's usage history packed into one value (`store::readings`), so
/// that a segment scan reads one column per account instead of a row per reading. The
/// `usage_history` rows stay what imports merge into; every write to them rewrites this
/// column in the same transaction. Filled for the accounts already stored by
/// [`backfill_readings`], in the same transaction as this migration.
const V3: &str = r#"
ALTER TABLE accounts ADD COLUMN readings BLOB NOT NULL DEFAULT x'';
"#;

/// Packs every stored account's `usage_history` into `accounts.readings` (V3).
fn backfill_readings(tx: &Connection) -> rusqlite::Result<()> {
    let keys: Vec<i64> = tx
        .prepare("SELECT DISTINCT account FROM usage_history")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for key in keys {
        super::rows::repack_readings(tx, key).map_err(|e| match e {
            super::StoreError::Sql(e) => e,
            other => rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(
                other.to_string(),
            ))),
        })?;
    }
    Ok(())
}

/// Brings the database to the latest schema, one migration per transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if version == 3 {
            backfill_readings(&tx)?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
        tracing::info!(version, "database migrated");
    }
    Ok(())
}
