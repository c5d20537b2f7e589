//! Faults on the stdio channel, against the built binary: the client goes away in the middle
//! of a call or of a line, stops reading, or sends many calls at once on one connection.
//! The server must exit cleanly (code 0) when stdin ends, never spin, and never mix up
//! answers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use expansion_planner::engine::{Policy, draft_plan};
use serde_json::{Value, json};

use crate::wire::{DEADLINE, Server, assert_still_answers, oversold, tool_call};

/// How long the server may take to exit once stdin is closed.
const EXIT_DEADLINE: Duration = Duration::from_secs(10);

fn demo() -> &'static [expansion_planner::model::Snapshot] {
    expansion_planner::demo::portfolio().unwrap()
}

#[test]
fn eof_in_the_middle_of_calls_exits_cleanly_and_answers_whole_lines() {
    let mut server = Server::start();
    for (i, s) in demo().iter().enumerate() {
        server.send_json(&tool_call(
            i as u64 + 1,
            "draft_plan",
            &json!({"account": s.name}),
        ));
    }
    server.close_stdin();
    let started = Instant::now();
    let status = server
        .wait_exit(EXIT_DEADLINE)
        .expect("the server did not exit after EOF");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    eprintln!(
        "exited {:?} after EOF with calls in flight",
        started.elapsed()
    );
    // Whatever was answered is whole lines of JSON (`next` panics on anything else).
    let mut answered = 0;
    while let Some(a) = server.next(Duration::from_millis(200)) {
        assert!(
            a["result"]["structuredContent"]["outcome"].is_string(),
            "{a}"
        );
        answered += 1;
    }
    eprintln!(
        "{answered} of {} calls in flight were answered before exit",
        demo().len()
    );
}

