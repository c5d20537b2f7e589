//! An account's usage history packed into one value: what a segment scan reads instead of
//! a row (SQLite) or a JSON array (PostgreSQL) per reading.
//!
//! A reading is 8 bytes, little-endian: the day as the integer YYYYMMDD (`i32`), then the
//! active users (`u32`), in date order. It is not a result computed from the readings (no
//! window, no median, no policy): it is the readings themselves, so it stays right for any
//! `as_of` and any policy. It is written in the same transaction, from the same values, as
//! the readings it packs (see `rows::write_lists`, `rows::repack_readings` and the
//! PostgreSQL store's `Batch`), and a test compares it with the snapshot read whole after
//! every kind of import.

use crate::model::snapshot::UsagePoint;

use super::StoreError;
use super::rows::{day_from_number, day_number};

const READING_BYTES: usize = 8;

/// The readings, in date order, packed.
pub fn pack(points: &[UsagePoint]) -> Vec<u8> {
    let mut sorted: Vec<&UsagePoint> = points.iter().collect();
    sorted.sort_by_key(|p| p.date);
    let mut out = Vec::with_capacity(points.len() * READING_BYTES);
    for p in sorted {
        let day = i32::try_from(day_number(p.date)).unwrap_or(i32::MAX);
        out.extend_from_slice(&day.to_le_bytes());
        out.extend_from_slice(&p.active_users.to_le_bytes());
    }
    out
}

/// The readings `pack` wrote, into `out` (cleared first).
pub fn unpack_into(bytes: &[u8], out: &mut Vec<UsagePoint>) -> Result<(), StoreError> {
    out.clear();
    let chunks = bytes.chunks_exact(READING_BYTES);
    if !chunks.remainder().is_empty() {
        return Err(StoreError::Data(format!(
            "stored usage readings are {} bytes, not a multiple of {READING_BYTES}",
            bytes.len()
        )));
    }
    out.reserve(bytes.len() / READING_BYTES);
    for c in chunks {
        let (day, users) = c.split_at(4);
        let day = i32::from_le_bytes(day.try_into().unwrap_or_default());
        let users = u32::from_le_bytes(users.try_into().unwrap_or_default());
        out.push(UsagePoint {
            date: day_from_number(i64::from(day))?,
            active_users: users,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Day;

    #[test]
    fn packed_readings_round_trip_in_date_order() {
        let p = |d: &str, n: u32| UsagePoint {
            date: Day::parse(d).unwrap(),
            active_users: n,
        };
        let points = vec![
            p("2026-11-15", 7),
            p("2026-01-31", u32::MAX),
            p("0001-01-01", 0),
        ];
        let bytes = pack(&points);
        assert_eq!(bytes.len(), 24);
        let mut back = vec![p("2020-01-01", 1)];
        unpack_into(&bytes, &mut back).unwrap();
        assert_eq!(
            back,
            vec![points[2].clone(), points[1].clone(), points[0].clone()]
        );
        assert!(unpack_into(&bytes[..7], &mut back).is_err());
        unpack_into(&[], &mut back).unwrap();
        assert!(back.is_empty());
    }
}
