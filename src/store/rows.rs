//! A snapshot to rows and back. Writing uses cached prepared statements; reading a portfolio
//! scans each table once in account order and merges the children into their accounts, so
//! loading N accounts costs one pass per table, not N queries.

use std::sync::LazyLock;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, Rows, ToSql, params};
use serde::de::{DeserializeOwned, IntoDeserializer};

use crate::model::snapshot::{
    ChurnSignal, Contract, Event, FeatureUsage, Goal, Health, HealthComponents, Offer,
    Relationship, Signal, Snapshot, Usage, UsageLimit, UsagePoint,
};
use crate::model::{Day, Money};

use super::StoreError;

/// Lowercase, trimmed: how names are compared.
pub fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// `YYYY-MM-DD` written into a stack buffer and handed to `f`: dates are written by the
/// million, and this keeps a formatter and an allocation out of each.
pub fn with_day_text<R>(d: Day, f: impl FnOnce(&str) -> R) -> R {
    let (y, m, dd) = (d.0.year(), d.0.month(), d.0.day());
    if (0..=9999).contains(&y) {
        let mut buf = [b'-'; 10];
        let mut put = |at: usize, v: u32, width: usize| {
            for i in 0..width {
                let digit = (v / 10_u32.pow((width - 1 - i) as u32)) % 10;
                if let Some(b) = buf.get_mut(at + i) {
                    *b = b'0' + digit as u8;
                }
            }
        };
        put(0, y as u32, 4);
        put(5, m as u32, 2);
        put(8, dd as u32, 2);
        match std::str::from_utf8(&buf) {
            Ok(s) => f(s),
            Err(_) => f(&d.to_string()),
        }
    } else {
        f(&d.to_string())
    }
}

/// `YYYY-MM-DD` as an owned string.
pub fn day_text(d: Day) -> String {
    with_day_text(d, str::to_string)
}

/// A day as the integer YYYYMMDD, the form of `usage_history.date`.
pub fn day_number(d: Day) -> i64 {
    i64::from(d.0.year()) * 10_000 + i64::from(d.0.month()) * 100 + i64::from(d.0.day())
}

/// The day of a stored YYYYMMDD integer.
pub fn day_from_number(n: i64) -> Result<Day, StoreError> {
    let (y, m, d) = (n / 10_000, n / 100 % 100, n % 100);
    match (i16::try_from(y), i8::try_from(m), i8::try_from(d)) {
        (Ok(y), Ok(m), Ok(d)) => jiff::civil::Date::new(y, m, d)
            .map(Day)
            .map_err(|e| StoreError::Data(format!("stored date {n}: {e}"))),
        _ => Err(StoreError::Data(format!("stored date {n} is not YYYYMMDD"))),
    }
}

fn digit(b: u8) -> Option<i32> {
    b.is_ascii_digit().then(|| i32::from(b - b'0'))
}

/// Parses a stored `YYYY-MM-DD` quickly; anything else is reported as bad stored data.
pub fn parse_day(s: &str) -> Result<Day, StoreError> {
    let fast = match s.as_bytes() {
        [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] => (|| {
            let y = digit(*y0)? * 1000 + digit(*y1)? * 100 + digit(*y2)? * 10 + digit(*y3)?;
            let m = digit(*m0)? * 10 + digit(*m1)?;
            let d = digit(*d0)? * 10 + digit(*d1)?;
            jiff::civil::Date::new(
                i16::try_from(y).ok()?,
                i8::try_from(m).ok()?,
                i8::try_from(d).ok()?,
            )
            .ok()
        })(),
        _ => None,
    };
    match fast {
        Some(d) => Ok(Day(d)),
        None => Day::parse(s).map_err(|e| StoreError::Data(format!("stored date {e}"))),
    }
}

fn opt_day(v: Option<&str>) -> Result<Option<Day>, StoreError> {
    v.map(parse_day).transpose()
}

fn enum_from<T: DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(de).map_err(|e| StoreError::Data(format!("stored {what} `{s}`: {e}")))
}