#[test]
fn half_a_line_then_eof_exits_cleanly() {
    let mut server = Server::start();
    server
        .write(br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"check_hea"#)
        .unwrap();
    // Let the server read the partial line before the end comes.
    std::thread::sleep(Duration::from_millis(100));
    server.close_stdin();
    let status = server
        .wait_exit(EXIT_DEADLINE)
        .expect("the server did not exit after EOF");
    assert_eq!(status.code(), Some(0));
    assert!(
        server.next(Duration::from_millis(200)).is_none(),
        "a partial line was answered"
    );
    assert!(
        server
            .stderr()
            .contains("stdin closed in the middle of a message"),
        "{}",
        server.stderr()
    );
}

#[test]
fn eof_in_the_middle_of_an_oversized_line_exits_cleanly() {
    let mut server = Server::start();
    server
        .write(br#"{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":""#)
        .unwrap();
    let chunk = vec![b'a'; 1024 * 1024];
    for _ in 0..20 {
        server.write(&chunk).unwrap();
    }
    // The 16 MiB limit was crossed: the answer comes before the line ends.
    let a = server.answer_to(&json!(9), DEADLINE);
    assert_eq!(a["error"]["code"], json!(-32600), "{a}");
    server.close_stdin();
    let status = server
        .wait_exit(EXIT_DEADLINE)
        .expect("the server did not exit after EOF");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_bad_line_then_eof_still_gets_its_answer() {
    let mut server = Server::start();
    server.send_line(br#"{"jsonrpc":"2.0","id":3,"method":"ping","params":{"n":1e999}}"#);
    server.close_stdin();
    let a = server.answer_to(&json!(3), DEADLINE);
    assert_eq!(a["error"]["code"], json!(-32700), "{a}");
    let status = server
        .wait_exit(EXIT_DEADLINE)
        .expect("the server did not exit after EOF");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn eof_before_the_handshake_exits_cleanly() {
    let mut server = Server::spawn();
    server.close_stdin();
    let status = server
        .wait_exit(EXIT_DEADLINE)
        .expect("the server did not exit after EOF");
    // Nothing was asked, nothing failed.
    assert!(status.code().is_some(), "{status:?}");
}

/// The CPU ticks (1/100 s) the server uses in one second once it has settled: calls still
/// being computed are work, not spinning, so this waits (up to 20 s) for a quiet second.
/// A spinning server never has one and shows ~100.
fn settled_ticks_per_second(server: &Server) -> u64 {
    let mut last = u64::MAX;
    for _ in 0..20 {
        let before = server.cpu_ticks();
        std::thread::sleep(Duration::from_secs(1));
        last = server.cpu_ticks() - before;
        if last <= 2 {
            break;
        }
    }
    last
}

#[test]
fn a_client_that_stops_reading_or_goes_away_does_not_make_the_server_spin() {
    let mut server = Server::spawn_unread();
    server.send_initialize();
    server.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    // About 2 MB of answers: far more than a pipe holds, so the server blocks on stdout.
    for i in 0..200 {
        server.send_json(&tool_call(
            100 + i,
            "draft_plan",
            &json!({"account": "Northwind"}),
        ));
    }
    let blocked = settled_ticks_per_second(&server);
    // The client goes away: every write now fails (EPIPE).
    server.close_stdout();
    let broken = settled_ticks_per_second(&server);
    eprintln!("CPU ticks in 1 s: {blocked} blocked on stdout, {broken} after stdout closed");
    // A spinning server shows ~100 ticks a second.
    assert!(
        blocked <= 10,
        "{blocked} ticks in 1 s while blocked on a full stdout"
    );
    assert!(
        broken <= 10,
        "{broken} ticks in 1 s after stdout was closed"
    );
    server.close_stdin();
    let status = server
        .wait_exit(EXIT_DEADLINE)
        .expect("the server did not exit after EOF");
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
}

#[test]
fn concurrent_calls_on_one_connection_are_matched_by_id() {
    let mut server = Server::start();
    let policy = Policy::default();
    // Every demo account five times, interleaved with snapshot calls and bad calls, all
    // written before any answer is read.
    let mut want: BTreeMap<u64, Value> = BTreeMap::new();
    let mut id = 1_000;
    for round in 0..5 {
        for s in demo() {
            id += 1;
            server.send_json(&tool_call(id, "draft_plan", &json!({"account": s.name})));
            want.insert(
                id,
                crate::plan_answer(draft_plan(s, &policy, s.as_of.unwrap())),
            );
            id += 1;
            let seats = 45 + round;
            let mut snap = oversold();
            snap["contract"]["licensed_seats"] = json!(seats);
            server.send_json(&tool_call(id, "check_health", &json!({"snapshot": snap})));
            want.insert(id, json!({"licensed_seats": seats}));
            id += 1;
            server.send_json(&tool_call(id, "draft_plan", &json!({"account": ""})));
            want.insert(id, json!({"error": "account must not be empty"}));
        }
    }
    let mut order = Vec::new();
    let until = Instant::now() + DEADLINE * 3;
    while order.len() < want.len() {
        let a = server
            .next(until.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|| panic!("{} of {} answered", order.len(), want.len()));
        let id = a["id"].as_u64().unwrap();
        let expected = want.get(&id).unwrap_or_else(|| panic!("unknown id {id}"));
        if let Some(seats) = expected.get("licensed_seats") {
            let seats = seats.as_u64().unwrap();
            let pct = (12.0 * 1000.0 / seats as f64).round() / 10.0;
            assert_eq!(
                a["result"]["structuredContent"]["utilisation_pct"],
                json!(pct),
                "id {id}"
            );
        } else if let Some(e) = expected.get("error") {
            assert_eq!(a["result"]["isError"], json!(true));
            assert!(
                a["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap()
                    .contains(e.as_str().unwrap())
            );
        } else {
            assert_eq!(&a["result"]["structuredContent"], expected, "id {id}");
        }
        order.push(id);
    }
    let in_order = order.windows(2).all(|w| w[0] < w[1]);
    eprintln!(
        "{} concurrent calls answered, {}",
        order.len(),
        if in_order { "in order" } else { "out of order" }
    );
    assert_still_answers(&mut server, 1);
}

/// `kill -9` in the middle of an import leaves the database as it was before the import or as
/// it is after it, never half: the import is one transaction, and SQLite's journal rolls an
/// interrupted one back on the next open.
#[test]
fn a_killed_import_leaves_the_database_before_or_after_never_half() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = crate::cli::scratch("killed-import");
    // 2,000 accounts with 90 daily readings each: long enough to be killed mid-way.
    let file = dir.join("big.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let start = expansion_planner::model::Day::parse("2026-08-17").unwrap();
    for i in 0..2000 {
        let history: Vec<serde_json::Value> = (0..90)
            .map(|d| serde_json::json!({"date": start.plus_days(d).to_string(), "active_users": 40 + (d % 7)}))
            .collect();
        let s = serde_json::json!({
            "id": format!("big-{i:05}"), "name": format!("Big Account {i:05}"), "as_of": "2026-11-15",
            "contract": {"arr": 60000, "licensed_seats": 50},
            "usage": {"active_users": 45, "history": history},
        });
        writeln!(w, "{s}").unwrap();
    }
    drop(w);
    let bin = env!("CARGO_BIN_EXE_expansion-planner");
    let count = |db: &std::path::Path| -> (i64, String) {
        let c = rusqlite::Connection::open(db).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
            .unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        (n, ok)
    };
    let mut killed_mid_way = 0;
    for (round, delay_ms) in [50u64, 150, 400].into_iter().enumerate() {
        let db = dir.join(format!("round-{round}.db"));
        // A database with the demo portfolio in it: "before" is 12 accounts.
        let seed = Command::new(bin)
            .args(["import", "--db"])
            .arg(&db)
            .arg(crate::root().join("tests/data/import/portfolio.jsonl"))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(seed.success());
        assert_eq!(count(&db).0, 12);
        let mut child = Command::new(bin)
            .args(["import", "--db"])
            .arg(&db)
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        if !finished {
            killed_mid_way += 1;
        }
        let (n, integrity) = count(&db);
        assert_eq!(integrity, "ok", "round {round}");
        assert!(
            n == 12 || n == 2012,
            "round {round}: {n} accounts, neither before (12) nor after (2012)"
        );
        // And the store still works: the next import goes through.
        let again = Command::new(bin)
            .args(["import", "--db"])
            .arg(&db)
            .arg(&file)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            again.success(),
            "round {round}: import after the kill failed"
        );
        assert_eq!(count(&db).0, 2012);
    }
    // At least one round must really have interrupted an import, or the test proved nothing.
    assert!(killed_mid_way >= 1, "every import finished before the kill");
}

// ---------------------------------------------------------------------------------------
// A read-only database and a full disk. As root (the sandbox, CI) file permissions stop no
// write, so the faults are made real with a private mount namespace: `unshare -r -m` (a user
// namespace mapping us to root in it, and a mount namespace), then a read-only bind mount or
// a tiny tmpfs seen only by the process under test.

/// Fails (never skips) when this machine cannot make user and mount namespaces.
fn require_namespaces() {
    let dir = crate::cli::scratch("ns-probe");
    let out = std::process::Command::new("unshare")
        .args([
            "-r",
            "-m",
            "sh",
            "-c",
            r#"mount -t tmpfs -o size=64k tmpfs "$1""#,
            "sh",
        ])
        .arg(&dir)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "this test needs `unshare -r -m` (user and mount namespaces) to make a read-only mount or a full disk, and it failed ({}): {}; enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces) or run as root",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "this test needs `unshare` (util-linux) to make a read-only mount or a full disk: {e}"
        ),
    }
}

/// `BIN ARGS...` run with `dir` mounted read-only (for that process only).
fn read_only_at(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> std::process::Command {
    let mut c = std::process::Command::new("unshare");
    c.args([
        "-r",
        "-m",
        "sh",
        "-c",
        r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@""#,
        "sh",
    ])
    .arg(dir)
    .arg(env!("CARGO_BIN_EXE_expansion-planner"))
    .args(args);
    c
}

/// Every row of every table, as text, sorted: two databases hold the same data exactly when
/// these are equal.
fn dump(db: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let mut st = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = st.column_count();
        let mut rows: Vec<String> = st
            .query_map([], |r| {
                let cells: Vec<rusqlite::types::Value> =
                    (0..n).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                Ok(format!("{cells:?}"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.insert(t, rows);
    }
    out
}

fn integrity(db: &std::path::Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// A database holding the demo portfolio, imported by the CLI.
fn seeded(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("accounts.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"))
        .args(["import", "--db"])
        .arg(&db)
        .arg(crate::root().join("tests/data/import/portfolio.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    db
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn a_read_only_database_refuses_every_cli_write_clearly_and_keeps_reading() {
    require_namespaces();
    let dir = crate::cli::scratch("ro-cli");
    let db = seeded(&dir);
    let before = dump(&db);
    let bytes_before = std::fs::read(&db).unwrap();
    let shown = db.display().to_string();
    let portfolio = crate::root().join("tests/data/import/portfolio.jsonl");

    for extra in [None, Some("--dry-run")] {
        let mut args = vec![
            os("import"),
            os("--db"),
            db.as_os_str(),
            portfolio.as_os_str(),
        ];
        args.extend(extra.map(os));
        let out = read_only_at(&dir, &args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "import {extra:?}: {err}");
        assert!(
            err.contains(&format!(
                "error: cannot write to {shown}: the database is read-only"
            )) && err.contains("Read-only file system")
                && err.contains("nothing was changed"),
            "import {extra:?}: {err}"
        );
        assert!(!err.contains("unable to open database file"), "{err}");
    }

    // Reading works: the segment plan and a stored account's plan.
    let out = read_only_at(&dir, &[os("scan"), os("--db"), db.as_os_str()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("12 accounts."),
        "{out:?}"
    );
    let out = read_only_at(
        &dir,
        &[
            os("plan"),
            os("--db"),
            db.as_os_str(),
            os("--account"),
            os("Northwind"),
            os("--format"),
            os("json"),
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let northwind = demo().iter().find(|s| s.name == "Northwind").unwrap();
    assert_eq!(
        plan,
        serde_json::to_value(draft_plan(
            northwind,
            &Policy::default(),
            northwind.as_of.unwrap()
        ))
        .unwrap()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the plan was not saved to the plan history") && err.contains("read-only"),
        "{err}"
    );

    // A database that does not exist cannot be created in a read-only directory.
    let new = dir.join("new.db");
    let out = read_only_at(&dir, &[os("scan"), os("--db"), new.as_os_str()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "cannot open the database {}: it does not exist and cannot be created: Read-only file system",
            new.display()
        )),
        "{err}"
    );
    assert!(!new.exists());

    // Nothing was lost or changed, byte for byte.
    assert_eq!(dump(&db), before);
    assert_eq!(std::fs::read(&db).unwrap(), bytes_before);
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn a_read_only_database_over_mcp_refuses_writes_clearly_and_keeps_answering() {
    require_namespaces();
    let dir = crate::cli::scratch("ro-mcp");
    let db = seeded(&dir);
    let before = dump(&db);
    let shown = db.display().to_string();
    let imports = crate::root().join("tests/data/import");
    let mut server = Server::start_command(read_only_at(
        &dir,
        &[
            os("serve"),
            os("--db"),
            db.as_os_str(),
            os("--import-dir"),
            imports.as_os_str(),
        ],
    ));
    let mut id = 10;
    let mut call = |server: &mut Server, tool: &str, args: Value| {
        id += 1;
        server.send_json(&tool_call(id, tool, &args));
        server.answer_to(&json!(id), DEADLINE)
    };
    for args in [
        json!({"file": "portfolio.jsonl"}),
        json!({"file": "portfolio.jsonl", "dry_run": true}),
        json!({"file": "crm/accounts.csv", "map": "crm/accounts.map.toml"}),
    ] {
        let a = call(&mut server, "import_accounts", args.clone());
        assert_eq!(a["result"]["isError"], json!(true), "{args}: {a}");
        let text = crate::wire::result_text(&a);
        assert!(
            text.starts_with(&format!(
                "cannot write to {shown}: the database is read-only"
            )),
            "{args}: {text}"
        );
    }
    // draft_plan answers the engine's plan and says the history did not get it.
    let northwind = demo().iter().find(|s| s.name == "Northwind").unwrap();
    let a = call(&mut server, "draft_plan", json!({"account": "Northwind"}));
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    assert_eq!(
        a["result"]["structuredContent"],
        crate::plan_answer(draft_plan(
            northwind,
            &Policy::default(),
            northwind.as_of.unwrap()
        ))
    );
    let text = crate::wire::result_text(&a);
    assert!(
        text.contains("Note: this plan was not saved to the plan history: cannot write to")
            && text.contains("read-only"),
        "{text}"
    );
    // Every read path works.
    let a = call(&mut server, "list_accounts", json!({}));
    assert_eq!(a["result"]["structuredContent"]["total"], json!(12), "{a}");
    let a = call(&mut server, "get_account", json!({"account": "acc-001"}));
    assert_eq!(
        a["result"]["structuredContent"]["snapshot"]["name"],
        json!("Northwind"),
        "{a}"
    );
    assert_eq!(a["result"]["structuredContent"]["saved_plans"], json!(0));
    let a = call(&mut server, "plan_segment", json!({}));
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    assert_eq!(
        a["result"]["structuredContent"]["accounts"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    let a = call(&mut server, "plan_history", json!({"account": "Northwind"}));
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    assert_still_answers(&mut server, 99);
    assert!(
        server.stderr().contains("the database is read-only"),
        "no warning at open: {}",
        server.stderr()
    );
    server.close_stdin();
    let status = server.wait_exit(EXIT_DEADLINE).expect("exit after EOF");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert_eq!(dump(&db), before);
    assert_eq!(integrity(&db), "ok");
}

/// `sh -c SCRIPT` in a private mount namespace where `$DISK` is a fresh tmpfs of `kib` KiB
/// (seen by nothing else); `$BIN` is the binary. Whatever the script wants the test to see
/// afterwards it copies out of `$DISK`.
fn on_tiny_disk(disk: &std::path::Path, kib: u32, script: &str) -> std::process::Command {
    let mut c = std::process::Command::new("unshare");
    c.args([
        "-r",
        "-m",
        "sh",
        "-c",
        &format!(r#"mount -t tmpfs -o size={kib}k tmpfs "$DISK" && {script}"#),
    ])
    .env("DISK", disk)
    .env("BIN", env!("CARGO_BIN_EXE_expansion-planner"));
    c
}

/// 2,000 accounts with 90 daily readings each (8 MB of JSONL, far more than the tiny disk).
fn big_import(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let file = dir.join("big.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let start = expansion_planner::model::Day::parse("2026-08-17").unwrap();
    for i in 0..2000 {
        let history: Vec<Value> = (0..90)
            .map(|d| json!({"date": start.plus_days(d).to_string(), "active_users": 40 + (d % 7)}))
            .collect();
        let s = json!({
            "id": format!("big-{i:05}"), "name": format!("Big Account {i:05}"), "as_of": "2026-11-15",
            "contract": {"arr": 60000, "licensed_seats": 50},
            "usage": {"active_users": 45, "history": history},
        });
        writeln!(w, "{s}").unwrap();
    }
    w.flush().unwrap();
    file
}

/// A small export that fits on the tiny disk: one account's health score.
fn small_import(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("small.csv");
    std::fs::write(&file, "id,health.score\nacc-001,55\n").unwrap();
    file
}

/// The tiny disk: room for the seeded database (~90 KB) and a little more, not for the big
/// import.
const TINY_DISK_KIB: u32 = 1024;

#[test]
fn a_full_disk_fails_a_cli_import_clearly_and_loses_nothing() {
    require_namespaces();
    let dir = crate::cli::scratch("full-cli");
    let seed = seeded(&dir);
    let before = dump(&seed);
    let big = big_import(&dir);
    let small = small_import(&dir);
    let disk = dir.join("disk");
    let failed = dir.join("after-failed");
    let next = dir.join("after-next");
    for d in [&disk, &failed, &next] {
        std::fs::create_dir_all(d).unwrap();
    }
    let out = on_tiny_disk(
        &disk,
        TINY_DISK_KIB,
        r#"cp "$SEED" "$DISK/accounts.db" || exit 90
"$BIN" import --db "$DISK/accounts.db" "$BIG" >/dev/null 2>"$FAILED/stderr"; echo $? >"$FAILED/rc"
cp "$DISK"/accounts.db* "$FAILED"/ || exit 91
"$BIN" import --db "$DISK/accounts.db" "$SMALL" >/dev/null 2>"$NEXT/stderr"; echo $? >"$NEXT/rc"
cp "$DISK"/accounts.db* "$NEXT"/ || exit 92"#,
    )
    .env("SEED", &seed)
    .env("BIG", &big)
    .env("SMALL", &small)
    .env("FAILED", &failed)
    .env("NEXT", &next)
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
    let err = read(failed.join("stderr"));
    assert_eq!(read(failed.join("rc")).trim(), "1", "{err}");
    assert!(
        err.contains("error: cannot write to ")
            && err.contains("/disk/accounts.db: the disk is full")
            && err.contains("nothing was changed"),
        "{err}"
    );
    assert!(
        !err.contains("database or disk is full: Error code"),
        "{err}"
    );
    // Exactly what it held before: the import was one transaction, rolled back.
    let after = failed.join("accounts.db");
    assert_eq!(integrity(&after), "ok");
    assert_eq!(dump(&after), before);
    assert_eq!(before["accounts"].len(), 12);
    // And the store takes the next import that fits.
    assert_eq!(
        read(next.join("rc")).trim(),
        "0",
        "{}",
        read(next.join("stderr"))
    );
    let after_next = next.join("accounts.db");
    assert_eq!(integrity(&after_next), "ok");
    let c = rusqlite::Connection::open(&after_next).unwrap();
    let score: f64 = c
        .query_row(
            "SELECT health_score FROM accounts WHERE id = 'acc-001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(score, 55.0);
}

#[test]
fn a_full_disk_fails_an_mcp_import_clearly_and_the_server_keeps_answering() {
    require_namespaces();
    let dir = crate::cli::scratch("full-mcp");
    let seed = seeded(&dir);
    let imports = dir.join("imports");
    std::fs::create_dir_all(&imports).unwrap();
    big_import(&imports);
    let small = small_import(&imports);
    let disk = dir.join("disk");
    let out = dir.join("after");
    std::fs::create_dir_all(&disk).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    // What the database must hold at the end: the seed, plus the small import and one saved
    // plan, done on a disk with room.
    let reference = dir.join("reference.db");
    std::fs::copy(&seed, &reference).unwrap();
    let bin = env!("CARGO_BIN_EXE_expansion-planner");
    for args in [
        vec![
            os("import"),
            os("--db"),
            reference.as_os_str(),
            small.as_os_str(),
        ],
        vec![
            os("plan"),
            os("--db"),
            reference.as_os_str(),
            os("--account"),
            os("Northwind"),
        ],
    ] {
        let o = std::process::Command::new(bin)
            .args(&args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
    }
    let mut cmd = on_tiny_disk(
        &disk,
        TINY_DISK_KIB,
        r#"cp "$SEED" "$DISK/accounts.db" || exit 90
"$BIN" serve --db "$DISK/accounts.db" --import-dir "$IMPORTS"; rc=$?
cp "$DISK"/accounts.db* "$OUT"/ && exit $rc"#,
    );
    cmd.env("SEED", &seed)
        .env("IMPORTS", &imports)
        .env("OUT", &out);
    let mut server = Server::start_command(cmd);
    let mut id = 10;
    let mut call = |server: &mut Server, tool: &str, args: Value| {
        id += 1;
        server.send_json(&tool_call(id, tool, &args));
        server.answer_to(&json!(id), DEADLINE * 3)
    };
    let a = call(&mut server, "import_accounts", json!({"file": "big.jsonl"}));
    assert_eq!(a["result"]["isError"], json!(true), "{a}");
    let text = crate::wire::result_text(&a);
    assert!(
        text.starts_with(&format!(
            "cannot write to {}: the disk is full",
            disk.join("accounts.db").display()
        )) && text.contains("nothing was changed"),
        "{text}"
    );
    // The server keeps answering, from the database as it was.
    let a = call(&mut server, "list_accounts", json!({}));
    assert_eq!(a["result"]["structuredContent"]["total"], json!(12), "{a}");
    let a = call(&mut server, "get_account", json!({"account": "big-00000"}));
    assert_eq!(a["result"]["isError"], json!(true), "{a}");
    assert!(crate::wire::result_text(&a).contains("matches no account"));
    assert_still_answers(&mut server, 98);
    // And it takes the next writes that fit.
    let a = call(&mut server, "import_accounts", json!({"file": "small.csv"}));
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    assert_eq!(a["result"]["structuredContent"]["updated"], json!(1), "{a}");
    let a = call(&mut server, "draft_plan", json!({"account": "Northwind"}));
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    assert!(!crate::wire::result_text(&a).contains("not saved"), "{a}");
    server.close_stdin();
    let status = server.wait_exit(EXIT_DEADLINE).expect("exit after EOF");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    let after = out.join("accounts.db");
    assert_eq!(integrity(&after), "ok");
    assert_eq!(dump(&after), dump(&reference));
}

/// Many calls on ONE stdio connection to `serve --db FILE`, all written before any answer is
/// read: plans drafted (and saved) for every account on several days, imports of new and of
/// existing accounts, segment plans, reads. Each answer must be the right one for its id,
/// and afterwards the database must be intact and hold exactly what was imported and saved.
#[test]
fn concurrent_calls_on_one_connection_with_the_sqlite_store_are_matched_and_stored() {
    use std::sync::Arc;
    let dir = crate::cli::scratch("concurrent-db");
    let db = seeded(&dir);
    let imports = dir.join("imports");
    std::fs::create_dir_all(&imports).unwrap();
    std::fs::copy(
        crate::root().join("tests/data/import/portfolio.jsonl"),
        imports.join("portfolio.jsonl"),
    )
    .unwrap();
    std::fs::copy(
        crate::root().join("tests/data/import/csv/history.csv"),
        imports.join("history.csv"),
    )
    .unwrap();
    // Eight files of five new accounts each, in a segment of their own, 10 readings each.
    const NEW_FILES: usize = 8;
    const PER_FILE: usize = 5;
    for f in 0..NEW_FILES {
        let mut text = String::new();
        for i in 0..PER_FILE {
            let history: Vec<Value> = (0..10)
                .map(|d| json!({"date": format!("2026-11-{:02}", d + 1), "active_users": 20 + d}))
                .collect();
            text.push_str(
                &json!({
                    "id": format!("new-{f}-{i}"), "name": format!("New {f}-{i}"),
                    "segment": "Concurrent", "as_of": "2026-11-15",
                    "contract": {"arr": 24000, "licensed_seats": 30},
                    "usage": {"active_users": 25, "history": history},
                })
                .to_string(),
            );
            text.push('\n');
        }
        std::fs::write(imports.join(format!("new-{f}.jsonl")), text).unwrap();
    }
    let history_before: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM usage_history", [], |r| r.get(0))
        .unwrap();

    // What each answer must be, by id.
    enum Want {
        Plan(Value),
        Import {
            rows: u64,
            created: u64,
            updated: u64,
        },
        Segment(Value),
        Account(Value),
        Total(u64),
        History(String),
    }
    let policy = Policy::default();
    let reference = expansion_planner::service::Planner::new(
        Policy::default(),
        Arc::new(expansion_planner::store::Sqlite::demo().unwrap()),
    );
    let days = ["2026-11-15", "2026-11-22", "2026-12-01"];
    let segments = ["Enterprise", "Mid-Market", "SMB"];
    let mut calls: Vec<(Value, Want)> = Vec::new();
    let mut next_file = 0;
    for (round, day) in days.iter().enumerate() {
        for (k, s) in demo().iter().enumerate() {
            let want = draft_plan(
                s,
                &policy,
                expansion_planner::model::Day::parse(day).unwrap(),
            );
            calls.push((
                json!(["draft_plan", {"account": s.name, "as_of": day}]),
                Want::Plan(crate::plan_answer(want)),
            ));
            calls.push((
                json!(["get_account", {"account": s.id}]),
                Want::Account(serde_json::to_value(s).unwrap()),
            ));
            if k % 3 == 0 {
                calls.push((
                    json!(["plan_history", {"account": s.name}]),
                    Want::History(s.name.clone()),
                ));
            }
            if k % 4 == round % 4 && next_file < NEW_FILES {
                calls.push((
                    json!(["import_accounts", {"file": format!("new-{next_file}.jsonl")}]),
                    Want::Import {
                        rows: PER_FILE as u64,
                        created: PER_FILE as u64,
                        updated: 0,
                    },
                ));
                next_file += 1;
            }
            if k == 5 {
                // The same accounts again: updated in place, nothing new.
                calls.push((
                    json!(["import_accounts", {"file": "portfolio.jsonl"}]),
                    Want::Import {
                        rows: 12,
                        created: 0,
                        updated: 12,
                    },
                ));
                calls.push((
                    json!(["import_accounts", {"file": "history.csv"}]),
                    Want::Import {
                        rows: 156,
                        created: 0,
                        updated: 12,
                    },
                ));
            }
        }
        for seg in segments {
            let args = json!({"segment": seg, "as_of": day});
            let want =
                expansion_planner::mcp::tools::call(&reference, "plan_segment", args.clone())
                    .map(|a| a.structured)
                    .unwrap_or_else(|e| panic!("reference plan_segment {args}: {e:?}"));
            calls.push((json!(["plan_segment", args]), Want::Segment(want)));
            let n = demo()
                .iter()
                .filter(|s| s.segment.as_deref() == Some(seg))
                .count();
            calls.push((
                json!(["list_accounts", {"segment": seg}]),
                Want::Total(n as u64),
            ));
        }
    }
    assert_eq!(next_file, NEW_FILES, "every new file is imported once");

    let mut server = Server::start_command({
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
        c.args(["serve", "--db"])
            .arg(&db)
            .arg("--import-dir")
            .arg(&imports);
        c
    });
    let mut want: BTreeMap<u64, (Value, Want)> = BTreeMap::new();
    for (i, (call, w)) in calls.into_iter().enumerate() {
        let id = 5_000 + i as u64;
        server.send_json(&tool_call(id, call[0].as_str().unwrap(), &call[1]));
        want.insert(id, (call, w));
    }
    let total = want.len();
    let mut order = Vec::new();
    let until = Instant::now() + DEADLINE * 6;
    while !want.is_empty() {
        let a = server
            .next(until.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|| {
                panic!(
                    "{} of {total} answered; stderr:\n{}",
                    order.len(),
                    server.stderr()
                )
            });
        let id = a["id"].as_u64().unwrap();
        let (call, w) = want
            .remove(&id)
            .unwrap_or_else(|| panic!("an answer to an unknown or already answered id {id}"));
        assert_eq!(a["result"]["isError"], json!(false), "{call}: {a}");
        let got = &a["result"]["structuredContent"];
        match w {
            Want::Plan(p) => assert_eq!(got, &p, "{call}"),
            Want::Import {
                rows,
                created,
                updated,
            } => {
                assert_eq!(
                    (
                        &got["rows"],
                        &got["created"],
                        &got["updated"],
                        &got["written"]
                    ),
                    (&json!(rows), &json!(created), &json!(updated), &json!(true)),
                    "{call}: {got}"
                );
            }
            Want::Segment(s) => {
                for key in [
                    "distribution",
                    "status_distribution",
                    "accounts",
                    "ranked_ready",
                ] {
                    assert_eq!(got[key], s[key], "{call}: {key}");
                }
            }
            Want::Account(s) => assert_eq!(got["snapshot"], s, "{call}"),
            Want::Total(n) => assert_eq!(got["total"], json!(n), "{call}"),
            Want::History(name) => assert_eq!(got["account"], json!(name), "{call}: {got}"),
        }
        order.push(id);
    }
    let in_order = order.windows(2).all(|w| w[0] < w[1]);
    eprintln!(
        "{total} concurrent calls on the SQLite store answered, {}",
        if in_order { "in order" } else { "out of order" }
    );
    assert_still_answers(&mut server, 1);
    server.close_stdin();
    let status = server.wait_exit(EXIT_DEADLINE).expect("exit after EOF");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());

    assert_eq!(integrity(&db), "ok");
    let c = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    let new = (NEW_FILES * PER_FILE) as i64;
    assert_eq!(count("SELECT count(*) FROM accounts"), 12 + new);
    assert_eq!(
        count("SELECT count(*) FROM accounts WHERE segment = 'Concurrent'"),
        new
    );
    assert_eq!(
        count("SELECT count(*) FROM usage_history"),
        history_before + new * 10
    );
    // One saved plan per demo account and day drafted, none for the others.
    assert_eq!(
        count("SELECT count(*) FROM plans"),
        (demo().len() * days.len()) as i64
    );
    assert_eq!(
        count("SELECT count(DISTINCT account) FROM plans"),
        demo().len() as i64
    );
    // Each saved plan is the one drafted for that account and day.
    let mut st = c
        .prepare("SELECT a.id, p.as_of, p.outcome, p.markdown FROM plans p JOIN accounts a ON a.key = p.account")
        .unwrap();
    let rows: Vec<(String, String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, as_of, outcome, markdown) in rows {
        let s = demo()
            .iter()
            .find(|s| s.id.as_deref() == Some(&id))
            .unwrap();
        let p = draft_plan(
            s,
            &policy,
            expansion_planner::model::Day::parse(&as_of).unwrap(),
        );
        assert_eq!(outcome, p.outcome.as_str(), "{id} {as_of}");
        assert_eq!(markdown, p.markdown, "{id} {as_of}");
    }
}

/// On stdio the database opens after the answer to `initialize` (start-up time). One that
/// cannot be opened still gets the client an answer to every call: tools that need accounts
/// say which file and why, the rest keep working, and the log says so too.
#[test]
fn a_database_that_cannot_be_opened_is_named_by_every_call_that_needs_it() {
    let dir = crate::cli::scratch("unopenable");
    let db = dir.join("not-ours.db");
    std::fs::write(
        &db,
        b"this is not an SQLite database, and it must stay as it is",
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    cmd.args(["serve", "--db"]).arg(&db);
    let mut server = Server::start_command(cmd);
    let shown = db.display().to_string();
    for (id, tool, args) in [
        (1, "check_health", json!({"account": "Northwind"})),
        (2, "list_accounts", json!({})),
        (3, "plan_segment", json!({})),
    ] {
        server.send_json(&tool_call(id, tool, &args));
        let a = server.answer_to(&json!(id), DEADLINE);
        assert_eq!(a["result"]["isError"], json!(true), "{tool}: {a}");
        let text = crate::wire::result_text(&a);
        assert!(
            text.contains("cannot open the account store") && text.contains(&shown),
            "{tool}: {text}"
        );
    }
    // A snapshot needs no store.
    server.send_json(&tool_call(
        4,
        "check_health",
        &json!({"snapshot": oversold()}),
    ));
    let a = server.answer_to(&json!(4), DEADLINE);
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    assert_still_answers(&mut server, 5);
    // stderr is read by a thread of the test: give it a moment.
    let until = Instant::now() + DEADLINE;
    while !server
        .stderr()
        .contains("the account store is not available")
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server
            .stderr()
            .contains("the account store is not available"),
        "{}",
        server.stderr()
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the file is left alone"
    );
}

/// Another process holds the write lock (an import in progress, say): reads go on, a
/// plan that cannot be saved is still answered, with a note, and pings are answered in
/// milliseconds while the save waits for the lock (issue 16, finding 4).
#[test]
fn a_locked_database_degrades_and_never_blocks() {
    let dir = crate::cli::scratch("locked");
    let db = seeded(&dir);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    cmd.args(["serve", "--db"]).arg(&db);
    let mut server = Server::start_command(cmd);
    // Warm the account up before the lock, as a CSM's earlier call would.
    server.send_json(&tool_call(
        1,
        "get_account",
        &json!({"account": "Northwind"}),
    ));
    let a = server.answer_to(&json!(1), DEADLINE);
    assert_eq!(a["result"]["isError"], json!(false), "{a}");

    let writer = rusqlite::Connection::open(&db).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    server.send_json(&tool_call(
        2,
        "draft_plan",
        &json!({"account": "Northwind", "as_of": "2026-11-20"}),
    ));
    // While the save waits for the lock, pings and reads are answered at once.
    std::thread::sleep(Duration::from_millis(300));
    for n in 0..5 {
        let sent = Instant::now();
        server.send_json(&json!({"jsonrpc": "2.0", "id": 100 + n, "method": "ping"}));
        let p = server.answer_to(&json!(100 + n), DEADLINE);
        assert!(p["result"].is_object(), "{p}");
        let took = sent.elapsed();
        assert!(took < Duration::from_millis(500), "ping {n} took {took:?}");
    }
    let a = server.answer_to(&json!(2), Duration::from_secs(20));
    assert_eq!(a["result"]["isError"], json!(false), "{a}");
    let sc = &a["result"]["structuredContent"];
    assert_eq!(sc["outcome"], "ready", "{a}");
    // The note is in the text a person reads; the structured content is the plan alone.
    let md = crate::wire::result_text(&a);
    assert!(
        md.contains("this plan was not saved to the plan history")
            && md.contains("another process holds the database's write lock"),
        "{md}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    writer.execute_batch("ROLLBACK").unwrap();

    // Once the lock is gone, the same plan saves.
    server.send_json(&tool_call(
        3,
        "draft_plan",
        &json!({"account": "Northwind", "as_of": "2026-11-20"}),
    ));
    let a = server.answer_to(&json!(3), DEADLINE);
    let md = a["result"]["structuredContent"]["markdown"]
        .as_str()
        .unwrap();
    assert!(!md.contains("not saved"), "{md}");
    assert_still_answers(&mut server, 200);
}
