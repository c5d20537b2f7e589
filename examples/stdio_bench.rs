//! Whole-process figures over stdio, for our server and a floor server in the same run:
//!
//! - cold start: spawn to the `initialize` result, over `--starts` fresh processes;
//! - round trip of `check_health` and of `draft_plan` on a demo account: write the request
//!   line, read the answer line, `--calls` times in a row on one connection.
//!
//! The two servers are measured alternately (one start of each, blocks of 10 calls each) so
//! that whatever else the machine is doing weighs on both. Prints median and p99 for each and
//! the ratio of the medians, ours over the floor's.
//!
//! ```sh
//! cargo build --release --bin expansion-planner --example floor --example stdio_bench
//! target/release/examples/stdio_bench \
//!     --server "target/release/expansion-planner serve" --floor target/release/examples/floor
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Our server: the command line, split on spaces.
    #[arg(long)]
    server: String,
    /// The floor server: the command line, split on spaces.
    #[arg(long)]
    floor: Option<String>,
    /// Compare `check_health` with this peer server instead (the official TypeScript SDK),
    /// in one interleaved run with `--pipe`, and nothing else.
    #[arg(long)]
    peer: Option<String>,
    /// With `--peer`: the pipe floor, a process that echoes each line back (`cat`).
    #[arg(long, default_value = "cat")]
    pipe: String,
    /// With `--peer`: calls per batch; the three servers take turns, a batch each.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Round trips per tool and server.
    #[arg(long, default_value_t = 2000)]
    calls: usize,
    /// Cold starts per server.
    #[arg(long, default_value_t = 100)]
    starts: usize,
    /// Rounds the round trips are split into; the median round is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// The demo account the tools are called on.
    #[arg(long, default_value = "Northwind")]
    account: String,
    /// Also count instructions per request under valgrind's callgrind (repeatable whatever
    /// else the machine is doing, unlike time): this many requests per tool and server.
    #[arg(long, default_value_t = 0)]
    instructions: usize,
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"stdio_bench","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: String,
}

impl Server {
    fn spawn(command: &str) -> Result<Server> {
        let mut parts = command.split_whitespace();
        let program = parts.next().ok_or_else(|| anyhow!("empty command"))?;
        let mut child = Command::new(program)
            .args(parts)
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start `{command}`"))?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        Ok(Server {
            child,
            stdin,
            stdout: BufReader::with_capacity(1 << 16, stdout),
            line: String::new(),
        })
    }

    /// Writes one line and reads lines until the answer to `id`; returns the answer's length.
    fn call(&mut self, id: u64, line: &str) -> Result<usize> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()?;
        loop {
            self.line.clear();
            if self.stdout.read_line(&mut self.line)? == 0 {
                bail!("the server closed stdout");
            }
            // Finding `"id":<id>` is enough here (parsing a 20 KB answer would be the
            // client's cost, not the server's). Ours writes it first, the TypeScript SDK last.
            if has_id(&self.line, id) {
                return Ok(self.line.len());
            }
        }
    }

    fn handshake(&mut self) -> Result<()> {
        self.call(0, INITIALIZE)?;
        self.stdin.write_all(INITIALIZED.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()?;
        Ok(())
    }

    fn finish(self) -> Result<()> {
        let Server {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        child.wait()?;
        Ok(())
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

fn has_id(line: &str, id: u64) -> bool {
    line.match_indices("\"id\":").any(|(at, _)| {
        let digits: String = line
            .get(at + 5..)
            .unwrap_or_default()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse() == Ok(id)
    })
}

/// A request line: `ping` (the protocol alone, no tool), or a tool call on the account.
fn tool_line(id: u64, tool: &str, account: &str) -> String {
    if tool == "ping" {
        return format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
    }
    serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {"account": account}}})
    .to_string()
}

/// Median and 99th percentile.
fn stats(mut xs: Vec<Duration>) -> (Duration, Duration) {
    xs.sort();
    let at = |q: f64| {
        let i = ((xs.len() as f64 - 1.0) * q).round() as usize;
        xs.get(i).copied().unwrap_or_default()
    };
    (at(0.5), at(0.99))
}

fn ratio_of(ours: &[Duration], floor: &[Duration]) -> f64 {
    median(ours.to_vec()).as_secs_f64() / median(floor.to_vec()).as_secs_f64().max(1e-12)
}