fn enum_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn u32_of(v: Option<i64>, what: &str) -> Result<Option<u32>, StoreError> {
    v.map(|n| u32::try_from(n).map_err(|_| StoreError::Data(format!("stored {what} {n}"))))
        .transpose()
}

fn u8_of(v: Option<i64>, what: &str) -> Result<Option<u8>, StoreError> {
    v.map(|n| u8::try_from(n).map_err(|_| StoreError::Data(format!("stored {what} {n}"))))
        .transpose()
}

fn pos_i(pos: usize) -> i64 {
    i64::try_from(pos).unwrap_or(i64::MAX)
}

fn money(v: Option<i64>) -> Option<Money> {
    v.map(Money::from_cents)
}

fn cents(m: Option<Money>) -> Option<i64> {
    m.map(Money::cents)
}

fn str_ref<'a>(row: &'a Row<'_>, i: usize) -> Result<Option<&'a str>, StoreError> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(Some)
            .map_err(|e| StoreError::Data(format!("stored text is not UTF-8: {e}"))),
        other => Err(StoreError::Data(format!(
            "column {i}: expected text, found {:?}",
            other.data_type()
        ))),
    }
}

fn string(row: &Row<'_>, i: usize) -> Result<Option<String>, StoreError> {
    Ok(str_ref(row, i)?.map(str::to_string))
}

/// The index of `accounts.readings` in a scan's row: after `ACCOUNT_COLUMNS`.
const READINGS_COLUMN: usize = 31;

const ACCOUNT_COLUMNS: &str = "key, id, name, segment, csm, account_executive, currency, as_of, arr_cents, licensed_seats, price_per_seat_cents, plan, renewal_date, renewal_contentious, planning_month, active_users, health_score, has_components, adoption, engagement, relationship, value, commercial, has_relationship, responsive, engaged, sponsor, executive_sponsor_confirmed, champion, relationship_score, value_score";

/// Writes the account's own row (not its lists); returns its key.
pub fn write_account(conn: &Connection, key: Option<i64>, s: &Snapshot) -> Result<i64, StoreError> {
    let c = &s.contract;
    let h = &s.health;
    let comp = h.components.clone().unwrap_or_default();
    let rel = h.relationship.clone().unwrap_or_default();
    let values: [&dyn ToSql; 31] = [
        &key,
        &s.id,
        &s.name,
        &s.segment,
        &s.csm,
        &s.account_executive,
        &s.currency,
        &s.as_of.map(day_text),
        &cents(c.arr),
        &c.licensed_seats,
        &cents(c.price_per_seat),
        &c.plan,
        &c.renewal_date.map(day_text),
        &c.renewal_contentious,
        &c.planning_month,
        &s.usage.active_users,
        &h.score,
        &h.components.is_some(),
        &comp.adoption,
        &comp.engagement,
        &comp.relationship,
        &comp.value,
        &comp.commercial,
        &h.relationship.is_some(),
        &rel.responsive,
        &rel.engaged,
        &rel.sponsor,
        &rel.executive_sponsor_confirmed,
        &rel.champion,
        &h.relationship_score,
        &h.value_score,
    ];
    let name_norm = norm(&s.name);
    let mut all: Vec<&dyn ToSql> = values.to_vec();
    all.push(&name_norm);
    match key {
        // An existing account is updated in place: a REPLACE would delete the row and cascade
        // to its children and saved plans.
        Some(k) => {
            conn.prepare_cached(&UPDATE_ACCOUNT)?
                .execute(all.as_slice())?;
            Ok(k)
        }
        None => {
            conn.prepare_cached(&INSERT_ACCOUNT)?
                .execute(all.as_slice())?;
            Ok(conn.last_insert_rowid())
        }
    }
}

static INSERT_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO accounts ({ACCOUNT_COLUMNS}, name_norm) VALUES ({})",
        (1..=32)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
});

static UPDATE_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE accounts SET ({}, name_norm) = ({}) WHERE key = ?1",
        ACCOUNT_COLUMNS.trim_start_matches("key, "),
        (2..=32)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
});

