//! Any bytes as a CSV (or TSV) export, with no mapping, one of the sample CRM mappings, or a
//! fuzzed mapping, imported into a store holding the demo portfolio. The import must never
//! panic; it either succeeds or reports problems (or fails) and then changes nothing; after
//! a success every stored account loads back as a valid snapshot, and importing the same
//! bytes again changes nothing (the store's documented semantics: account rows update the
//! columns they name, history is upserted by date, lists are replaced).
//!
//! Input layout: the first byte picks the mapping (`b & 7`: 0 none, 1 the CRM accounts
//! mapping, 2 the CRM usage mapping, 3 a fuzzed mapping: the bytes up to the first NUL; 4
//! the built-in `gainsight-companies` map (value maps, map-wide `optional`); 5 a map with
//! value maps and an optional column, the fuzzed bytes up to the first NUL appended to it,
//! so more `[values]` tables and columns are fuzzed too; 6 the built-in `mixpanel-usage`
//! map; 7 the built-in `salesforce-accounts` map) and the extension (`b & 8`: `.tsv`, else
//! `.csv`); the rest is the export.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use expansion_planner::model::Snapshot;
use expansion_planner::model::portfolio::AccountFilter;
use expansion_planner::store::{Sqlite, Store};
use libfuzzer_sys::fuzz_target;

const CRM_ACCOUNTS: &str = include_str!("../../tests/data/import/crm/accounts.map.toml");
const CRM_USAGE: &str = include_str!("../../tests/data/import/crm/usage.map.toml");

/// A map with value maps, a per-column `optional` and money in euros; fuzzed TOML is
/// appended to it (more columns, more `[values]` tables, or a broken file).
const VALUE_MAPS: &str = "thousands_separator = \".\"\ndecimal_separator = \",\"\ndate_format = \"%d.%m.%Y\"\n[columns]\n\"Id\" = \"id\"\n\"Name\" = { path = \"name\", optional = true }\n\"ARR\" = \"contract.arr\"\n\"Cur\" = \"currency\"\n\"Risk\" = { path = \"contract.renewal_contentious\", optional = true }\n\"Seg\" = { path = \"segment\", optional = true }\n[values.\"Risk\"]\n\"At Risk\" = \"yes\"\n\"OK\" = \"no\"\n[values.\"Seg\"]\n\"ENT\" = \"Enterprise\"\n\"\" = \"SMB\"\n";

/// A directory of this process's own for the export and the mapping file.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let d = std::env::temp_dir().join(format!("csv_import-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("a scratch directory");
    d
});

/// Everything the store holds, as its API reads it back: every account whole (key and
/// snapshot, lists and history included) and its saved plans. Loading is the round trip:
/// an account that does not load back, or loads back invalid, breaks the invariant.
fn state(store: &Sqlite) -> Vec<(i64, Snapshot, usize)> {
    let mut out = Vec::new();
    store
        .scan(&AccountFilter::default(), &mut |f| {
            out.push((f.key, f.snapshot, 0));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("a stored account does not load back: {e}"));
    for (key, s, plans) in &mut out {
        if let Err(e) = s.validate() {
            panic!("stored account {key} loads back invalid: {e}");
        }
        *plans = store.plans(*key).expect("plans load").len();
    }
    out
}

/// The bytes up to the first NUL, and those after it.
fn split(rest: &[u8]) -> (&[u8], &[u8]) {
    match rest.iter().position(|&b| b == 0) {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i + 1..).unwrap_or_default(),
        ),
        None => (rest, &[][..]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    enum Map {
        None,
        Text(Vec<u8>),
        Builtin(&'static str),
    }
    let (map_choice, export): (Map, &[u8]) = match selector & 7 {
        0 => (Map::None, rest),
        1 => (Map::Text(CRM_ACCOUNTS.as_bytes().to_vec()), rest),
        2 => (Map::Text(CRM_USAGE.as_bytes().to_vec()), rest),
        3 => {
            let (m, e) = split(rest);
            (Map::Text(m.to_vec()), e)
        }
        4 => (Map::Builtin("gainsight-companies"), rest),
        5 => {
            let (m, e) = split(rest);
            let mut text = VALUE_MAPS.as_bytes().to_vec();
            text.extend_from_slice(m);
            (Map::Text(text), e)
        }
        6 => (Map::Builtin("mixpanel-usage"), rest),
        _ => (Map::Builtin("salesforce-accounts"), rest),
    };
    let ext = if selector & 8 != 0 { "tsv" } else { "csv" };
    let file = DIR.join(format!("export.{ext}"));
    std::fs::write(&file, export).expect("write the export");
    let map = match map_choice {
        Map::None => None,
        Map::Builtin(name) => Some(PathBuf::from(name)),
        Map::Text(m) => {
            let p = DIR.join("map.toml");
            std::fs::write(&p, m).expect("write the mapping");
            Some(p)
        }
    };

    let store = Sqlite::demo().expect("the demo store");
    let before = state(&store);
    match store.import(&file, map.as_deref(), false) {
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.trim().is_empty(), "an import error with no message");
            assert_eq!(
                state(&store),
                before,
                "a failed import changed the store: {msg}"
            );
        }
        Ok(report) if !report.ok() => {
            assert!(!report.written, "a report with problems says it wrote");
            for e in &report.errors {
                assert!(
                    !e.problem.trim().is_empty(),
                    "a problem with no text: {e:?}"
                );
            }
            assert_eq!(
                state(&store),
                before,
                "an import with problems changed the store: {:?}",
                report.errors
            );
        }
        Ok(report) => {
            assert!(report.written, "a clean import that did not write");
            let after = state(&store);
            let again = store
                .import(&file, map.as_deref(), false)
                .unwrap_or_else(|e| panic!("the same bytes again failed: {e}"));
            assert!(
                again.ok(),
                "the same bytes imported once fine, then had problems: {:?}",
                again.errors
            );
            assert_eq!(again.created, 0, "the same bytes again created accounts");
            assert_eq!(
                state(&store),
                after,
                "importing the same bytes twice gave a different store"
            );
        }
    }
});
