//! The account store: imports of every format read back through the tools give the same
//! plans as the snapshots themselves; bad files import nothing and report every bad row;
//! foreign and corrupt database files are refused and left untouched; the import tool stays
//! inside its directories; plan history, reassessments and the segment plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use expansion_planner::accounts::Accounts;
use expansion_planner::engine::{Policy, draft_plan, segment};
use expansion_planner::mcp::tools;
use expansion_planner::model::portfolio::AccountFilter;
use expansion_planner::model::{Day, Snapshot};
use expansion_planner::service::Planner;
use expansion_planner::store::{Sqlite, Store, StoreError};
use serde_json::{Value, json};

fn data(p: &str) -> PathBuf {
    crate::root().join("tests/data/import").join(p)
}

fn planner(store: impl Into<Accounts>) -> Planner {
    Planner::new(Policy::default(), store)
}

/// Which store a parity test runs on: every test listed in `on_both_stores!` runs on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// An empty store.
    pub fn fresh(self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite => Box::new(Sqlite::in_memory().unwrap()),
            Backend::Postgres => Box::new(crate::pg::store()),
        }
    }

    /// The demo portfolio: SQLite's own demo store, or the same file imported.
    pub fn demo(self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite => Box::new(Sqlite::demo().unwrap()),
            Backend::Postgres => {
                let store = self.fresh();
                let r = store
                    .import(&crate::root().join("src/demo/portfolio.json"), None, false)
                    .unwrap();
                assert!(r.ok() && r.written && r.created == 12, "{:#?}", r.errors);
                store
            }
        }
    }
}

/// `on_both_stores!(name, ..)`: each `fn name(b: Backend)` becomes the tests
/// `name::sqlite` and `name::postgres`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(super::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name(super::Backend::Postgres)
                }
            }
        )*
    };
}

on_both_stores!(
    json_array_round_trips,
    jsonl_round_trips_and_reimport_updates_in_place,
    single_snapshot_files_round_trip,
    csv_by_snapshot_path_with_long_formats_round_trips,
    crm_export_with_mapping_round_trips,
    a_per_account_csv_updates_only_its_columns,
    bad_files_import_nothing_and_report_every_bad_row,
    a_good_dry_run_counts_but_writes_nothing,
    plan_history_and_due_reassessments_follow_an_account_over_time,
    demo_segment_plan_figures_checked_by_hand,
    list_and_get_accounts_filter_and_name_closest_matches,
    expansion_plan_prompt_with_a_segment_uses_plan_segment,
    vendor_exports_round_trip_through_their_built_in_maps,
    value_maps_and_optional_columns,
    import_tool_takes_built_in_maps_by_name,
    suggest_map_writes_a_map_that_imports_the_export,
    suggest_map_recognises_a_usage_export_and_the_cli_takes_built_in_maps,
    segment_scan_reads_what_was_imported_after_reimports,
    packed_readings_are_backfilled_by_the_migration,
);

fn call(p: &Planner, tool: &str, args: Value) -> Value {
    match tools::call(p, tool, args.clone()) {
        Ok(a) => a.structured,
        Err(e) => panic!("{tool} {args}: {e:?}"),
    }
}

fn call_err(p: &Planner, tool: &str, args: Value) -> String {
    match tools::call(p, tool, args.clone()) {
        Ok(a) => panic!("{tool} {args} should fail, got {}", a.markdown),
        Err(tools::CallError::Input(e)) => e.to_string(),
        Err(e) => format!("{e:?}"),
    }
}

fn import(store: &dyn Store, file: &str, map: Option<&str>) {
    let map = map.map(data);
    let r = store.import(&data(file), map.as_deref(), false).unwrap();
    assert!(r.ok() && r.written, "{file}: {:#?}", r.errors);
}

/// What draft_plan gives for each demo account straight from its snapshot.
fn direct_plans() -> BTreeMap<String, Value> {
    let policy = Policy::default();
    expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .map(|s| {
            let plan = draft_plan(s, &policy, s.as_of.unwrap());
            (s.id.clone().unwrap(), crate::plan_answer(plan))
        })
        .collect()
}

/// Every demo account drafted through the draft_plan tool from the store, by id and by name.
fn assert_same_plans_as_snapshots(store: Box<dyn Store>, format: &str) {
    let p = planner(store);
    let direct = direct_plans();
    assert_eq!(direct.len(), 12);
    for (id, want) in &direct {
        let got = call(&p, "draft_plan", json!({"account": id}));
        assert_eq!(&got, want, "{format}: plan for {id} differs");
        let name = want["account"].as_str().unwrap();
        let by_name = call(&p, "draft_plan", json!({"account": name.to_uppercase()}));
        assert_eq!(&by_name, want, "{format}: plan for {name} differs");
    }
    let list = call(&p, "list_accounts", json!({"limit": 1000}));
    assert_eq!(list["total"], 12, "{format}");
}

fn json_array_round_trips(b: Backend) {
    let store = b.fresh();
    let r = store
        .import(&crate::root().join("src/demo/portfolio.json"), None, false)
        .unwrap();
    assert_eq!(
        (r.rows, r.created, r.updated),
        (12, 12, 0),
        "{:?}",
        r.errors
    );
    // The stored snapshots are the snapshots.
    let p = planner(store);
    for s in expansion_planner::demo::portfolio().unwrap() {
        let got = call(&p, "get_account", json!({"account": s.id}));
        let back: Snapshot = serde_json::from_value(got["snapshot"].clone()).unwrap();
        assert_eq!(&back, s);
    }
    let store = b.fresh();
    store
        .import(&crate::root().join("src/demo/portfolio.json"), None, false)
        .unwrap();
    assert_same_plans_as_snapshots(store, "json");
}

fn jsonl_round_trips_and_reimport_updates_in_place(b: Backend) {
    let store = b.fresh();
    import(&*store, "portfolio.jsonl", None);
    let again = store.import(&data("portfolio.jsonl"), None, false).unwrap();
    assert_eq!((again.created, again.updated), (0, 12));
    assert_same_plans_as_snapshots(store, "jsonl");
}

fn single_snapshot_files_round_trip(b: Backend) {
    // Every data-driven case's snapshot, written as a one-object JSON file.
    let dir = crate::cli::scratch("single");
    let policy = Policy::default();
    let mut n = 0;
    for entry in std::fs::read_dir(crate::root().join("tests/data/accounts")).unwrap() {
        let path = entry.unwrap().path();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let s = Snapshot::from_json(case["snapshot"].clone()).unwrap();
        let file = dir.join(path.file_name().unwrap());
        std::fs::write(
            &file,
            serde_json::to_string_pretty(&case["snapshot"]).unwrap(),
        )
        .unwrap();
        let store = b.fresh();
        let r = store.import(&file, None, false).unwrap();
        assert!(r.ok(), "{}: {:?}", path.display(), r.errors);
        let p = planner(store);
        let as_of = s.as_of.unwrap_or(Day::parse("2026-11-15").unwrap());
        let want = crate::plan_answer(draft_plan(&s, &policy, as_of));
        let got = call(
            &p,
            "draft_plan",
            json!({"account": s.name, "as_of": as_of.to_string()}),
        );
        assert_eq!(got, want, "{}", path.display());
        n += 1;
    }
    assert!(n >= 20);
}

const LONG: [&str; 7] = [
    "csv/history.csv",
    "csv/signals.csv",
    "csv/events.csv",
    "csv/goals.csv",
    "csv/churn_signals.csv",
    "csv/features.csv",
    "csv/limits.csv",
];

fn csv_by_snapshot_path_with_long_formats_round_trips(b: Backend) {
    let store = b.fresh();
    import(&*store, "csv/accounts.csv", None);
    for f in LONG {
        import(&*store, f, None);
    }
    // Importing the list files again changes nothing: they replace what they name.
    for f in LONG {
        import(&*store, f, None);
    }
    assert_same_plans_as_snapshots(store, "csv");
}

fn crm_export_with_mapping_round_trips(b: Backend) {
    let store = b.fresh();
    import(&*store, "crm/accounts.csv", Some("crm/accounts.map.toml"));
    import(&*store, "crm/usage.csv", Some("crm/usage.map.toml"));
    for f in LONG.iter().skip(1) {
        import(&*store, f, None);
    }
    assert_same_plans_as_snapshots(store, "crm");
}

fn a_per_account_csv_updates_only_its_columns(b: Backend) {
    let store = b.fresh();
    import(&*store, "portfolio.jsonl", None);
    let dir = crate::cli::scratch("partial");
    let f = dir.join("health.csv");
    std::fs::write(&f, "id,health.score\nacc-001,55\nacc-002,\n").unwrap();
    let r = store.import(&f, None, false).unwrap();
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!((r.created, r.updated), (0, 2));
    let p = planner(store);
    let n = call(&p, "get_account", json!({"account": "acc-001"}));
    assert_eq!(n["snapshot"]["health"]["score"], 55.0);
    // Everything else is as stored: lists included.
    assert_eq!(n["snapshot"]["contract"]["arr"], 108000);
    assert_eq!(
        n["snapshot"]["usage"]["history"].as_array().unwrap().len(),
        13
    );
    // An empty cell makes the field unknown.
    let b = call(&p, "get_account", json!({"account": "acc-002"}));
    assert!(b["snapshot"]["health"].get("score").is_none());
}