/// Replaces the account's offer.
pub fn write_offer(
    conn: &Connection,
    key: i64,
    offer: Option<&Offer>,
    existed: bool,
) -> Result<(), StoreError> {
    if existed {
        conn.prepare_cached("DELETE FROM offers WHERE account = ?1")?
            .execute([key])?;
    }
    if let Some(o) = offer {
        conn.prepare_cached(
            "INSERT INTO offers (account, type, seats, price_per_seat_cents, target_plan, target_price_per_seat_cents, tier_premium_pct, module, module_price_cents, module_price_per_seat_cents, product, product_price_cents, term_years, uplift_pct, technical_capacity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            key,
            enum_text(&o.kind),
            o.seats,
            cents(o.price_per_seat),
            o.target_plan,
            cents(o.target_price_per_seat),
            o.tier_premium_pct,
            o.module,
            cents(o.module_price),
            cents(o.module_price_per_seat),
            o.product,
            cents(o.product_price),
            o.term_years,
            o.uplift_pct,
            o.technical_capacity.map(|t| t.as_str()),
        ])?;
    }
    Ok(())
}

/// The list-valued parts of a snapshot, each in its own table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    History,
    Limits,
    Features,
    ChurnSignals,
    Goals,
    Signals,
    Events,
}

impl ListKind {
    pub const ALL: [ListKind; 7] = [
        ListKind::History,
        ListKind::Limits,
        ListKind::Features,
        ListKind::ChurnSignals,
        ListKind::Goals,
        ListKind::Signals,
        ListKind::Events,
    ];

    pub fn table(self) -> &'static str {
        match self {
            ListKind::History => "usage_history",
            ListKind::Limits => "usage_limits",
            ListKind::Features => "features",
            ListKind::ChurnSignals => "churn_signals",
            ListKind::Goals => "goals",
            ListKind::Signals => "signals",
            ListKind::Events => "events",
        }
    }
}

/// Deletes every item of one list of one account.
pub fn clear_list(conn: &Connection, key: i64, kind: ListKind) -> Result<(), StoreError> {
    conn.prepare_cached(&format!("DELETE FROM {} WHERE account = ?1", kind.table()))?
        .execute([key])?;
    Ok(())
}

pub fn insert_history(conn: &Connection, key: i64, p: &UsagePoint) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO usage_history (account, date, active_users) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![key, day_number(p.date), p.active_users])?;
    Ok(())
}

pub fn insert_limit(
    conn: &Connection,
    key: i64,
    pos: usize,
    l: &UsageLimit,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO usage_limits (account, pos, metric, used, \"limit\", period) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![key, pos_i(pos), l.metric, l.used, l.limit, l.period])?;
    Ok(())
}

pub fn insert_feature(
    conn: &Connection,
    key: i64,
    pos: usize,
    f: &FeatureUsage,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO features (account, pos, name, core, active_users) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![key, pos_i(pos), f.name, f.core, f.active_users])?;
    Ok(())
}

pub fn insert_churn(
    conn: &Connection,
    key: i64,
    pos: usize,
    c: &ChurnSignal,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO churn_signals (account, pos, kind, detail, since, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![key, pos_i(pos), c.kind.as_str(), c.detail, c.since.map(day_text), c.active])?;
    Ok(())
}

pub fn insert_goal(conn: &Connection, key: i64, pos: usize, g: &Goal) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO goals (account, pos, goal, status) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![key, pos_i(pos), g.goal, g.status.as_str()])?;
    Ok(())
}

pub fn insert_signal(
    conn: &Connection,
    key: i64,
    pos: usize,
    g: &Signal,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO signals (account, pos, kind, date, evidence, source, quote, feature, tier, team_size, users_with_access, product, module, metric) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")?
        .execute(params![
            key,
            pos_i(pos),
            g.kind.as_str(),
            day_text(g.date),
            g.evidence,
            g.source.as_str(),
            g.quote,
            g.feature,
            g.tier,
            g.team_size,
            g.users_with_access,
            g.product,
            g.module,
            g.metric
        ])?;
    Ok(())
}

