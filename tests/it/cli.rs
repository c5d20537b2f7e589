//! The built binary as a user runs it: plans for the demo data, JSON output, exit codes.

use std::process::Command;

/// The binary with its data directory in a scratch folder, so that no test touches the
/// user's real default database.
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    c.env("XDG_DATA_HOME", scratch("xdg"))
        .env_remove("EXPANSION_PLANNER_DB");
    c
}

/// A scratch directory for this test process.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir()
        .join(format!("ep-it-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn plan_demo_prints_every_demo_plan() {
    let out = bin().args(["plan", "--demo"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let n = expansion_planner::demo::portfolio().unwrap().len();
    assert_eq!(text.matches("# Expansion Plan: ").count(), n);
    assert!(text.contains("## Unhealthy-Path Response"));
    assert!(text.contains("## Execution Plan"));
}

#[test]
fn plan_account_as_json_is_the_tool_result() {
    let out = bin()
        .args([
            "plan",
            "--demo",
            "--account",
            "Northwind",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account"], "Northwind");
    assert_eq!(v["outcome"], "ready");
}

#[test]
fn bad_file_exits_2_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("ep-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.json");
    std::fs::write(&f, r#"{"name":"X","contract":{"licensed_seats":0}}"#).unwrap();
    let out = bin().arg("plan").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("contract.licensed_seats must be greater than 0"),
        "{err}"
    );
    // serde_json keeps the last of two repeated keys: the file would be planned for
    // 1000 seats nobody sees. It is refused, naming where.
    let dup = dir.join("dup.json");
    std::fs::write(
        &dup,
        r#"{"name":"X","contract":{"licensed_seats":10,"licensed_seats":1000}}"#,
    )
    .unwrap();
    let out = bin().arg("plan").arg(&dup).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("contract key `licensed_seats` appears twice"),
        "{err}"
    );
    let out = bin()
        .args([
            "plan",
            "--demo",
            "--account",
            "Northwind",
            "--as-of",
            "2027-02-30",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("as_of"));
    let out = bin()
        .args(["plan", "--demo", "--account", "Nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("closest"));
}

#[test]
fn as_of_changes_the_dates_not_the_determinism() {
    let run = |d: &str| {
        bin()
            .args(["plan", "--demo", "--account", "Northwind", "--as-of", d])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run("2026-11-20"), run("2026-11-20"));
    assert_ne!(run("2026-11-20"), run("2026-11-21"));
}

#[test]
fn serve_over_stdio_answers_and_exits_on_eof() {
    use std::io::Write;
    let mut child = bin()
        .args(["serve", "--demo"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#).unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"check_health","arguments":{{"account":"Northwind"}}}}}}"#).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "only JSON-RPC on stdout");
    assert_eq!(
        lines[1]["result"]["structuredContent"]["clear_to_expand"],
        true
    );
}

#[test]
fn import_scan_and_plan_use_the_default_database() {
    let xdg = scratch("xdg-default");
    let db = xdg.join("expansion-planner/accounts.db");
    let _ = std::fs::remove_dir_all(xdg.join("expansion-planner"));
    let run = |args: &[&str]| {
        bin()
            .env("XDG_DATA_HOME", &xdg)
            .current_dir(crate::root())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["import", "tests/data/import/portfolio.jsonl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created 12"));
    assert!(
        db.exists(),
        "the default database is under the data directory"
    );

    let out = run(&["scan", "--segment", "enterprise"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# Segment Plan: segment enterprise"), "{md}");
    assert!(md.contains("| Northwind | ready |"), "{md}");

    let out = run(&["scan", "--csm", "Priya Raman", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total_accounts"], 3);
    assert_eq!(v["segment"]["csm"], "Priya Raman");

    let out = run(&["plan", "--account", "acc-002", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "blocked");
    // That plan was saved: 90 days later (moved off the weekend) its reassessment is due.
    let out = run(&["scan", "--as-of", "2027-02-15", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reassessments_due"][0]["name"], "Bluefin Logistics");

    // --db (and EXPANSION_PLANNER_DB) point elsewhere: that store is empty.
    let other = scratch("xdg-other").join("other.db");
    let _ = std::fs::remove_file(&other);
    let out = bin()
        .env("EXPANSION_PLANNER_DB", &other)
        .args(["plan", "--account", "Northwind"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the account store is empty; import your accounts")
    );
    assert!(other.exists());
}

#[test]
fn a_bad_import_exits_2_with_every_bad_row_and_writes_nothing() {
    let db = scratch("bad-import").join("bad.db");
    let _ = std::fs::remove_file(&db);
    let out = bin()
        .current_dir(crate::root())
        .arg("import")
        .arg("--db")
        .arg(&db)
        .arg("tests/data/import/bad/wrong_types.csv")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = String::from_utf8_lossy(&out.stdout);
    for row in [
        "| 3 | contract.arr |",
        "| 4 | contract.licensed_seats |",
        "| 5 | health.score |",
    ] {
        assert!(report.contains(row), "{row}\n{report}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
    let out = bin()
        .args(["scan", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total_accounts"], 0);
}

#[test]
fn unknown_segment_and_foreign_database_are_clear_errors() {
    let out = bin()
        .args(["scan", "--demo", "--segment", "Mid Market"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("segments: Enterprise, Mid-Market, SMB"),
        "{err}"
    );

    let notes = scratch("foreign").join("notes.txt");
    std::fs::write(&notes, "not a database, and it must survive\n".repeat(20)).unwrap();
    let before = std::fs::read(&notes).unwrap();
    let out = bin().args(["scan", "--db"]).arg(&notes).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not an expansion-planner database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&notes).unwrap(), before);
}

#[test]
fn serve_imports_from_its_import_dir_and_plans_from_the_database() {
    use std::io::Write;
    let db = scratch("serve-db").join("served.db");
    let _ = std::fs::remove_file(&db);
    let mut child = bin()
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .arg("--import-dir")
        .arg(crate::root().join("tests/data/import"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // Requests on one connection run concurrently: wait for each answer before the next.
    let mut ask = |id: u64, line: String| -> serde_json::Value {
        use std::io::BufRead;
        writeln!(stdin, "{line}").unwrap();
        if id == 0 {
            // A notification: no answer comes.
            return serde_json::Value::Null;
        }
        loop {
            let mut l = String::new();
            assert!(stdout.read_line(&mut l).unwrap() > 0, "server closed");
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            if v["id"].as_u64() == Some(id) {
                return v["result"].clone();
            }
        }
    };
    let call = |id: u32, tool: &str, args: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{args}}}}}"#
        )
    };
    ask(1, r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#.to_string());
    ask(
        0,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_string(),
    );
    let mut by_id = std::collections::BTreeMap::new();
    for (id, tool, args) in [
        (
            2,
            "import_accounts",
            r#"{"file":"../accounts/exactly_60pct_passes.json"}"#,
        ),
        (3, "import_accounts", r#"{"file":"portfolio.jsonl"}"#),
        (4, "draft_plan", r#"{"account":"northwind"}"#),
        (5, "plan_segment", r#"{"segment":"SMB"}"#),
    ] {
        by_id.insert(u64::from(id), ask(u64::from(id), call(id, tool, args)));
    }
    // Closing stdin ends the session (`ask` only borrowed it and is not used again).
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(by_id[&2]["isError"], true);
    assert!(
        by_id[&2]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("outside the allowed import directories")
    );
    assert_eq!(by_id[&3]["structuredContent"]["created"], 12);
    assert_eq!(by_id[&4]["structuredContent"]["outcome"], "ready");
    assert_eq!(
        by_id[&5]["structuredContent"]["total_accounts"], 3,
        "{}",
        by_id[&5]
    );
    // The accounts and the saved plan are in the file.
    let c = rusqlite::Connection::open(&db).unwrap();
    let plans: i64 = c
        .query_row("SELECT count(*) FROM plans", [], |r| r.get(0))
        .unwrap();
    assert_eq!(plans, 1);
}

#[test]
fn a_closed_stdout_pipe_ends_output_quietly() {
    let mut child = bin()
        .args(["plan", "--demo"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}