/// Each `tests/data/import/bad/*.case.json`: the file is refused as a whole (the store is
/// as before, also on a dry run) and every expected problem is reported at its line and
/// column, and nothing else.
fn bad_files_import_nothing_and_report_every_bad_row(b: Backend) {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".case.json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 7);
    for case_path in cases {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(&case_path).unwrap()).unwrap();
        let store = b.fresh();
        for s in case["setup"].as_array().into_iter().flatten() {
            import(&*store, &format!("bad/{}", s.as_str().unwrap()), None);
        }
        let before = store.count(&AccountFilter::default()).unwrap();
        let file = data(&format!("bad/{}", case["file"].as_str().unwrap()));
        let map = case["map"].as_str().map(|m| data(&format!("bad/{m}")));
        for dry_run in [true, false] {
            let r = store.import(&file, map.as_deref(), dry_run).unwrap();
            let name = case_path.file_name().unwrap().to_string_lossy();
            assert!(!r.written, "{name}");
            let want = case["errors"].as_array().unwrap();
            let got: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
            assert_eq!(r.errors.len(), want.len(), "{name}: {got:#?}");
            for w in want {
                let (line, col, text) = (
                    w[0].as_u64().unwrap(),
                    w[1].as_str().unwrap(),
                    w[2].as_str().unwrap(),
                );
                assert!(
                    r.errors
                        .iter()
                        .any(|e| e.line == line && e.column == col && e.problem.contains(text)),
                    "{name}: expected line {line} column `{col}` ~ {text:?} in {got:#?}"
                );
            }
            assert_eq!(
                store.count(&AccountFilter::default()).unwrap(),
                before,
                "{name}"
            );
        }
    }
    // The long-format case also left the stored history alone.
    let store = b.fresh();
    import(&*store, "portfolio.jsonl", None);
    let _ = store
        .import(&data("bad/unknown_account_in_history.csv"), None, false)
        .unwrap();
    let p = planner(store);
    let n = call(&p, "get_account", json!({"account": "acc-001"}));
    assert_eq!(
        n["snapshot"]["usage"]["history"].as_array().unwrap().len(),
        13
    );
}

fn a_good_dry_run_counts_but_writes_nothing(b: Backend) {
    let store = b.fresh();
    let r = store.import(&data("portfolio.jsonl"), None, true).unwrap();
    assert!(r.ok() && !r.written);
    assert_eq!((r.rows, r.created), (12, 12));
    assert_eq!(store.count(&AccountFilter::default()).unwrap(), 0);
    assert!(r.markdown().contains("would create 12"));
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn foreign_and_corrupt_database_files_are_refused_and_left_untouched() {
    let dir = crate::cli::scratch("dbs");

    // Not SQLite at all.
    let text = dir.join("notes.db");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(10)).unwrap();
    let before = bytes(&text);
    let e = Sqlite::open(&text).unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("not an SQLite database file"), "{e}");
    assert!(e.to_string().contains("left untouched"), "{e}");
    assert_eq!(bytes(&text), before);

    // Another application's SQLite database.
    let other = dir.join("invoices.db");
    let _ = std::fs::remove_file(&other);
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE invoices (n INTEGER); INSERT INTO invoices VALUES (1);")
            .unwrap();
    }
    let before = bytes(&other);
    let e = Sqlite::open(&other).unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("invoices"), "{e}");
    assert_eq!(bytes(&other), before);
    assert!(!dir.join("invoices.db-wal").exists());

    // Ours, then damaged: everything after the header replaced with garbage.
    let ours = dir.join("ours.db");
    let _ = std::fs::remove_file(&ours);
    {
        let s = Sqlite::open(&ours).unwrap();
        s.put(expansion_planner::demo::portfolio().unwrap())
            .unwrap();
    }
    let mut damaged = bytes(&ours);
    assert!(damaged.len() > 4096);
    for (i, b) in damaged.iter_mut().enumerate().skip(100) {
        *b = (i * 7 % 251) as u8;
    }
    std::fs::write(&ours, &damaged).unwrap();
    let e = Sqlite::open(&ours).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("corrupt"), "{e}");
    assert_eq!(bytes(&ours), damaged);

    // Ours, from a newer schema.
    let newer = dir.join("newer.db");
    let _ = std::fs::remove_file(&newer);
    drop(Sqlite::open(&newer).unwrap());
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = bytes(&newer);
    let e = Sqlite::open(&newer).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
    assert_eq!(bytes(&newer), before);

    // A directory is not a database.
    assert!(matches!(
        Sqlite::open(&dir).unwrap_err(),
        StoreError::Open { .. }
    ));
}

#[test]
fn a_database_is_created_migrated_and_reopened() {
    let dir = crate::cli::scratch("fresh");
    let path = dir.join("nested/dir/accounts.db");
    let _ = std::fs::remove_dir_all(dir.join("nested"));
    {
        let s = Sqlite::open(&path).unwrap();
        import(&s, "portfolio.jsonl", None);
    }
    let s = Sqlite::open(&path).unwrap();
    assert_eq!(s.count(&AccountFilter::default()).unwrap(), 12);
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, expansion_planner::store::migrations::latest());
}

#[test]
fn import_tool_reads_only_under_the_allowed_directories() {
    let root = crate::cli::scratch("jail");
    let allowed = root.join("exports");
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::copy(data("portfolio.jsonl"), allowed.join("portfolio.jsonl")).unwrap();
    std::fs::write(root.join("secret.jsonl"), "{\"name\": \"Secret\"}\n").unwrap();
    let link = allowed.join("escape.jsonl");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("secret.jsonl"), &link).unwrap();
    let p = planner(Sqlite::in_memory().unwrap())
        .with_import_dirs(vec![allowed.canonicalize().unwrap()]);
    for bad in [
        "../secret.jsonl",
        "./../secret.jsonl",
        "sub/../../secret.jsonl",
        root.join("secret.jsonl").to_str().unwrap(),
        "/etc/passwd",
        "escape.jsonl",
    ] {
        let e = call_err(&p, "import_accounts", json!({"file": bad}));
        assert!(e.contains("file") && e.contains("outside"), "{bad}: {e}");
    }
    let e = call_err(&p, "import_accounts", json!({"file": "missing.jsonl"}));
    assert!(e.contains("not a file"), "{e}");
    let e = call_err(
        &p,
        "import_accounts",
        json!({"file": "portfolio.jsonl", "map": "../secret.jsonl"}),
    );
    assert!(e.contains("map") && e.contains("outside"), "{e}");
    // Nothing was imported by any of that.
    assert_eq!(call(&p, "list_accounts", json!({}))["total"], 0);
    let dry = call(
        &p,
        "import_accounts",
        json!({"file": "portfolio.jsonl", "dry_run": true}),
    );
    assert_eq!(
        (dry["created"].as_u64(), dry["written"].as_bool()),
        (Some(12), Some(false))
    );
    let ok = call(&p, "import_accounts", json!({"file": "portfolio.jsonl"}));
    assert_eq!(ok["written"], true);
    assert_eq!(call(&p, "list_accounts", json!({}))["total"], 12);
    // Without --import-dir the tool refuses everything.
    let closed = planner(Sqlite::in_memory().unwrap());
    let e = call_err(
        &closed,
        "import_accounts",
        json!({"file": "portfolio.jsonl"}),
    );
    assert!(e.contains("--import-dir"), "{e}");
}

/// The playbook's example account, blocked at 12 of 45 seats on 2026-11-15; then, after a
/// recovery, ready on 2027-02-20.
fn oversold(recovered: bool) -> Value {
    let mut s = json!({
        "id": "OV-1", "name": "Oversold Ltd", "segment": "Mid-Market", "csm": "Kim Lee",
        "account_executive": "Dana Fox", "as_of": "2026-11-15",
        "contract": {"arr": 54000, "licensed_seats": 45, "planning_month": 4},
        "usage": {"active_users": 12},
        "health": {"score": 55, "goals": [{"goal": "Automate reporting", "status": "on_track"}],
                   "relationship": {"responsive": true, "engaged": true, "sponsor": "Lee"}}
    });
    if recovered {
        let history: Vec<Value> = (0..10)
            .map(|w| {
                json!({"date": Day::parse("2026-12-19").unwrap().plus_days(w * 7).to_string(),
                       "active_users": 28 + (w % 3)})
            })
            .collect();
        s["as_of"] = json!("2027-02-20");
        s["usage"] = json!({
            "active_users": 29, "history": history,
            "features": [{"name": "Reports", "core": true, "active_users": 25},
                         {"name": "Automations", "core": true, "active_users": 18}]
        });
        s["health"] = json!({
            "score": 82, "relationship_score": 80, "value_score": 78,
            "goals": [{"goal": "Automate reporting", "status": "achieved"}],
            "relationship": {"responsive": true, "engaged": true, "sponsor": "Lee",
                             "executive_sponsor_confirmed": true}
        });
        s["signals"] = json!([
            {"kind": "team_growth", "date": "2027-02-10", "source": "customer",
             "evidence": "Finance team of 40 is joining; 29 have access", "team_size": 40,
             "users_with_access": 29, "quote": "Everyone in finance needs this"},
            {"kind": "feature_request", "date": "2027-02-12", "source": "customer",
             "evidence": "Asked for scheduled exports", "feature": "Scheduled exports",
             "tier": "Business", "quote": "We export by hand every Friday"}
        ]);
    }
    s
}