pub fn insert_event(conn: &Connection, key: i64, pos: usize, e: &Event) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO events (account, pos, kind, date, detail, open, until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
        .execute(params![key, pos_i(pos), e.kind.as_str(), day_text(e.date), e.detail, e.open, e.until.map(day_text)])?;
    Ok(())
}

/// History rows per multi-row INSERT: one statement instead of one per reading is most of
/// what makes a 90-day history cheap to write.
const HISTORY_CHUNK: usize = 128;

/// Inserts readings the account does not have yet (its history was cleared, or it is new).
pub fn insert_history_rows(
    conn: &Connection,
    key: i64,
    points: &[UsagePoint],
) -> Result<(), StoreError> {
    for chunk in points.chunks(HISTORY_CHUNK) {
        let mut sql = String::with_capacity(64 + chunk.len() * 8);
        sql.push_str("INSERT INTO usage_history (account, date, active_users) VALUES ");
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(?,?,?)" } else { ",(?,?,?)" });
        }
        let mut st = conn.prepare_cached(&sql)?;
        for (i, p) in chunk.iter().enumerate() {
            let at = i * 3 + 1;
            st.raw_bind_parameter(at, key)?;
            st.raw_bind_parameter(at + 1, day_number(p.date))?;
            st.raw_bind_parameter(at + 2, p.active_users)?;
        }
        st.raw_execute()?;
    }
    Ok(())
}

fn set_readings(conn: &Connection, key: i64, packed: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE accounts SET readings = ?2 WHERE key = ?1")?
        .execute(params![key, packed])?;
    Ok(())
}

/// Rewrites the account's packed readings (`accounts.readings`, see `store::readings`) from
/// its `usage_history` rows: after readings were merged into them one by one.
pub fn repack_readings(conn: &Connection, key: i64) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT account, date, active_users FROM usage_history WHERE account = ?1 ORDER BY date",
    )?;
    let mut rows = st.query([key])?;
    let mut points = Vec::new();
    while let Some(r) = rows.next()? {
        points.push(history_from_row(r)?.1);
    }
    set_readings(conn, key, &super::readings::pack(&points))
}

/// Replaces every list of the account with the snapshot's.
pub fn write_lists(
    conn: &Connection,
    key: i64,
    s: &Snapshot,
    existed: bool,
) -> Result<(), StoreError> {
    if existed {
        for k in ListKind::ALL {
            clear_list(conn, key, k)?;
        }
    }
    insert_history_rows(conn, key, &s.usage.history)?;
    set_readings(conn, key, &super::readings::pack(&s.usage.history))?;
    for (i, l) in s.usage.limits.iter().enumerate() {
        insert_limit(conn, key, i, l)?;
    }
    for (i, f) in s.usage.features.iter().enumerate() {
        insert_feature(conn, key, i, f)?;
    }
    for (i, c) in s.health.churn_signals.iter().enumerate() {
        insert_churn(conn, key, i, c)?;
    }
    for (i, g) in s.health.goals.iter().enumerate() {
        insert_goal(conn, key, i, g)?;
    }
    for (i, g) in s.signals.iter().enumerate() {
        insert_signal(conn, key, i, g)?;
    }
    for (i, e) in s.events.iter().enumerate() {
        insert_event(conn, key, i, e)?;
    }
    Ok(())
}

/// Inserts an account's key, id and name only: what an import needs to know that the
/// account exists (`store::postgres` stages accounts this way, and the whole snapshot only
/// of those the file names; see `import::import_opened_staged`).
pub fn insert_stub(
    conn: &Connection,
    key: i64,
    id: Option<&str>,
    name: &str,
    name_norm: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO accounts (key, id, name, name_norm) VALUES (?1, ?2, ?3, ?4)")?
        .execute(rusqlite::params![key, id, name, name_norm])?;
    Ok(())
}

