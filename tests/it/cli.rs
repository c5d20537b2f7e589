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