fn plan_history_and_due_reassessments_follow_an_account_over_time(b: Backend) {
    let dir = crate::cli::scratch("history");
    let f1 = dir.join("november.json");
    let f2 = dir.join("february.json");
    std::fs::write(&f1, oversold(false).to_string()).unwrap();
    std::fs::write(&f2, oversold(true).to_string()).unwrap();
    let store = b.fresh();
    assert!(store.import(&f1, None, false).unwrap().ok());
    let p = planner(store);

    let first = call(&p, "draft_plan", json!({"account": "Oversold"}));
    assert_eq!(first["outcome"], "blocked");
    let reassess = first["headline"]["reassess_on"].clone();
    // 90 days after 2026-11-15 is Saturday 2027-02-13: moved to the Monday.
    assert_eq!(
        reassess, "2027-02-15",
        "90 days after 2026-11-15, on a working day"
    );

    let due = |d: &str| call(&p, "due_reassessments", json!({"as_of": d}));
    assert!(due("2027-02-13")["due"].as_array().unwrap().is_empty());
    let on_the_day = due("2027-02-15");
    let rows = on_the_day["due"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Oversold Ltd");
    assert_eq!(rows[0]["days_overdue"], 0);
    assert_eq!(rows[0]["last_outcome"], "blocked");
    assert_eq!(due("2027-02-18")["due"][0]["days_overdue"], 3);
    // The segment plan lists it too.
    let seg = call(
        &p,
        "plan_segment",
        json!({"segment": "Mid-Market", "as_of": "2027-02-18"}),
    );
    assert_eq!(seg["reassessments_due"][0]["name"], "Oversold Ltd");

    // The customer recovered; the CSM re-imports and drafts again.
    let r = p.accounts.import(&f2, None, false).unwrap();
    assert_eq!((r.created, r.updated), (0, 1));
    let second = call(&p, "draft_plan", json!({"account": "OV-1"}));
    assert_eq!(second["outcome"], "ready", "{}", second["markdown"]);
    // Re-drafting the same day replaces, not duplicates.
    call(&p, "draft_plan", json!({"account": "OV-1"}));

    let h = call(&p, "plan_history", json!({"account": "oversold ltd"}));
    let plans = h["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 2);
    assert_eq!(plans[0]["as_of"], "2026-11-15");
    assert_eq!(plans[1]["as_of"], "2027-02-20");
    assert!(plans[0].get("markdown").is_none());
    let summary = h["summary"].as_str().unwrap();
    assert!(summary.contains("utilisation 26.7% -> 64.4%"), "{summary}");
    assert!(summary.contains("outcome blocked -> ready"), "{summary}");
    assert!(summary.contains("score 55.0 -> 82.0"), "{summary}");
    let with_md = call(
        &p,
        "plan_history",
        json!({"account": "OV-1", "include_markdown": true}),
    );
    assert!(
        with_md["plans"][0]["markdown"]
            .as_str()
            .unwrap()
            .contains("# Expansion Plan: Oversold Ltd")
    );
    // The ready plan has no reassessment date, so nothing is due any more.
    assert!(due("2027-03-01")["due"].as_array().unwrap().is_empty());
    let acct = call(&p, "get_account", json!({"account": "OV-1"}));
    assert_eq!(acct["saved_plans"], 2);
    assert_eq!(acct["last_plan"]["outcome"], "ready");
}

#[test]
fn segment_rows_agree_with_draft_plan_for_every_demo_account() {
    let policy = Policy::default();
    for s in expansion_planner::demo::portfolio().unwrap() {
        let day = s.as_of.unwrap();
        let plan = draft_plan(s, &policy, day);
        let row = segment::assess(s, &policy, day);
        assert_eq!(row.outcome, plan.outcome, "{}", s.name);
        assert_eq!(row.utilisation_pct, plan.steps.health.utilisation_pct);
        assert_eq!(row.score, plan.steps.health.score);
        assert_eq!(row.status, plan.steps.health.status);
        let opp = plan.steps.opportunity.as_ref();
        assert_eq!(
            row.expansion_type,
            opp.and_then(|o| o.expansion_type),
            "{}",
            s.name
        );
        let at = |pct: f64| {
            opp.and_then(|o| o.scenarios.iter().find(|x| x.adoption_pct.as_f64() == pct))
                .and_then(|x| x.expansion_arr)
        };
        assert_eq!(row.expansion_arr_100, at(100.0), "{}", s.name);
        assert_eq!(row.expansion_arr_50, at(50.0), "{}", s.name);
        assert_eq!(
            row.right_size.map(|r| *r),
            plan.steps
                .health
                .unhealthy_path
                .as_ref()
                .and_then(|u| u.right_size.clone())
        );
    }
}

/// Every demo account and every data-driven case's snapshot, each on its own `as_of` and on
/// days that cut its usage history differently.
fn demo_and_case_days() -> Vec<(Snapshot, Day)> {
    let mut snapshots: Vec<Snapshot> = expansion_planner::demo::portfolio().unwrap().to_vec();
    for entry in std::fs::read_dir(crate::root().join("tests/data/accounts")).unwrap() {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        snapshots.push(Snapshot::from_json(case["snapshot"].clone()).unwrap());
    }
    let mut out = Vec::new();
    for s in snapshots {
        let own = s.as_of.unwrap_or(Day::parse("2026-11-15").unwrap());
        for day in [
            own,
            own.plus_days(-20),
            own.plus_days(-45),
            own.plus_days(10),
        ] {
            out.push((s.clone(), day));
        }
    }
    out
}

/// `segment::assess` (the gate without the unhealthy path's text, the utilisation computed
/// once) gives every field the full plan gives, for every data-driven case and demo
/// account, on its own `as_of` and on days that cut its usage history differently.
#[test]
fn segment_rows_agree_with_the_full_plan_field_by_field() {
    let policy = Policy::default();
    let cases = demo_and_case_days();
    let mut compared = 0;
    let mut blocked = 0;
    for (s, day) in &cases {
        let day = *day;
        let plan = draft_plan(s, &policy, day);
        let row = segment::assess(s, &policy, day);
        let at = format!("{} on {day}", s.name);
        assert_eq!(row.outcome, plan.outcome, "{at}");
        assert_eq!(row.status, plan.steps.health.status, "{at}");
        assert_eq!(
            row.utilisation_pct, plan.steps.health.utilisation_pct,
            "{at}"
        );
        assert_eq!(row.score, plan.steps.health.score, "{at}");
        assert_eq!(
            row.top_reason,
            segment::plan_record(s, &plan).top_reason.into(),
            "{at}"
        );
        let path = plan.steps.health.unhealthy_path.as_ref();
        assert_eq!(
            row.right_size.map(|r| *r),
            path.and_then(|u| u.right_size.clone()),
            "{at}"
        );
        if let Some(u) = path {
            blocked += 1;
            assert_eq!(row.reassess_on, Some(u.reassess_on), "{at}");
            let failing: Vec<_> = plan
                .steps
                .health
                .checks
                .iter()
                .filter(|c| c.passed == Some(false))
                .map(|c| c.check)
                .collect();
            assert_eq!(
                row.failing_checks.iter().collect::<Vec<_>>(),
                failing,
                "{at}"
            );
            let unknown: Vec<_> = plan
                .steps
                .health
                .checks
                .iter()
                .filter(|c| c.passed.is_none())
                .map(|c| c.check)
                .collect();
            assert_eq!(
                row.unknown_checks.iter().collect::<Vec<_>>(),
                unknown,
                "{at}"
            );
            assert_eq!(
                serde_json::to_value(row.unknown_checks).unwrap(),
                serde_json::to_value(&unknown).unwrap()
            );
        }
        let opp = plan.steps.opportunity.as_ref();
        assert_eq!(
            row.expansion_type,
            opp.and_then(|o| o.expansion_type),
            "{at}"
        );
        assert_eq!(row.confidence, opp.map(|o| o.confidence), "{at}");
        compared += 1;
    }
    assert!(
        compared >= 120 && blocked >= 20,
        "{compared} rows, {blocked} blocked"
    );
}

/// A segment row words one check (`Words::FirstOpen`): every verdict, figure and status of
/// the gate and of step 2 is the same as when every check is worded, the first check that
/// did not pass has the same words, and no other check has any. Over every data-driven
/// case and demo account, on the days the test above uses.
#[test]
fn wording_one_check_changes_no_verdict_and_no_reason() {
    use expansion_planner::engine::{health, opportunity, plan, signals, timing};
    use expansion_planner::model::results::Check;
    let policy = Policy::default();
    let cases = demo_and_case_days();
    let verdicts = |cs: &[Check]| cs.iter().map(|c| (c.check, c.passed)).collect::<Vec<_>>();
    // The worded check of a `FirstOpen` list, and that every other one is bare.
    let first_open = |lean: &[Check], full: &[Check], at: &str| -> bool {
        let open = full.iter().position(|c| c.passed != Some(true));
        for (i, (l, f)) in lean.iter().zip(full).enumerate() {
            if Some(i) == open {
                assert_eq!(
                    (&l.actual, &l.required, &l.detail),
                    (&f.actual, &f.required, &f.detail),
                    "{at}: check {i}"
                );
            } else {
                assert!(
                    l.actual.is_none() && l.required.is_empty() && l.detail.is_empty(),
                    "{at}: check {i} is worded: {l:?}"
                );
            }
        }
        open.is_some()
    };
    let (mut gates, mut readiness, mut priced, mut held) = (0, 0, 0, 0);
    for (s, day) in &cases {
        let day = *day;
        let at = format!("{} on {day}", s.name);
        let u = health::utilisation(s, &policy, day);
        let full = health::gate(s, &policy, day, &u, health::Words::All);
        let lean = health::gate(s, &policy, day, &u, health::Words::FirstOpen);
        assert_eq!(verdicts(&lean.checks), verdicts(&full.checks), "{at}");
        assert_eq!(
            (
                lean.status,
                lean.score_band,
                lean.score,
                lean.clear_to_expand
            ),
            (
                full.status,
                full.score_band,
                full.score,
                full.clear_to_expand
            ),
            "{at}"
        );
        assert_eq!(
            (lean.utilisation_pct, lean.sustained_utilisation_pct),
            (full.utilisation_pct, full.sustained_utilisation_pct),
            "{at}"
        );
        gates += usize::from(first_open(&lean.checks, &full.checks, &at));
        if !full.clear_to_expand {
            continue;
        }
        let sf = signals::find_signals_with(s, &policy, day, &full, &u, health::Words::All);
        let sl = signals::find_signals_with(s, &policy, day, &lean, &u, health::Words::FirstOpen);
        assert_eq!(verdicts(&sl.readiness), verdicts(&sf.readiness), "{at}");
        // The signals, their order and strengths; only why each is as strong is unworded.
        let mut full_signals = serde_json::to_value(&sf.signals).unwrap();
        for f in full_signals.as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("strength_reason");
        }
        let mut lean_signals = serde_json::to_value(&sl.signals).unwrap();
        for f in lean_signals.as_array_mut().unwrap() {
            let why = f.as_object_mut().unwrap().remove("strength_reason");
            assert!(
                why.as_ref().is_none_or(|w| w.as_str() == Some("")),
                "{at}: {why:?}"
            );
        }
        assert_eq!(lean_signals, full_signals, "{at}");
        assert_eq!(
            (sl.organic_count, sl.unverified_count, sl.ready),
            (sf.organic_count, sf.unverified_count, sf.ready),
            "{at}"
        );
        readiness += usize::from(first_open(&sl.readiness, &sf.readiness, &at));
        // The timing's decisions and dates, worded or not.
        let tm = timing::plan_timing(s, &policy, day);
        let tl = timing::plan_timing_with(s, &policy, day, health::Words::FirstOpen);
        let decided = |t: &expansion_planner::model::results::TimingResult| {
            let items = |v: &[expansion_planner::model::results::TimingItem]| {
                v.iter()
                    .map(|i| (i.kind.clone(), i.date))
                    .collect::<Vec<_>>()
            };
            (
                t.recommendation.clone(),
                t.date,
                t.window_end,
                t.trigger.clone(),
                items(&t.triggers),
                items(&t.blockers),
                t.defer_until.clone(),
                t.blocked_until,
            )
        };
        assert_eq!(decided(&tl), decided(&tm), "{at}");
        assert!(tl.reason.is_empty(), "{at}");
        held += usize::from(!tm.defer_until.is_empty());
        // The opportunity's figures, worded or not.
        let outcome = plan::classify(&sf, &tm);
        let of = opportunity::quantify(s, &policy, day, &sf, &tm, outcome);
        let ol = opportunity::quantify_with(
            s,
            &policy,
            day,
            &sl,
            &tm,
            outcome,
            health::Words::FirstOpen,
        );
        let figures = |o: &expansion_planner::model::results::OpportunityResult| {
            let scenarios: Vec<_> = o
                .scenarios
                .iter()
                .map(|x| (x.adoption_pct, x.expansion_arr))
                .collect();
            (
                o.expansion_type,
                scenarios,
                o.estimated_expansion_arr,
                o.confidence,
                o.nrr_after_pct,
                o.current_arr,
                o.currency.clone(),
            )
        };
        assert_eq!(figures(&ol), figures(&of), "{at}");
        priced += usize::from(of.estimated_expansion_arr.is_some());
    }
    // The corpus has gates and readiness lists that stop at a check, so both are exercised,
    // and opportunities with a price.
    assert!(
        gates >= 20 && readiness >= 10 && priced >= 20 && held >= 2,
        "{gates} gates, {readiness} readiness lists, {priced} priced opportunities, {held} held"
    );
}

/// The demo portfolio's segment plan, figure by figure. By hand, from src/demo/portfolio.json:
/// blocked: Bluefin (12/45 = 26.7%), Crestline (champion_left), Harbor & Pike (no health
/// score), Quillstone (sustained 40.0%); not ready: Larkspur (one organic signal),
/// Tessellate (no executive sponsor); on hold: Orchid (open support escalation), Pinecrest
/// (contentious renewal); the other four are ready. Status is health for expansion
/// purposes: Bluefin (26.7 %), Crestline (champion_left) and Quillstone (sustained 40 %) are
/// Unhealthy.
fn demo_segment_plan_figures_checked_by_hand(b: Backend) {
    let p = planner(b.demo());
    let all = call(&p, "plan_segment", json!({}));
    assert_eq!(all["total_accounts"], 12);
    assert_eq!(
        all["distribution"],
        json!({"blocked": 4, "not_ready": 2, "provisional": 0, "on_hold": 2, "ready": 4})
    );
    assert_eq!(
        all["status_distribution"],
        json!({"Healthy": 6, "Neutral": 2, "Unhealthy": 3, "unknown": 1})
    );
    // Ranked by the 100% scenario x confidence weight; all five priced ones are High.
    let ranked: Vec<(String, Value)> = all["ranked_ready"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["expected_arr"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            ("Meridian Freight".to_string(), json!(27000)),
            // 60 seats needed - 22 idle (180 licensed - 158 active) = 38 x 600
            ("Northwind".to_string(), json!(22800)),
            ("Solstice Energy".to_string(), json!(18000)),
            ("Vantage Robotics".to_string(), Value::Null), // no module price: ranked last
        ]
    );
    // Bluefin: 12 of 45 seats; 12 + 20% headroom = 14.4 -> 15 seats; 30 x 600 at stake.
    let rs = &all["right_size_candidates"];
    assert_eq!(rs.as_array().unwrap().len(), 1);
    assert_eq!(rs[0]["name"], "Bluefin Logistics");
    assert_eq!(rs[0]["unused_seats"], 33);
    assert_eq!(rs[0]["recommended_seats"], 15);
    assert_eq!(rs[0]["arr_at_stake"], 18000);
    // Sustained utilisation fails for Bluefin and Quillstone: 2 of 4 blocked accounts.
    let f = &all["most_common_failing_check"];
    assert_eq!(f["check"], "sustained_utilisation");
    assert_eq!(
        (f["failed"].as_u64(), f["unknown"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(f["share_pct"], 50.0);
    assert!(f["pattern"].as_str().unwrap().contains("onboarding"));
    let northwind = all["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Northwind")
        .unwrap();
    assert_eq!(northwind["utilisation_pct"], 87.8); // 158 / 180
    assert_eq!(northwind["expansion_arr_100"], 22800); // 38 x 600
    assert_eq!(northwind["expansion_arr_50"], 11400); // 19 x 600

    let mid = call(&p, "plan_segment", json!({"segment": "mid-market"}));
    assert_eq!(mid["total_accounts"], 5);
    assert_eq!(
        mid["distribution"],
        json!({"blocked": 2, "not_ready": 1, "provisional": 0, "on_hold": 1, "ready": 1})
    );
    assert_eq!(mid["segment"], json!({"segment": "mid-market"}));
    let book = call(&p, "plan_segment", json!({"csm": "Priya Raman"}));
    assert_eq!(book["total_accounts"], 3);
    let e = call_err(&p, "plan_segment", json!({"segment": "Mid Market"}));
    assert!(e.contains("Enterprise, Mid-Market, SMB"), "{e}");
    let md = all["markdown"].as_str().unwrap();
    for h in [
        "# Segment Plan: all accounts",
        "## Ready Accounts, Ranked",
        "## Right-Size Candidates",
        "## Reassessments Due",
        "## Systemic Pattern",
        "| Northwind | ready |",
    ] {
        assert!(md.contains(h), "{h}\n{md}");
    }
}

fn list_and_get_accounts_filter_and_name_closest_matches(b: Backend) {
    let p = planner(b.demo());
    let ready = call(
        &p,
        "list_accounts",
        json!({"outcome": "ready", "segment": "Enterprise"}),
    );
    let names: Vec<&str> = ready["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Meridian Freight", "Northwind", "Solstice Energy"]);
    let page = call(&p, "list_accounts", json!({"limit": 5, "offset": 10}));
    assert_eq!(
        (
            page["total"].as_u64(),
            page["accounts"].as_array().unwrap().len()
        ),
        (Some(12), 2)
    );
    let e = call_err(&p, "get_account", json!({"account": "Northwnd"}));
    assert!(e.contains("closest: Northwind"), "{e}");
    let e = call_err(&p, "draft_plan", json!({"account": "Nothing Like It"}));
    assert!(e.contains("closest"), "{e}");
    // Two accounts sharing a name: the error lists their ids.
    let store = b.demo();
    let mut twin = expansion_planner::demo::portfolio().unwrap()[0].clone();
    twin.id = Some("acc-901".into());
    let file = crate::cli::scratch(&format!("twin-{b:?}")).join("twin.json");
    std::fs::write(&file, serde_json::to_string(&twin).unwrap()).unwrap();
    let r = store.import(&file, None, false).unwrap();
    assert_eq!((r.created, r.updated), (1, 0), "{:#?}", r.errors);
    let p = planner(store);
    let e = call_err(&p, "check_health", json!({"account": "northwind"}));
    assert!(
        e.contains("ambiguous") && e.contains("acc-001, acc-901"),
        "{e}"
    );
    let ok = call(&p, "check_health", json!({"account": "acc-901"}));
    assert_eq!(ok["account"], "Northwind");
}

fn expansion_plan_prompt_with_a_segment_uses_plan_segment(b: Backend) {
    let p = planner(b.demo());
    let mut args = serde_json::Map::new();
    args.insert("customer".into(), json!("MID-MARKET"));
    let r = expansion_planner::mcp::prompts::get(&p, "expansion-plan", &args)
        .unwrap()
        .unwrap();
    let text: String = r
        .messages
        .iter()
        .filter_map(|m| match &m.content {
            rmcp::model::ContentBlock::Text(t) => Some(t.text.clone()),
            _ => None,
        })
        .collect();
    let plan = p
        .plan_segment(
            &AccountFilter {
                segment: Some("Mid-Market".into()),
                csm: None,
            },
            None,
        )
        .unwrap();
    assert!(text.contains("plan_segment"), "{text}");
    assert!(text.contains(&plan.markdown), "{text}");
    assert!(text.contains("# Segment Plan: segment Mid-Market"));
}

#[test]
fn a_file_store_scanned_in_parallel_plans_like_the_in_memory_one() {
    let path = crate::cli::scratch("parallel").join("p.db");
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let file = Sqlite::open(&path).unwrap();
    import(&file, "portfolio.jsonl", None);
    let (on_disk, in_memory) = (planner(file), planner(Sqlite::demo().unwrap()));
    for args in [
        json!({}),
        json!({"segment": "SMB"}),
        json!({"csm": "dana whitfield", "as_of": "2026-12-01"}),
    ] {
        let a = call(&on_disk, "plan_segment", args.clone());
        let b = call(&in_memory, "plan_segment", args.clone());
        assert_eq!(a, b, "{args}");
    }
    // Split into as many parts as there are accounts and more: still every account, once.
    let store = Sqlite::open(&path).unwrap();
    for parts in [2, 5, 12, 40] {
        let seen = std::sync::Mutex::new(Vec::new());
        store
            .scan_parallel(&AccountFilter::default(), parts, &|part, f| {
                assert!(part < parts);
                seen.lock().unwrap().push((f.key, f.snapshot.name));
                Ok(())
            })
            .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen.len(), 12, "{parts} parts");
        seen.dedup();
        assert_eq!(seen.len(), 12, "{parts} parts");
    }
}

/// `find` reuses accounts it read while the database is unchanged; any change, by this
/// connection or another (another process's import, say), is seen on the next lookup.
#[test]
fn accounts_read_again_are_never_stale() {
    let dir = crate::cli::scratch("read-cache");
    let path = dir.join("accounts.db");
    let _ = std::fs::remove_file(&path);
    let a = Sqlite::open(&path).unwrap();
    let demo = expansion_planner::demo::portfolio().unwrap();
    a.put(demo).unwrap();
    let seats = |s: &Sqlite| {
        s.find("Northwind", "account")
            .unwrap()
            .snapshot
            .contract
            .licensed_seats
    };
    let original = seats(&a);
    assert_eq!(seats(&a), original, "read twice");
    let with_seats = |n: u32| {
        let mut s: Snapshot = demo.iter().find(|s| s.name == "Northwind").unwrap().clone();
        s.contract.licensed_seats = Some(n);
        s
    };
    // Another connection to the same file commits.
    let b = Sqlite::open(&path).unwrap();
    b.put(&[with_seats(500)]).unwrap();
    assert_eq!(seats(&a), Some(500), "a commit by another connection");
    // This connection writes.
    a.put(&[with_seats(600)]).unwrap();
    assert_eq!(seats(&a), Some(600), "a write on this connection");
    assert_eq!(seats(&b), Some(600));
    // Saving a plan changes no account; the next read still sees the latest data.
    let p = planner(a);
    call(&p, "draft_plan", json!({"account": "Northwind"}));
    assert_eq!(seats(&b), Some(600));
    b.put(&[with_seats(700)]).unwrap();
    let after = call(&p, "check_health", json!({"account": "Northwind"}));
    assert_eq!(after["licensed_seats"], 700, "{after}");
}

proptest::proptest! {
    /// `segment::sort_by_name` (indices sorted, then the rows moved in place) puts rows in
    /// exactly the order the stable `sort_by` it replaced did, ties and all: the plan's
    /// `accounts[]` is unchanged.
    #[test]
    fn sorting_rows_by_name_in_place_matches_the_stable_sort(
        picks in proptest::collection::vec((0usize..12, 0usize..4, 0usize..3), 0..300),
    ) {
        let policy = Policy::default();
        let demo: Vec<_> = expansion_planner::demo::portfolio()
            .unwrap()
            .iter()
            .map(|s| segment::assess(s, &policy, s.as_of.unwrap()))
            .collect();
        // Few names and ids, so that many rows tie; top_reason records the input position.
        let names = ["Acme", "acme", "Bluefin", "Zed"];
        let ids = [None, Some("A-1".to_string()), Some("A-2".to_string())];
        let rows: Vec<_> = picks
            .iter()
            .enumerate()
            .map(|(i, &(d, n, k))| {
                let mut r = demo[d].clone();
                r.name = names[n].to_string();
                r.id = ids[k].clone();
                r.top_reason = i.to_string().into();
                r
            })
            .collect();
        let mut expected = rows.clone();
        expected.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let mut got = rows;
        segment::sort_by_name(&mut got);
        proptest::prop_assert_eq!(got, expected);
    }

    /// `segment::permute`, which `sort_by_name` and the parallel scan's key order use.
    #[test]
    fn permuting_in_place_moves_each_row_where_the_order_says(
        order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just((0..200usize).collect::<Vec<_>>())),
        n in 0usize..200,
    ) {
        // A permutation of 0..n: the shuffled indices below n, in their shuffled order.
        let order: Vec<usize> = order.into_iter().filter(|&i| i < n).collect();
        let rows: Vec<String> = (0..n).map(|i| format!("row {i}")).collect();
        let expected: Vec<String> = order.iter().map(|&i| rows[i].clone()).collect();
        let mut got = rows;
        segment::permute(&mut got, order);
        proptest::prop_assert_eq!(got, expected);
    }
}

/// The plan does not depend on the order the rows arrive in (parts of a parallel scan are
/// appended in part order, so this is what the store path relies on).
#[test]
fn segment_plan_is_the_same_whatever_order_the_rows_arrive_in() {
    let policy = Policy::default();
    let today = Day::parse("2026-11-29").unwrap();
    let rows: Vec<_> = expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .map(|s| segment::assess(s, &policy, s.as_of.unwrap()))
        .collect();
    let plan =
        |rows: Vec<_>| segment::summarise(&AccountFilter::default(), None, today, rows, vec![]);
    let expected = plan(rows.clone());
    let mut reversed = rows.clone();
    reversed.reverse();
    assert_eq!(plan(reversed), expected);
    let mut rotated = rows;
    rotated.rotate_left(5);
    assert_eq!(plan(rotated), expected);
}

/// Drafting the same plan again (same account, day and figures) does not write the same row
/// again; any other plan, or the history changed by someone else, is written.
#[test]
fn drafting_the_same_plan_twice_writes_it_once() {
    let dir = crate::cli::scratch("resave");
    let path = dir.join("accounts.db");
    let _ = std::fs::remove_file(&path);
    let store = Sqlite::open(&path).unwrap();
    store
        .put(expansion_planner::demo::portfolio().unwrap())
        .unwrap();
    let p = planner(store);
    // Another connection sees a commit by ours as a new data_version.
    let watcher = rusqlite::Connection::open(&path).unwrap();
    let version = || -> i64 {
        watcher
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .unwrap()
    };
    let plans = || -> i64 {
        watcher
            .query_row("SELECT count(*) FROM plans", [], |r| r.get(0))
            .unwrap()
    };
    let v0 = version();
    call(&p, "draft_plan", json!({"account": "Northwind"}));
    let v1 = version();
    assert_ne!(v1, v0, "the first draft is saved");
    assert_eq!(plans(), 1);
    call(&p, "draft_plan", json!({"account": "Northwind"}));
    call(&p, "draft_plan", json!({"account": "acc-001"}));
    assert_eq!(version(), v1, "the same plan again writes nothing");
    call(
        &p,
        "draft_plan",
        json!({"account": "Northwind", "as_of": "2026-11-20"}),
    );
    let v2 = version();
    assert_ne!(v2, v1, "another day is another plan");
    assert_eq!(plans(), 2);
    // Someone else empties the history: the next draft saves again.
    watcher.execute("DELETE FROM plans", []).unwrap();
    call(&p, "draft_plan", json!({"account": "Northwind"}));
    assert_eq!(plans(), 1, "saved again after the history changed under it");
}

/// The built binary, its data directory in a scratch folder.
fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    c.env("XDG_DATA_HOME", crate::cli::scratch("xdg-store"))
        .env_remove("EXPANSION_PLANNER_DB");
    c
}