/// Inserts a whole snapshot under a key the caller chose (a PostgreSQL import stages the
/// stored accounts in memory under their own keys, see `store::postgres`).
pub fn insert_snapshot(conn: &Connection, key: i64, s: &Snapshot) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO accounts (key, name, name_norm) VALUES (?1, '', '')")?
        .execute([key])?;
    write_snapshot(conn, Some(key), s)?;
    Ok(())
}

/// Writes a whole snapshot: the account row, its offer and every list.
pub fn write_snapshot(
    conn: &Connection,
    key: Option<i64>,
    s: &Snapshot,
) -> Result<i64, StoreError> {
    let k = write_account(conn, key, s)?;
    write_offer(conn, k, s.offer.as_ref(), key.is_some())?;
    write_lists(conn, k, s, key.is_some())?;
    Ok(k)
}

fn account_from_row(row: &Row<'_>) -> Result<(i64, Snapshot), StoreError> {
    let key: i64 = row.get(0)?;
    let b = |i: usize| -> Result<Option<bool>, StoreError> { Ok(row.get::<_, Option<bool>>(i)?) };
    let f = |i: usize| -> Result<Option<f64>, StoreError> { Ok(row.get::<_, Option<f64>>(i)?) };
    let n = |i: usize| -> Result<Option<i64>, StoreError> { Ok(row.get::<_, Option<i64>>(i)?) };
    let has_components: bool = row.get(17)?;
    let has_relationship: bool = row.get(23)?;
    let s = Snapshot {
        id: string(row, 1)?,
        name: string(row, 2)?.unwrap_or_default(),
        segment: string(row, 3)?,
        csm: string(row, 4)?,
        account_executive: string(row, 5)?,
        currency: string(row, 6)?,
        as_of: opt_day(str_ref(row, 7)?)?,
        contract: Contract {
            arr: money(n(8)?),
            licensed_seats: u32_of(n(9)?, "licensed_seats")?,
            price_per_seat: money(n(10)?),
            plan: string(row, 11)?,
            renewal_date: opt_day(str_ref(row, 12)?)?,
            renewal_contentious: b(13)?,
            planning_month: u8_of(n(14)?, "planning_month")?,
        },
        usage: Usage {
            active_users: u32_of(n(15)?, "active_users")?,
            ..Usage::default()
        },
        health: Health {
            score: f(16)?,
            components: if has_components {
                Some(HealthComponents {
                    adoption: f(18)?,
                    engagement: f(19)?,
                    relationship: f(20)?,
                    value: f(21)?,
                    commercial: f(22)?,
                })
            } else {
                None
            },
            relationship: if has_relationship {
                Some(Relationship {
                    responsive: b(24)?,
                    engaged: b(25)?,
                    sponsor: string(row, 26)?,
                    executive_sponsor_confirmed: b(27)?,
                    champion: string(row, 28)?,
                })
            } else {
                None
            },
            relationship_score: f(29)?,
            value_score: f(30)?,
            ..Health::default()
        },
        ..Snapshot::default()
    };
    Ok((key, s))
}

fn offer_from_row(row: &Row<'_>) -> Result<(i64, Offer), StoreError> {
    let n = |i: usize| -> Result<Option<i64>, StoreError> { Ok(row.get::<_, Option<i64>>(i)?) };
    let kind: String = row.get(1)?;
    Ok((
        row.get(0)?,
        Offer {
            kind: enum_from(&kind, "offer type")?,
            seats: u32_of(n(2)?, "offer.seats")?,
            price_per_seat: money(n(3)?),
            target_plan: string(row, 4)?,
            target_price_per_seat: money(n(5)?),
            tier_premium_pct: row.get(6)?,
            module: string(row, 7)?,
            module_price: money(n(8)?),
            module_price_per_seat: money(n(9)?),
            product: string(row, 10)?,
            product_price: money(n(11)?),
            term_years: u8_of(n(12)?, "offer.term_years")?,
            uplift_pct: row.get(13)?,
            technical_capacity: str_ref(row, 14)?
                .map(|t| enum_from(t, "offer technical_capacity"))
                .transpose()?,
        },
    ))
}