fn median(xs: Vec<Duration>) -> Duration {
    stats(xs).0
}

fn median_f(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Spawn to the `initialize` result, and spawn to the first `tools/list` result (what a client
/// does next; the tool list's schemas are the largest thing a server prepares).
fn cold_start(command: &str) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut s = Server::spawn(command)?;
    s.call(0, INITIALIZE)?;
    let initialized = started.elapsed();
    s.stdin.write_all(INITIALIZED.as_bytes())?;
    s.stdin.write_all(b"\n")?;
    s.call(1, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)?;
    let listed = started.elapsed();
    s.finish()?;
    Ok((initialized, listed))
}

struct Row {
    what: &'static str,
    ours: (Duration, Duration),
    floor: (Duration, Duration),
    ratio: f64,
    fmt: fn(Duration) -> String,
    target: &'static str,
}

/// Instructions one run of `command` executes when it answers `n` requests for `tool`
/// (handshake included), counted by callgrind.
fn instructions_for(command: &str, tool: &str, account: &str, n: usize) -> Result<u64> {
    let out = std::env::temp_dir().join(format!("stdio_bench.{}.callgrind", std::process::id()));
    let wrapped = format!(
        "valgrind --tool=callgrind --callgrind-out-file={} {command}",
        out.display()
    );
    let mut s = Server::spawn(&wrapped)?;
    s.handshake()?;
    // What a server prepares after the handshake (the tool list, an account store opened on
    // first use) is done before the counted calls, the same in both sessions, so that it
    // cancels out whatever the calls are.
    const SETTLE: u64 = 1 << 40;
    s.call(
        SETTLE,
        &format!(r#"{{"jsonrpc":"2.0","id":{SETTLE},"method":"tools/list"}}"#),
    )?;
    s.call(SETTLE + 1, &tool_line(SETTLE + 1, "check_health", account))?;
    for id in 1..=n as u64 {
        s.call(id, &tool_line(id, tool, account))?;
    }
    s.finish()?;
    let text = std::fs::read_to_string(&out).context("callgrind wrote no profile")?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow!("no instruction total in the callgrind profile"))
}

/// Instructions per request: the difference between `n + 1` requests and one, over `n`, so
/// that start-up and the handshake cancel out.
fn instructions_per_request(command: &str, tool: &str, account: &str, n: usize) -> Result<f64> {
    let one = instructions_for(command, tool, account, 1)?;
    let many = instructions_for(command, tool, account, n + 1)?;
    Ok(many.saturating_sub(one) as f64 / n as f64)
}

fn instruction_table(a: &Args, floor: &str) -> Result<()> {
    println!();
    println!(
        "| {:<40} | {:>14} | {:>14} | {:>6} |",
        "instructions per request (callgrind)", "ours", "floor", "ratio"
    );
    println!("|{:-<42}|{:->16}|{:->16}|{:->8}|", "", "", "", "");
    for tool in ["ping", "check_health", "draft_plan"] {
        let ours = instructions_per_request(&a.server, tool, &a.account, a.instructions)?;
        let floor = instructions_per_request(floor, tool, &a.account, a.instructions)?;
        println!(
            "| {:<40} | {:>14.0} | {:>14.0} | {:>5.1}x |",
            tool,
            ours,
            floor,
            ours / floor.max(1.0)
        );
    }
    Ok(())
}

/// Our `check_health` against the same tool on the peer, with the pipe floor, in one
/// interleaved run: the three take turns, a batch of calls each, so that whatever else the
/// machine does weighs on all three. The peer answers the result our server gave for the same
/// call, so both answers are the same size.
fn compare(a: &Args, peer: &str) -> Result<()> {
    let mut ours = Server::spawn(&a.server)?;
    ours.handshake()?;
    ours.call(1, &tool_line(1, "check_health", &a.account))?;
    let answer: serde_json::Value = serde_json::from_str(&ours.line)?;
    let result = answer
        .get("result")
        .filter(|r| r.get("isError") != Some(&serde_json::Value::Bool(true)))
        .ok_or_else(|| anyhow!("check_health failed: {}", ours.line))?;
    let file = std::env::temp_dir().join(format!("check_health.{}.json", std::process::id()));
    std::fs::write(&file, result.to_string())?;
    let mut peer_cmd = peer.split_whitespace();
    let program = peer_cmd.next().ok_or_else(|| anyhow!("empty --peer"))?;
    let mut child = Command::new(program)
        .args(peer_cmd)
        .env("CHECK_HEALTH_RESULT", &file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start `{peer}`"))?;
    let mut them = Server {
        stdin: child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?,
        stdout: BufReader::with_capacity(
            1 << 16,
            child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?,
        ),
        child,
        line: String::new(),
    };
    them.handshake()?;
    them.call(1, &tool_line(1, "check_health", &a.account))?;
    if them.line.contains("\"isError\":true") || them.line.contains("\"error\":") {
        bail!("the peer's check_health failed: {}", them.line);
    }
    let mut pipe = Server::spawn(&a.pipe)?;
    pipe.handshake()?;
    let sizes = (ours.line.len(), them.line.len());

    let mut id = 2_u64;
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut servers = [&mut ours, &mut them, &mut pipe];
    // Warm-up (the peer's JIT, our caches), not counted.
    for s in servers.iter_mut() {
        for _ in 0..500 {
            s.call(id, &tool_line(id, "check_health", &a.account))?;
            id += 1;
        }
    }
    while times[0].len() < a.calls {
        for (s, t) in servers.iter_mut().zip(times.iter_mut()) {
            for _ in 0..a.batch {
                let line = tool_line(id, "check_health", &a.account);
                let started = Instant::now();
                s.call(id, &line)?;
                t.push(started.elapsed());
                id += 1;
            }
        }
    }
    let [t_ours, t_peer, t_pipe] = times;
    let (o, p, f) = (stats(t_ours), stats(t_peer), stats(t_pipe));
    let _ = std::fs::remove_file(&file);
    ours.finish()?;
    them.finish()?;
    pipe.finish()?;

    println!(
        "check_health over stdio, {} calls each in interleaved batches of {}; answers of {} bytes (ours) and {} bytes (peer)",
        a.calls, a.batch, sizes.0, sizes.1
    );
    println!();
    println!("| | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| ours (`serve --db`, account {}) | {} | {} |",
        a.account,
        us(o.0),
        us(o.1)
    );
    println!("| TypeScript SDK 1.32.2 peer | {} | {} |", us(p.0), us(p.1));
    println!("| pipe floor (`{}`) | {} | {} |", a.pipe, us(f.0), us(f.1));
    let r50 = o.0.as_secs_f64() / p.0.as_secs_f64().max(1e-12);
    let r99 = o.1.as_secs_f64() / p.1.as_secs_f64().max(1e-12);
    println!();
    println!(
        "ours / peer at p50: {r50:.2}x (target <= 1.10x: {}); at p99: {r99:.2}x (target <= 0.50x: {})",
        if r50 <= 1.10 { "met" } else { "NOT met" },
        if r99 <= 0.50 { "met" } else { "NOT met" },
    );
    let above = |x: Duration| x.saturating_sub(f.0);
    println!(
        "above the pipe floor's p50: ours {}, peer {}",
        us(above(o.0)),
        us(above(p.0))
    );
    Ok(())
}

fn main() -> Result<()> {
    let a = Args::parse();
    if let Some(peer) = &a.peer {
        return compare(&a, peer);
    }
    let floor_cmd = a
        .floor
        .clone()
        .ok_or_else(|| anyhow!("--floor or --peer is needed"))?;

    // Cold start, alternating.
    let (mut ours_start, mut floor_start) = (Vec::new(), Vec::new());
    let (mut ours_list, mut floor_list) = (Vec::new(), Vec::new());
    for _ in 0..a.starts {
        let (init, list) = cold_start(&a.server)?;
        ours_start.push(init);
        ours_list.push(list);
        let (init, list) = cold_start(&floor_cmd)?;
        floor_start.push(init);
        floor_list.push(list);
    }

    // Round trips, alternating blocks of 10 on two long-lived connections.
    let mut ours = Server::spawn(&a.server)?;
    let mut floor = Server::spawn(&floor_cmd)?;
    ours.handshake()?;
    floor.handshake()?;
    let mut answer_bytes = (0, 0);
    let mut rows = Vec::new();
    let mut id = 1_u64;
    for (tool, target) in [
        ("ping", "-"),
        ("check_health", "<= 3x"),
        ("draft_plan", "<= 6x"),
    ] {
        // Check once that the answer is a real one, not an error.
        let first = tool_line(id, tool, &a.account);
        ours.call(id, &first)?;
        if ours.line.contains("\"isError\":true") || ours.line.contains("\"error\":") {
            bail!("{tool} failed: {}", ours.line);
        }
        answer_bytes.0 = ours.line.len();
        floor.call(id, &first)?;
        answer_bytes.1 = floor.line.len();
        id += 1;
        // Warm up both.
        for _ in 0..200 {
            let line = tool_line(id, tool, &a.account);
            ours.call(id, &line)?;
            floor.call(id, &line)?;
            id += 1;
        }
        // `--rounds` rounds of interleaved calls; the ratio is taken in each round (both
        // servers saw the same moment of the machine) and the median round is reported, so
        // that a burst of load from elsewhere moves one round, not the figure.
        let (mut t_ours, mut t_floor, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut med_ours, mut med_floor) = (Vec::new(), Vec::new());
        let per_round = a.calls.div_ceil(a.rounds.max(1));
        for _ in 0..a.rounds.max(1) {
            let (mut r_ours, mut r_floor) = (Vec::new(), Vec::new());
            while r_ours.len() < per_round {
                for (s, t) in [(&mut ours, &mut r_ours), (&mut floor, &mut r_floor)] {
                    for _ in 0..10 {
                        let line = tool_line(id, tool, &a.account);
                        let started = Instant::now();
                        s.call(id, &line)?;
                        t.push(started.elapsed());
                        id += 1;
                    }
                }
            }
            let (o, f) = (stats(r_ours.clone()).0, stats(r_floor.clone()).0);
            ratios.push(o.as_secs_f64() / f.as_secs_f64().max(1e-12));
            med_ours.push(o);
            med_floor.push(f);
            t_ours.extend(r_ours);
            t_floor.extend(r_floor);
        }
        println!(
            "{tool}: answers of {} bytes (ours) and {} bytes (floor)",
            answer_bytes.0, answer_bytes.1
        );
        rows.push(Row {
            what: match tool {
                "ping" => "ping round trip (protocol only)",
                "check_health" => "check_health round trip",
                _ => "draft_plan round trip",
            },
            ours: (median(med_ours), stats(t_ours).1),
            floor: (median(med_floor), stats(t_floor).1),
            ratio: median_f(ratios),
            fmt: us,
            target,
        });
    }
    let rss = ours.peak_rss_kib();
    ours.finish()?;
    floor.finish()?;
    rows.insert(
        0,
        Row {
            what: "spawn to first tools/list result",
            ratio: ratio_of(&ours_list, &floor_list),
            ours: stats(ours_list),
            floor: stats(floor_list),
            fmt: ms,
            target: "-",
        },
    );
    rows.insert(
        0,
        Row {
            what: "cold start (spawn to initialize result)",
            ratio: ratio_of(&ours_start, &floor_start),
            ours: stats(ours_start),
            floor: stats(floor_start),
            fmt: ms,
            target: "<= 3 ms",
        },
    );

    println!();
    println!(
        "| {:<40} | {:>22} | {:>22} | {:>6} | {:>8} |",
        "stdio, whole process", "ours: median / p99", "floor: median / p99", "ratio", "target"
    );
    println!(
        "|{:-<42}|{:->24}|{:->24}|{:->8}|{:->10}|",
        "", "", "", "", ""
    );
    for r in &rows {
        let ratio = r.ratio;
        println!(
            "| {:<40} | {:>22} | {:>22} | {:>5.2}x | {:>8} |",
            r.what,
            format!("{} / {}", (r.fmt)(r.ours.0), (r.fmt)(r.ours.1)),
            format!("{} / {}", (r.fmt)(r.floor.0), (r.fmt)(r.floor.1)),
            ratio,
            r.target
        );
    }
    println!();
    println!(
        "{} cold starts and {} round trips per tool and server in {} rounds (median round shown); account {}; our peak RSS {}",
        a.starts,
        a.calls,
        a.rounds,
        a.account,
        rss.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "unknown".into())
    );
    if a.instructions > 0 {
        instruction_table(&a, &floor_cmd)?;
    }
    Ok(())
}