/// Each outcome `scan` gives, by account id, straight from the snapshots.
fn direct_outcomes() -> BTreeMap<String, String> {
    direct_plans()
        .into_iter()
        .map(|(id, p)| (id, p["outcome"].as_str().unwrap().to_string()))
        .collect()
}

fn scan_outcomes(p: &Planner) -> BTreeMap<String, String> {
    let seg = call(p, "plan_segment", json!({}));
    seg["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn import_with(
    store: &dyn Store,
    file: &str,
    map: Option<&str>,
) -> expansion_planner::model::portfolio::ImportReport {
    let map = map.map(PathBuf::from);
    let r = store.import(&data(file), map.as_deref(), false).unwrap();
    assert!(r.ok() && r.written, "{file}: {:#?}", r.errors);
    r
}

/// Where two JSON values first differ, with both sides, for a readable failure.
fn first_difference(a: &Value, b: &Value, at: String) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if va != vb {
                    return first_difference(va, vb, format!("{at}.{k}"));
                }
            }
            at
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                if va != vb {
                    return first_difference(va, vb, format!("{at}[{i}]"));
                }
            }
            at
        }
        _ => format!("{at}: {a} vs {b}"),
    }
}

/// Each built-in account map with its vendor's sample export, then the offers by snapshot
/// path, the Mixpanel usage export and the other lists: every plan and every `scan`
/// outcome is that of the snapshots the exports were generated from.
fn vendor_exports_round_trip_through_their_built_in_maps(b: Backend) {
    for (vendor, notes) in [
        (
            "hubspot-companies",
            vec!["`Annual Revenue`", "`Description`"],
        ),
        (
            "salesforce-accounts",
            vec![
                "skipped the report footer (`Grand Totals (12 records)`",
                "`Billing Street`",
            ],
        ),
        (
            "gainsight-companies",
            vec![
                "line 1: skipped `Company Health Report` above the header",
                "`MRR`",
            ],
        ),
        ("totango-accounts", vec!["`Contract Start Date`"]),
    ] {
        let store = b.fresh();
        let r = import_with(&*store, &format!("vendors/{vendor}.csv"), Some(vendor));
        assert_eq!((r.rows, r.created), (12, 12), "{vendor}");
        for n in notes {
            assert!(
                r.notes.iter().any(|x| x.contains(n)),
                "{vendor}: no note with {n:?} in {:#?}",
                r.notes
            );
        }
        assert!(r.markdown().contains("**Notes**"), "{vendor}");
        import_with(&*store, "vendors/offers.csv", None);
        let u = import_with(
            &*store,
            "vendors/mixpanel-usage.csv",
            Some("mixpanel-usage"),
        );
        assert_eq!(u.updated, 12);
        for f in LONG.iter().skip(1) {
            import(&*store, f, None);
        }
        let p = planner(store);
        assert_eq!(scan_outcomes(&p), direct_outcomes(), "{vendor}");
        let direct = direct_plans();
        for (id, want) in &direct {
            let got = call(&p, "draft_plan", json!({"account": id}));
            assert!(
                &got == want,
                "{vendor}: plan for {id} differs at {}",
                first_difference(&got, want, String::new())
            );
        }
    }
}