/// The hottest row reader (90 readings an account): matches the raw values directly.
fn history_from_row(row: &Row<'_>) -> Result<(i64, UsagePoint), StoreError> {
    let bad =
        |what: &str| StoreError::Data(format!("stored usage_history.{what} has the wrong type"));
    let (ValueRef::Integer(key), ValueRef::Integer(date), ValueRef::Integer(users)) =
        (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?)
    else {
        return Err(bad("row"));
    };
    Ok((
        key,
        UsagePoint {
            date: day_from_number(date)?,
            active_users: u32::try_from(users).map_err(|_| bad("active_users"))?,
        },
    ))
}

fn limit_from_row(row: &Row<'_>) -> Result<(i64, UsageLimit), StoreError> {
    Ok((
        row.get(0)?,
        UsageLimit {
            metric: row.get(1)?,
            used: row.get(2)?,
            limit: row.get(3)?,
            period: row.get(4)?,
        },
    ))
}

fn feature_from_row(row: &Row<'_>) -> Result<(i64, FeatureUsage), StoreError> {
    Ok((
        row.get(0)?,
        FeatureUsage {
            name: row.get(1)?,
            core: row.get(2)?,
            active_users: u32_of(row.get(3)?, "features.active_users")?,
        },
    ))
}

fn churn_from_row(row: &Row<'_>) -> Result<(i64, ChurnSignal), StoreError> {
    let kind: String = row.get(1)?;
    Ok((
        row.get(0)?,
        ChurnSignal {
            kind: enum_from(&kind, "churn signal kind")?,
            detail: row.get(2)?,
            since: opt_day(str_ref(row, 3)?)?,
            active: row.get(4)?,
        },
    ))
}

fn goal_from_row(row: &Row<'_>) -> Result<(i64, Goal), StoreError> {
    let status: String = row.get(2)?;
    Ok((
        row.get(0)?,
        Goal {
            goal: row.get(1)?,
            status: enum_from(&status, "goal status")?,
        },
    ))
}

fn signal_from_row(row: &Row<'_>) -> Result<(i64, Signal), StoreError> {
    let kind: String = row.get(1)?;
    let source: String = row.get(4)?;
    Ok((
        row.get(0)?,
        Signal {
            kind: enum_from(&kind, "signal kind")?,
            date: parse_day(str_ref(row, 2)?.unwrap_or_default())?,
            evidence: row.get(3)?,
            source: enum_from(&source, "signal source")?,
            quote: row.get(5)?,
            feature: row.get(6)?,
            tier: row.get(7)?,
            team_size: u32_of(row.get(8)?, "team_size")?,
            users_with_access: u32_of(row.get(9)?, "users_with_access")?,
            product: row.get(10)?,
            module: row.get(11)?,
            metric: row.get(12)?,
        },
    ))
}

fn event_from_row(row: &Row<'_>) -> Result<(i64, Event), StoreError> {
    let kind: String = row.get(1)?;
    Ok((
        row.get(0)?,
        Event {
            kind: enum_from(&kind, "event kind")?,
            date: parse_day(str_ref(row, 2)?.unwrap_or_default())?,
            detail: row.get(3)?,
            open: row.get(4)?,
            until: opt_day(str_ref(row, 5)?)?,
        },
    ))
}

/// One child table being read in account order, one row ahead.
struct Child<'s, T> {
    rows: Rows<'s>,
    peek: Option<(i64, T)>,
    read: fn(&Row<'_>) -> Result<(i64, T), StoreError>,
}

