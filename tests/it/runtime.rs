//! The server's runtime stays responsive: store and engine work runs off the async runtime,
//! so a long tool call on stdio does not hold pings and other calls behind it; and a client
//! that stops reading cannot make replies pile up in memory.

use std::time::{Duration, Instant};

use expansion_planner::model::Snapshot;
use expansion_planner::store::Sqlite;
use serde_json::{Value, json};

use crate::wire::{DEADLINE, Server, tool_call};

/// A store of `n` accounts, the demo portfolio repeated under new names and ids.
fn big_store(name: &str, n: usize) -> std::path::PathBuf {
    let path = crate::cli::scratch(name).join("big.db");
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let demo = expansion_planner::demo::portfolio().unwrap();
    let store = Sqlite::open(&path).unwrap();
    let mut batch: Vec<Snapshot> = Vec::with_capacity(1000);
    for i in 0..n {
        let mut s = demo[i % demo.len()].clone();
        s.name = format!("{} {i}", s.name);
        s.id = Some(format!("big-{i}"));
        batch.push(s);
        if batch.len() == 1000 {
            store.put(&batch).unwrap();
            batch.clear();
        }
    }
    store.put(&batch).unwrap();
    path
}

fn serve_db(path: &std::path::Path) -> Server {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    cmd.arg("serve").arg("--db").arg(path);
    Server::start_command(cmd)
}

fn ping(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

#[test]
fn pings_are_answered_while_a_long_segment_plan_runs() {
    let path = big_store("long-segment", 30_000);
    let mut server = serve_db(&path);
    server.send_json(&tool_call(
        1,
        "plan_segment",
        &json!({"as_of": "2026-12-01"}),
    ));
    let started = Instant::now();
    // A ping every 100 ms until the segment's answer arrives, each timed.
    let mut waits: Vec<Duration> = Vec::new();
    let mut id = 100;
    let segment = loop {
        std::thread::sleep(Duration::from_millis(100));
        id += 1;
        let sent = Instant::now();
        server.send_json(&ping(id));
        let mut segment = None;
        let deadline = sent + DEADLINE;
        let pong = loop {
            let a = server
                .next(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|| panic!("no answer to ping {id}: {}", server.stderr()));
            if a["id"] == json!(1) {
                segment = Some(a);
            } else if a["id"] == json!(id) {
                break a;
            }
        };
        assert_eq!(pong["result"], json!({}), "{pong}");
        match segment {
            Some(s) => break s,
            None => waits.push(sent.elapsed()),
        }
    };
    let took = started.elapsed();
    assert_eq!(segment["result"]["isError"], json!(false), "{segment}");
    let total = &segment["result"]["structuredContent"]["total_accounts"];
    assert_eq!(total, &json!(30_000), "{segment}");
    waits.sort();
    let n = waits.len();
    eprintln!(
        "segment plan answered in {took:?}; {n} pings meanwhile: median {:?}, max {:?}",
        waits.get(n / 2),
        waits.last()
    );
    // The test means something only if the plan ran long enough for pings to queue.
    assert!(n >= 10, "only {n} pings while the segment ran for {took:?}");
    // Before the work left the runtime, the first ping waited for the whole plan (seconds).
    // The machine is shared: one ping in twenty may lose the CPU for a moment.
    let p95 = waits.get(n * 95 / 100).copied().unwrap_or_default();
    assert!(
        p95 < Duration::from_millis(200),
        "p95 ping {p95:?} while the segment plan ran: {waits:?}"
    );
    let max = waits.last().copied().unwrap_or_default();
    assert!(
        max < Duration::from_secs(1),
        "a ping waited {max:?}: {waits:?}"
    );
}

/// A client that writes 20,000 requests and reads nothing: the server stops reading while
/// its unread replies exceed a bound, so its memory stays flat; once the client reads, every
/// request is answered.
#[test]
fn a_client_that_does_not_read_cannot_make_replies_pile_up() {
    use std::io::Write;
    const REQUESTS: u64 = 20_000;
    let mut server = Server::spawn_unread();
    server.send_initialize();
    server.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let mut stdin = server.take_stdin();
    // The writer blocks once the server stops reading; it finishes when the client reads.
    let writer = std::thread::spawn(move || {
        let mut w = std::io::BufWriter::new(&mut stdin);
        for i in 0..REQUESTS {
            let line = tool_call(1_000 + i, "draft_plan", &json!({"account": "Northwind"}));
            writeln!(w, "{line}").unwrap();
        }
        w.flush().unwrap();
        drop(w);
        stdin
    });
    // Each plan answer is ~25 KB: 20,000 of them unread would be ~500 MB, and more in
    // memory. Sample the resident set while the client does not read.
    let baseline = server.status_kib("VmRSS");
    let mut peak = baseline;
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        peak = peak.max(server.status_kib("VmRSS"));
    }
    assert!(
        !writer.is_finished(),
        "the server read all {REQUESTS} requests while nobody read its answers"
    );
    eprintln!("VmRSS {baseline} KiB at start, {peak} KiB at most while unread");
    assert!(
        peak < 160 * 1024,
        "VmRSS reached {peak} KiB while the client did not read"
    );
    server.start_reading();
    let mut answered = std::collections::BTreeSet::new();
    let until = Instant::now() + Duration::from_secs(300);
    while answered.len() < REQUESTS as usize + 1 {
        let left = until.saturating_duration_since(Instant::now());
        let a = server.next(left).unwrap_or_else(|| {
            panic!("{} answers, then none: {}", answered.len(), server.stderr())
        });
        if let Some(id) = a["id"].as_u64() {
            if id >= 1_000 {
                assert_eq!(a["result"]["isError"], json!(false), "{a}");
            }
            answered.insert(id);
        }
    }
    assert_eq!(answered.len(), REQUESTS as usize + 1, "every request, once");
    let stdin = writer.join().unwrap();
    drop(stdin);
}