/// The sample exports hold what their generator promised: a byte-order mark, CRLF, quoted
/// newlines, thousands separators, US and European dates and a report footer.
#[test]
fn vendor_samples_carry_the_quirks_of_real_exports() {
    let read = |f: &str| std::fs::read(data(&format!("vendors/{f}"))).unwrap();
    let hub = read("hubspot-companies.csv");
    assert!(hub.starts_with(b"\xEF\xBB\xBF") && hub.windows(2).any(|w| w == b"\r\n"));
    let sf = String::from_utf8(read("salesforce-accounts.csv")).unwrap();
    assert!(sf.contains("\"USD 108,000.00\"") && sf.contains("\"04/30/2027\""));
    assert!(sf.contains("Grand Totals") && sf.contains("Confidential Information"));
    assert!(sf.contains("Harbour Road\nSuite"));
    let gs = String::from_utf8(read("gainsight-companies.csv")).unwrap();
    assert!(gs.contains("\"108.000,00\"") && gs.contains("30.04.2027") && gs.contains("\r\n"));
}

/// Value maps, optional columns and the map-wide `optional`: one map serves two similar
/// exports, a goal status of `On Track` becomes `on_track`.
fn value_maps_and_optional_columns(b: Backend) {
    let store = b.fresh();
    import(&*store, "portfolio.jsonl", None);
    let dir = crate::cli::scratch("valuemaps");
    let map = dir.join("goals.map.toml");
    std::fs::write(
        &map,
        "kind = \"goals\"\n[columns]\n\"Account\" = \"account\"\n\"Goal\" = \"goal\"\n\"Goal Status\" = \"status\"\n\"Owner\" = { path = \"goal\", optional = true }\n[values.\"Goal Status\"]\n\"On Track\" = \"on_track\"\n\"At Risk\" = \"at_risk\"\n\"Done\" = \"achieved\"\n",
    )
    .unwrap();
    let f = dir.join("goals.csv");
    std::fs::write(
        &f,
        "Account,Goal,Goal Status\nacc-001,Cut dispatch time,On Track\nacc-001,Roll out to depots,at risk\nacc-002,Launch,Done\n",
    )
    .unwrap();
    let r = store.import(&f, Some(&map), false).unwrap();
    assert!(r.ok(), "{:#?}", r.errors);
    assert!(
        r.notes.iter().any(|n| n.contains("`Owner`")),
        "{:?}",
        r.notes
    );
    let p = planner(store);
    let a = call(&p, "get_account", json!({"account": "acc-001"}));
    assert_eq!(
        a["snapshot"]["health"]["goals"],
        json!([{"goal": "Cut dispatch time", "status": "on_track"}, {"goal": "Roll out to depots", "status": "at_risk"}])
    );
    // Without `optional`, the same missing column is an error naming it.
    let strict = dir.join("strict.map.toml");
    std::fs::write(
        &strict,
        "[columns]\n\"id\" = \"id\"\n\"Missing\" = \"health.score\"\n",
    )
    .unwrap();
    let g = dir.join("ids.csv");
    std::fs::write(&g, "id,name\nacc-001,Northwind\n").unwrap();
    let store = b.fresh();
    let r = store.import(&g, Some(&strict), false).unwrap();
    assert!(
        r.errors
            .iter()
            .any(|e| e.column == "Missing" && e.problem.contains("optional = true"))
    );
    std::fs::write(
        &strict,
        "optional = true\n[columns]\n\"id\" = \"id\"\n\"Missing\" = \"health.score\"\n",
    )
    .unwrap();
    let r = store.import(&g, Some(&strict), false).unwrap();
    assert!(r.ok(), "{:#?}", r.errors);
}