impl<'s, T> Child<'s, T> {
    fn new(
        mut rows: Rows<'s>,
        read: fn(&Row<'_>) -> Result<(i64, T), StoreError>,
    ) -> Result<Self, StoreError> {
        let peek = match rows.next()? {
            Some(r) => Some(read(r)?),
            None => None,
        };
        Ok(Child { rows, peek, read })
    }

    /// Moves every item of `key` into `out`, skipping rows of accounts not asked for.
    fn take(&mut self, key: i64, out: &mut Vec<T>) -> Result<(), StoreError> {
        loop {
            match &self.peek {
                Some((k, _)) if *k < key => {}
                Some((k, _)) if *k == key => {
                    if let Some((_, item)) = self.peek.take() {
                        out.push(item);
                    }
                }
                _ => return Ok(()),
            }
            self.peek = match self.rows.next()? {
                Some(r) => Some((self.read)(r)?),
                None => None,
            };
        }
    }
}

/// Which accounts to read.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub segment: Option<String>,
    pub csm: Option<String>,
    pub key: Option<i64>,
    /// Keys in `from..=to`, for a scan split across threads.
    pub key_range: Option<(i64, i64)>,
    /// Only the account row and its offer, no lists.
    pub without_lists: bool,
}

/// Named SQL parameters built at run time.
type NamedParams<'a> = Vec<(&'static str, Box<dyn ToSql + 'a>)>;

impl Selection {
    /// The `WHERE` conditions for the accounts table and for the child tables (each `None`
    /// when everything is selected), and their parameters. Every condition uses every
    /// parameter. Keys are matched on the child tables' own `account` column: a subquery
    /// there makes SQLite build a temporary table per child table and query, which was most of
    /// the cost of reading one account; only segment and CSM need the accounts table.
    fn conditions(&self) -> (Option<String>, Option<String>, NamedParams<'_>) {
        let mut accounts = Vec::new();
        let mut children = Vec::new();
        let mut by_account = Vec::new();
        let mut params: NamedParams<'_> = Vec::new();
        if let Some(s) = &self.segment {
            by_account.push("segment = :segment COLLATE NOCASE");
            params.push((":segment", Box::new(s.trim())));
        }
        if let Some(c) = &self.csm {
            by_account.push("csm = :csm COLLATE NOCASE");
            params.push((":csm", Box::new(c.trim())));
        }
        if let Some(k) = self.key {
            accounts.push("key = :key".to_string());
            children.push("account = :key".to_string());
            params.push((":key", Box::new(k)));
        }
        if let Some((from, to)) = self.key_range {
            accounts.push("key BETWEEN :from AND :to".to_string());
            children.push("account BETWEEN :from AND :to".to_string());
            params.push((":from", Box::new(from)));
            params.push((":to", Box::new(to)));
        }
        if !by_account.is_empty() {
            let cond = by_account.join(" AND ");
            children.push(format!(
                "account IN (SELECT key FROM accounts WHERE {cond})"
            ));
            accounts.push(cond);
        }
        let join = |c: Vec<String>| (!c.is_empty()).then(|| c.join(" AND "));
        (join(accounts), join(children), params)
    }
}

