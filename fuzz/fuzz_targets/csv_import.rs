//! Any bytes as a CSV (or TSV) export, with no mapping, one of the sample CRM mappings, or a
//! fuzzed mapping, imported into a store holding the demo portfolio. The import must never
//! panic; it either succeeds or reports problems (or fails) and then changes nothing; after
//! a success every stored account loads back as a valid snapshot, and importing the same
//! bytes again changes nothing (the store's documented semantics: account rows update the
//! columns they name, history is upserted by date, lists are replaced).
//!
//! Input layout: the first byte picks the mapping (`b & 3`: 0 none, 1 the CRM accounts
//! mapping, 2 the CRM usage mapping, 3 a fuzzed mapping: the bytes up to the first NUL) and
//! the extension (`b & 4`: `.tsv`, else `.csv`); the rest is the export.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use expansion_planner::model::Snapshot;
use expansion_planner::model::portfolio::AccountFilter;
use expansion_planner::store::Store;
use libfuzzer_sys::fuzz_target;

const CRM_ACCOUNTS: &str = include_str!("../../tests/data/import/crm/accounts.map.toml");
const CRM_USAGE: &str = include_str!("../../tests/data/import/crm/usage.map.toml");

/// A directory of this process's own for the export and the mapping file.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let d = std::env::temp_dir().join(format!("csv_import-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("a scratch directory");
    d
});

/// Everything the store holds, as its API reads it back: every account whole (key and
/// snapshot, lists and history included) and its saved plans. Loading is the round trip:
/// an account that does not load back, or loads back invalid, breaks the invariant.
fn state(store: &Store) -> Vec<(i64, Snapshot, usize)> {
    let mut out = Vec::new();
    store
        .scan(&AccountFilter::default(), &mut |key, s| {
            out.push((key, s, 0));
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

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (map_text, export): (Option<&[u8]>, &[u8]) = match selector & 3 {
        0 => (None, rest),
        1 => (Some(CRM_ACCOUNTS.as_bytes()), rest),
        2 => (Some(CRM_USAGE.as_bytes()), rest),
        _ => match rest.iter().position(|&b| b == 0) {
            Some(i) => (rest.get(..i), rest.get(i + 1..).unwrap_or_default()),
            None => (Some(rest), &[][..]),
        },
    };
    let ext = if selector & 4 != 0 { "tsv" } else { "csv" };
    let file = DIR.join(format!("export.{ext}"));
    std::fs::write(&file, export).expect("write the export");
    let map = map_text.map(|m| {
        let p = DIR.join("map.toml");
        std::fs::write(&p, m).expect("write the mapping");
        p
    });

    let store = Store::demo().expect("the demo store");
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