/// `import --suggest-map` on a raw HubSpot export writes a map that imports it: the
/// columns named like snapshot paths are mapped, `Annual Revenue` is not (with why), and the
/// unmapped ones are listed under `ignore` with a reason.
fn suggest_map_writes_a_map_that_imports_the_export(b: Backend) {
    let out = bin()
        .args(["import", "--suggest-map"])
        .arg(data("vendors/hubspot-companies.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"Record ID\" = \"id\""), "{text}");
    assert!(text.contains("\"ARR\" = \"contract.arr\""), "{text}");
    assert!(
        text.contains("\"Renewal Date\" = \"contract.renewal_date\""),
        "{text}"
    );
    assert!(text.contains("date_format = \"%Y-%m-%d\""), "{text}");
    assert!(
        text.contains("\"Annual Revenue\": the company's own revenue"),
        "{text}"
    );
    assert!(
        !text.contains("\"Annual Revenue\" = \"contract.arr\""),
        "{text}"
    );
    let dir = crate::cli::scratch("suggest");
    let map = dir.join("hubspot.toml");
    std::fs::write(&map, &text).unwrap();
    let store = b.fresh();
    let r = store
        .import(&data("vendors/hubspot-companies.csv"), Some(&map), true)
        .unwrap();
    assert!(r.ok(), "{text}\n{:#?}", r.errors);
    assert_eq!(r.created, 12);
    // A European export: separators and dates are detected from the values.
    let out = bin()
        .args(["import", "--suggest-map"])
        .arg(data("vendors/gainsight-companies.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("thousands_separator = \".\"") && text.contains("decimal_separator = \",\""),
        "{text}"
    );
    assert!(text.contains("date_format = \"%d.%m.%Y\""), "{text}");
}