/// Reads the selected accounts in key order and hands each whole snapshot to `each`.
pub fn scan(
    conn: &Connection,
    sel: &Selection,
    each: &mut dyn FnMut(i64, Snapshot) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (accounts, children, named) = sel.conditions();
    let named_refs: Vec<(&str, &dyn ToSql)> = named.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    let where_accounts = accounts.map(|c| format!("WHERE {c}")).unwrap_or_default();
    let where_children = children.map(|c| format!("WHERE {c}")).unwrap_or_default();
    let child_sql = |cols: &str, table: &str, order: &str| {
        format!("SELECT account, {cols} FROM {table} {where_children} ORDER BY account, {order}")
    };
    let mut acc_stmt = conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS}, readings FROM accounts {where_accounts} ORDER BY key"
    ))?;
    let mut offer_stmt = conn.prepare_cached(&child_sql(
        "type, seats, price_per_seat_cents, target_plan, target_price_per_seat_cents, tier_premium_pct, module, module_price_cents, module_price_per_seat_cents, product, product_price_cents, term_years, uplift_pct, technical_capacity",
        "offers",
        "account",
    ))?;
    let mut offers = Child::new(offer_stmt.query(named_refs.as_slice())?, offer_from_row)?;
    let lists = !sel.without_lists;
    // Statements for the lists are prepared even when unused: simpler than optional
    // borrows, and cached, so after the first scan of a shape preparing costs a lookup.
    let mut st_l = conn.prepare_cached(&child_sql(
        "metric, used, \"limit\", period",
        "usage_limits",
        "pos",
    ))?;
    let mut st_f =
        conn.prepare_cached(&child_sql("name, core, active_users", "features", "pos"))?;
    let mut st_c = conn.prepare_cached(&child_sql(
        "kind, detail, since, active",
        "churn_signals",
        "pos",
    ))?;
    let mut st_g = conn.prepare_cached(&child_sql("goal, status", "goals", "pos"))?;
    let mut st_s = conn.prepare_cached(&child_sql(
        "kind, date, evidence, source, quote, feature, tier, team_size, users_with_access, product, module, metric",
        "signals",
        "pos",
    ))?;
    let mut st_e = conn.prepare_cached(&child_sql(
        "kind, date, detail, open, until",
        "events",
        "pos",
    ))?;
    let mut children = if lists {
        Some((
            Child::new(st_l.query(named_refs.as_slice())?, limit_from_row)?,
            Child::new(st_f.query(named_refs.as_slice())?, feature_from_row)?,
            Child::new(st_c.query(named_refs.as_slice())?, churn_from_row)?,
            Child::new(st_g.query(named_refs.as_slice())?, goal_from_row)?,
            Child::new(st_s.query(named_refs.as_slice())?, signal_from_row)?,
            Child::new(st_e.query(named_refs.as_slice())?, event_from_row)?,
        ))
    } else {
        None
    };
    let mut rows = acc_stmt.query(named_refs.as_slice())?;
    while let Some(row) = rows.next()? {
        let (key, mut s) = account_from_row(row)?;
        let mut offer = Vec::with_capacity(1);
        offers.take(key, &mut offer)?;
        s.offer = offer.pop();
        if let Some((l, f, c, g, sg, e)) = children.as_mut() {
            // The history is the packed column, not a row per reading.
            let packed = match row.get_ref(READINGS_COLUMN)? {
                ValueRef::Blob(b) => b,
                _ => {
                    return Err(StoreError::Data(
                        "stored accounts.readings is not a blob".into(),
                    ));
                }
            };
            super::readings::unpack_into(packed, &mut s.usage.history)?;
            l.take(key, &mut s.usage.limits)?;
            f.take(key, &mut s.usage.features)?;
            c.take(key, &mut s.health.churn_signals)?;
            g.take(key, &mut s.health.goals)?;
            sg.take(key, &mut s.signals)?;
            e.take(key, &mut s.events)?;
        }
        each(key, s)?;
    }
    Ok(())
}

/// One account by key.
pub fn load(
    conn: &Connection,
    key: i64,
    without_lists: bool,
) -> Result<Option<Snapshot>, StoreError> {
    let mut found = None;
    scan(
        conn,
        &Selection {
            key: Some(key),
            without_lists,
            ..Selection::default()
        },
        &mut |_, s| {
            found = Some(s);
            Ok(())
        },
    )?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_round_trip() {
        for d in ["2026-11-15", "0001-01-01", "2028-02-29", "9999-12-31"] {
            let day = Day::parse(d).unwrap();
            assert_eq!(day_text(day), d);
            assert_eq!(parse_day(d).unwrap(), day);
        }
        for d in ["2026-11-15", "0001-01-01", "2028-02-29", "9999-12-31"] {
            let day = Day::parse(d).unwrap();
            assert_eq!(day_from_number(day_number(day)).unwrap(), day);
        }
        assert_eq!(day_number(Day::parse("2026-11-15").unwrap()), 20_261_115);
        assert!(day_from_number(20_270_230).is_err());
        assert!(parse_day("2027-02-30").is_err());
        assert!(parse_day("20270101").is_err());
    }
}