/// The exit codes and files the README promises: a missing file exits 1 and creates no
/// database; a failed import removes the database it created; `columns` lists the paths.
#[test]
fn import_exit_codes_and_no_database_from_a_failed_import() {
    let dir = crate::cli::scratch("exitcodes");
    let db = dir.join("new.db");
    let _ = std::fs::remove_file(&db);
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg(dir.join("nope.csv"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
    assert!(!db.exists());
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg(data("bad/wrong_types.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.exists(), "a failed import left a database behind");
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg(data("csv/accounts.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(db.exists());
    // An existing database stays when a later import fails.
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg(data("bad/wrong_types.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(db.exists());
    // A bad mapping file is invalid input, named.
    let map = dir.join("bad.toml");
    std::fs::write(&map, "colums = 1\n").unwrap();
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg("--map")
        .arg(&map)
        .arg(data("csv/accounts.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colums"));
    let out = bin().args(["columns"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for (path, _) in expansion_planner::store::mapping::ACCOUNT_PATHS {
        assert!(text.contains(&format!("| `{path}` |")), "{path} missing");
    }
    assert!(
        text.contains("| `contract.arr` | money | Current annual recurring revenue"),
        "{text}"
    );
    assert!(text.contains("## Long format `goals`"));
}

/// The import tool takes a built-in map by name, and its report carries the notes; a file
/// with a bad cell is refused naming the file, line, column and value.
fn import_tool_takes_built_in_maps_by_name(b: Backend) {
    let p = planner(b.fresh()).with_import_dirs(vec![data("vendors").canonicalize().unwrap()]);
    let r = call(
        &p,
        "import_accounts",
        json!({"file": "salesforce-accounts.csv", "map": "salesforce-accounts", "dry_run": true}),
    );
    assert_eq!(r["created"], 12, "{r}");
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("report footer")),
        "{r}"
    );
    let e = call_err(
        &p,
        "import_accounts",
        json!({"file": "salesforce-accounts.csv", "map": "no-such-map"}),
    );
    assert!(e.contains("map"), "{e}");
    // The report names the file and, per problem, the line, column and value.
    let store = b.fresh();
    let r = store
        .import(
            &data("bad/separator_mismatch.csv"),
            Some(&data("bad/separator_mismatch.map.toml")),
            false,
        )
        .unwrap();
    let md = r.markdown();
    assert!(md.contains("separator_mismatch.csv"), "{md}");
    // The value is quoted as code, its backticks escaped like any interpolated text.
    assert!(
        md.contains("| 2 | ARR | \\`€12.000\\` has 3 digits"),
        "{md}"
    );
}

/// JSON that is not JSON: the line, the column and the path when known; empty input says so.
#[test]
fn json_errors_give_line_column_and_path() {
    use expansion_planner::model::input::from_str;
    let e = from_str::<Snapshot>("").unwrap_err().to_string();
    assert_eq!(
        e,
        "input is empty: expected a JSON snapshot object (or an array of them)"
    );
    let e = from_str::<Snapshot>("{\n  \"name\": \"x\",\n  \"contract\": {\"arr\": 5,}\n}")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "contract is not valid JSON at line 3, column 25: trailing comma"
    );
    let e = from_str::<Snapshot>("{\"name\": \"x\",}")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "input is not valid JSON at line 1, column 14: trailing comma"
    );
    let out = bin()
        .args(["plan", "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("input is empty"));
}

/// Runs the built binary's `import` on `file` and returns (exit code, stdout bytes, peak
/// RSS in KiB: the largest `VmHWM` read from /proc/<pid>/status while it ran). VmHWM only
/// grows, so the last reading before the process exits is its peak so far; readings every
/// millisecond catch a growth to hundreds of MiB, which takes far longer than that.
#[cfg(target_os = "linux")]
fn import_peak_kib(file: &Path, cap: Option<u64>) -> (Option<i32>, usize, u64) {
    use std::io::Read;
    let dir = crate::cli::scratch("memory");
    let db = dir.join("mem.db");
    let mut cmd = bin();
    cmd.args(["import", "--format", "json", "--db"])
        .arg(&db)
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if let Some(c) = cap {
        cmd.env("EXPANSION_PLANNER_IMPORT_MAX_BYTES", c.to_string());
    }
    let mut child = cmd.spawn().unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let mut peak = 0_u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            let stdout = reader.join().unwrap();
            return (status.code(), stdout.len(), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Peak memory of an import stays under 256 MiB whatever the file: a 1 GiB sparse file (as
/// CSV, JSON and JSONL, with the size cap raised so that it is read), a file of NULs and a
/// single 100 MB cell; each is refused with a short report. Under the default cap the
/// 1 GiB file is refused before it is read.
#[cfg(target_os = "linux")]
#[test]
fn import_memory_is_bounded_for_any_file() {
    let dir = crate::cli::scratch("memory-files");
    const MIB: u64 = 1 << 20;
    let mut files = Vec::new();
    for ext in ["csv", "json", "jsonl"] {
        let f = dir.join(format!("sparse.{ext}"));
        std::fs::File::create(&f).unwrap().set_len(1 << 30).unwrap();
        files.push(f);
    }
    let nul = dir.join("nul.csv");
    std::fs::write(&nul, vec![0_u8; 32 * MIB as usize]).unwrap();
    files.push(nul);
    let cell = dir.join("cell.csv");
    let mut text = b"id,name\nX-1,".to_vec();
    text.resize(text.len() + 100_000_000, b'a');
    text.push(b'\n');
    std::fs::write(&cell, text).unwrap();
    files.push(cell);
    let json_cell = dir.join("cell.jsonl");
    let mut text = b"{\"name\": \"".to_vec();
    text.resize(text.len() + 100_000_000, b'a');
    text.extend_from_slice(b"\"}\n");
    std::fs::write(&json_cell, text).unwrap();
    files.push(json_cell);
    for f in &files {
        let (code, out, peak) = import_peak_kib(f, Some(2 << 30));
        let name = f.file_name().unwrap().to_string_lossy();
        assert_eq!(code, Some(2), "{name}: exit code");
        assert!(out < 64 * 1024, "{name}: a {out}-byte report");
        eprintln!("{name}: exit {code:?}, {out}-byte report, peak RSS {peak} KiB");
        assert!(peak > 0, "{name}: no VmHWM read");
        assert!(peak < 256 * 1024, "{name}: peak RSS {peak} KiB");
    }
    let (code, _, peak) = import_peak_kib(&files[0], None);
    assert_eq!(code, Some(2));
    assert!(
        peak < 64 * 1024,
        "the default cap read the file: {peak} KiB"
    );
    let store = Sqlite::in_memory().unwrap();
    let r = store.import(&files[0], None, false).unwrap();
    assert!(
        r.errors[0].problem.contains("over the import size cap"),
        "{:?}",
        r.errors
    );
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
}

/// `import_accounts` through the built binary over stdio while another thread swaps the
/// file for a symlink to a file outside the import directory, 3,000 times: the tool opens the
/// file once beneath the directory refusing symlinks, so it reads the file inside or refuses
/// the link; it never reads the file outside.
#[cfg(unix)]
#[test]
fn import_tool_cannot_be_raced_out_of_its_directory() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let root = crate::cli::scratch("race");
    let allowed = root.join("allowed");
    std::fs::create_dir_all(&allowed).unwrap();
    let inside = "{\"name\": \"Inside Co\"}\n";
    let secret = root.join("secret.jsonl");
    std::fs::write(
        &secret,
        "{\"name\": \"Secret One\"}\n{\"name\": \"Secret Two\"}\n{\"name\": \"Secret Three\"}\n",
    )
    .unwrap();
    let race = allowed.join("race.jsonl");
    std::fs::write(&race, inside).unwrap();
    let db = root.join("race.db");
    let _ = std::fs::remove_file(&db);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    cmd.args(["serve", "--db"])
        .arg(&db)
        .arg("--import-dir")
        .arg(&allowed);
    let mut server = crate::wire::Server::start_command(cmd);
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps, allowed, race, secret) = (
            stop.clone(),
            swaps.clone(),
            allowed.clone(),
            race.clone(),
            secret.clone(),
        );
        std::thread::spawn(move || {
            let (link, file) = (allowed.join(".link.tmp"), allowed.join(".file.tmp"));
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&secret, &link).unwrap();
                std::fs::rename(&link, &race).unwrap();
                std::fs::write(&file, "{\"name\": \"Inside Co\"}\n").unwrap();
                std::fs::rename(&file, &race).unwrap();
                swaps.fetch_add(2, Ordering::Relaxed);
            }
        })
    };
    let (mut inside_reads, mut refused) = (0, 0);
    // At least 3,000 calls, and on until the swapper has made 3,000 swaps.
    let started = std::time::Instant::now();
    let mut id = 0_u64;
    while id < 3000 || swaps.load(Ordering::Relaxed) < 3000 {
        id += 1;
        assert!(
            started.elapsed().as_secs() < 120,
            "the race ran out of time"
        );
        server.send_json(&crate::wire::tool_call(
            id,
            "import_accounts",
            &json!({"file": "race.jsonl", "dry_run": true}),
        ));
        let answer = server.answer_to(&json!(id), crate::wire::DEADLINE);
        let text = crate::wire::result_text(&answer);
        assert!(
            !text.contains("Secret"),
            "call {id} read outside the folder: {text}"
        );
        let created = answer["result"]["structuredContent"]["created"].as_u64();
        assert_ne!(
            created,
            Some(3),
            "call {id} imported the file outside: {answer}"
        );
        if created == Some(1) {
            inside_reads += 1;
        } else {
            assert!(text.contains("outside"), "call {id}: {text}");
            refused += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    // Both sides of the race were hit: the test raced.
    assert!(
        inside_reads > 0 && refused > 0,
        "{inside_reads} reads, {refused} refusals"
    );
}

/// A usage export is recognised as such by `--suggest-map` (an account column that repeats,
/// a date, a count of users), and a built-in map is taken by name on the command line.
fn suggest_map_recognises_a_usage_export_and_the_cli_takes_built_in_maps(b: Backend) {
    let out = bin()
        .args(["import", "--suggest-map"])
        .arg(data("vendors/mixpanel-usage.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("kind = \"history\""), "{text}");
    assert!(text.contains("\"company_id\" = \"account\""), "{text}");
    assert!(
        text.contains("\"Unique Users\" = \"active_users\""),
        "{text}"
    );
    let dir = crate::cli::scratch("suggest-usage");
    let map = dir.join("usage.toml");
    std::fs::write(&map, &text).unwrap();
    let store = b.fresh();
    import(&*store, "portfolio.jsonl", None);
    let r = store
        .import(&data("vendors/mixpanel-usage.csv"), Some(&map), true)
        .unwrap();
    assert!(r.ok() && r.updated == 12, "{text}\n{:#?}", r.errors);
    let db = dir.join("cli.db");
    let _ = std::fs::remove_file(&db);
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg(data("vendors/totango-accounts.csv"))
        .args(["--map", "totango-accounts", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["created"], 12, "{v}");
    let out = bin()
        .args(["import", "--db"])
        .arg(&db)
        .arg(data("vendors/totango-accounts.csv"))
        .args(["--map", "no-such-map"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-map"));
}

/// The snapshots of a JSON-lines file, by id, each history in date order (as a store reads
/// it back).
fn snapshots_by_id(file: &Path) -> BTreeMap<String, Snapshot> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut s = Snapshot::from_json(serde_json::from_str(l).unwrap()).unwrap();
            s.usage.history.sort_by_key(|h| h.date);
            (s.id.clone().unwrap(), s)
        })
        .collect()
}

/// The store's scan (what `plan_segment` reads: the usage history from its packed column,
/// `store::readings`) hands back exactly `want`, and the segment rows `plan_segment` builds
/// from it are the engine's own from the whole snapshots, on each account's own `as_of` and
/// on days that cut the usage history's window differently.
fn assert_scan_is(store: &Arc<dyn Store>, want: &BTreeMap<String, Snapshot>, at: &str) {
    let mut got = BTreeMap::new();
    store
        .scan(&AccountFilter::default(), &mut |f| {
            got.insert(f.snapshot.id.clone().unwrap(), f.snapshot);
            Ok(())
        })
        .unwrap();
    assert_eq!(got.len(), want.len(), "{at}");
    for (id, s) in want {
        assert_eq!(got.get(id), Some(s), "{at}: {id} reads back otherwise");
        let found = store.find(id, "account").unwrap();
        assert_eq!(&found.snapshot, s, "{at}: find({id})");
    }
    let p = planner(Accounts::ready(store.clone()));
    let policy = Policy::default();
    // The store's own order: a one-thread scan reads by key.
    let mut by_key = Vec::new();
    store
        .scan(&AccountFilter::default(), &mut |f| {
            by_key.push(f.snapshot.id);
            Ok(())
        })
        .unwrap();
    for as_of in [
        None,
        Some("2026-11-15"),
        Some("2026-10-20"),
        Some("2026-09-01"),
    ] {
        let day = as_of.map(|d| Day::parse(d).unwrap());
        let rows = p.segment_rows(&AccountFilter::default(), day).unwrap();
        assert_eq!(rows.len(), want.len(), "{at}");
        // However the parts' threads ran, the rows come back in key order.
        let ids: Vec<_> = rows.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, by_key, "{at}: rows in key order");
        for row in rows {
            let s = &want[row.id.as_ref().unwrap()];
            let direct = segment::assess(s, &policy, day.or(s.as_of).unwrap());
            assert_eq!(
                serde_json::to_value(&row).unwrap(),
                serde_json::to_value(&direct).unwrap(),
                "{at}, as_of {as_of:?}: the row of {} differs from the engine's",
                s.name
            );
        }
        let plan = p.plan_segment(&AccountFilter::default(), day).unwrap();
        let direct = segment::summarise(
            &AccountFilter::default(),
            day,
            day.unwrap_or_else(p.today),
            want.values()
                .map(|s| segment::assess(s, &policy, day.or(s.as_of).unwrap()))
                .collect(),
            p.accounts
                .due(&AccountFilter::default(), day.unwrap_or_else(p.today))
                .unwrap(),
        );
        assert_eq!(
            serde_json::to_value(&plan).unwrap(),
            serde_json::to_value(&direct).unwrap(),
            "{at}, as_of {as_of:?}: the segment plan differs"
        );
    }
}

fn segment_scan_reads_what_was_imported_after_reimports(b: Backend) {
    let store: Arc<dyn Store> = b.fresh().into();
    let file = data("portfolio.jsonl");
    import(&*store, "portfolio.jsonl", None);
    let mut want = snapshots_by_id(&file);
    assert!(want.values().filter(|s| s.usage.history.len() > 5).count() >= 8);
    assert_scan_is(&store, &want, "first import");

    // A re-import that changes readings: every account loses its oldest reading, every
    // other one gains 7 active users, and one account gets a new, latest reading.
    let dir = crate::cli::scratch("packed-readings");
    let changed = dir.join("changed.jsonl");
    let mut lines = String::new();
    for s in want.values_mut() {
        if !s.usage.history.is_empty() {
            s.usage.history.remove(0);
        }
        for (i, h) in s.usage.history.iter_mut().enumerate() {
            if i % 2 == 0 {
                h.active_users += 7;
            }
        }
        if s.id.as_deref() == Some("acc-001") {
            s.usage
                .history
                .push(expansion_planner::model::snapshot::UsagePoint {
                    date: Day::parse("2026-11-14").unwrap(),
                    active_users: 3,
                });
            s.usage.history.sort_by_key(|h| h.date);
        }
        lines.push_str(&serde_json::to_string(s).unwrap());
        lines.push('\n');
    }
    std::fs::write(&changed, lines).unwrap();
    let r = store.import(&changed, None, false).unwrap();
    assert!(r.ok() && r.updated == 12, "{:#?}", r.errors);
    assert_scan_is(&store, &want, "re-import with changed readings");

    // Readings merged one by one (the long history format): one replaced, one added.
    let merge = dir.join("history.csv");
    std::fs::write(
        &merge,
        "account,date,active_users\nacc-001,2026-11-14,170\nacc-002,2026-11-13,1\n",
    )
    .unwrap();
    let r = store.import(&merge, None, false).unwrap();
    assert!(r.ok() && r.written, "{:#?}", r.errors);
    let s1 = want.get_mut("acc-001").unwrap();
    let at = s1.usage.history.len() - 2;
    assert_eq!(s1.usage.history[at].date, Day::parse("2026-11-14").unwrap());
    s1.usage.history[at].active_users = 170;
    let s2 = want.get_mut("acc-002").unwrap();
    s2.usage
        .history
        .push(expansion_planner::model::snapshot::UsagePoint {
            date: Day::parse("2026-11-13").unwrap(),
            active_users: 1,
        });
    s2.usage.history.sort_by_key(|h| h.date);
    assert_scan_is(&store, &want, "readings merged from the long format");
}

/// A database written before the packed readings existed (SQLite schema 2, PostgreSQL
/// schema 1, which held each account as one JSON `snapshot`) gets them from its own
/// readings when it is opened; on PostgreSQL the `snapshot` column is then gone (V3), and
/// the snapshots are in `account_data` (V4).
fn packed_readings_are_backfilled_by_the_migration(b: Backend) {
    let want = snapshots_by_id(&data("portfolio.jsonl"));
    let store: Arc<dyn Store> = match b {
        Backend::Sqlite => {
            let path = crate::cli::scratch("backfill").join("old.db");
            let _ = std::fs::remove_file(&path);
            {
                let s = Sqlite::open(&path).unwrap();
                import(&s, "portfolio.jsonl", None);
            }
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "ALTER TABLE accounts DROP COLUMN readings; PRAGMA user_version = 2;",
            )
            .unwrap();
            drop(conn);
            Arc::new(Sqlite::open(&path).unwrap())
        }
        Backend::Postgres => {
            let url = crate::pg::fresh_url();
            {
                let s = expansion_planner::store::Postgres::open(&url).unwrap();
                import(&s, "portfolio.jsonl", None);
            }
            // Back to schema 1: each account's whole snapshot as JSON, nothing else.
            let mut c = crate::pg::client(&url);
            c.batch_execute("ALTER TABLE accounts ADD COLUMN snapshot text")
                .unwrap();
            for row in c.query("SELECT key, id FROM accounts", &[]).unwrap() {
                let (key, id): (i64, String) = (row.get(0), row.get(1));
                let text = serde_json::to_string(&want[&id]).unwrap();
                c.execute(
                    "UPDATE accounts SET snapshot = $2 WHERE key = $1",
                    &[&key, &text],
                )
                .unwrap();
            }
            c.batch_execute(
                "ALTER TABLE accounts ALTER COLUMN snapshot SET NOT NULL, DROP COLUMN seg_fp, DROP COLUMN seg_day, DROP COLUMN seg_row; DROP TABLE account_data; DELETE FROM expansion_planner_schema WHERE version >= 2",
            )
            .unwrap();
            let store = expansion_planner::store::Postgres::open(&url).unwrap();
            let mut columns = |table: &str| -> Vec<String> {
                c.query(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
                    &[&table],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
            };
            // V2 and V3 packed the readings beside the lean snapshot; V4 moved both to a
            // table of their own and gave each account room for its kept segment row.
            assert_eq!(
                columns("accounts"),
                [
                    "key",
                    "id",
                    "name",
                    "name_norm",
                    "segment",
                    "csm",
                    "seg_fp",
                    "seg_day",
                    "seg_row"
                ]
            );
            assert_eq!(columns("account_data"), ["key", "lean", "readings"]);
            Arc::new(store)
        }
    };
    assert_scan_is(&store, &want, "after the migration");
}
