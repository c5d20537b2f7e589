//! Ping latency while a long `plan_segment` runs on the same connection (stdio) or the same
//! session (HTTP): the figure issue #12 asks for. Before the store and engine work moved to the
//! blocking pool, every ping waited for the whole scan.
//!
//! For each transport: an idle baseline (pings with nothing else running), then one
//! `plan_segment` over every stored account and, until its answer arrives, a ping every
//! `--gap-ms`; prints p50 / p99 / max of both and the plan's wall time.
//!
//! ```sh
//! target/release/examples/busy_ping --bin target/release/expansion-planner --db STORE.db
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// The server binary.
    #[arg(long)]
    bin: String,
    /// The account store the segment is planned over.
    #[arg(long)]
    db: String,
    /// Pause between two pings while the plan runs.
    #[arg(long, default_value_t = 5)]
    gap_ms: u64,
    /// Pings in the idle baseline.
    #[arg(long, default_value_t = 200)]
    idle: usize,
    /// The accounts the store holds: the run fails if the plan covered another number.
    #[arg(long)]
    expect: Option<u64>,
    /// Only this transport: `stdio` or `http`.
    #[arg(long)]
    only: Option<String>,
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"busy_ping","version":"1"}}}"#;
const PLAN_ID: u64 = 1_000_000_000;

fn plan_request() -> Value {
    json!({"jsonrpc": "2.0", "id": PLAN_ID, "method": "tools/call",
        "params": {"name": "plan_segment", "arguments": {}}})
}

fn ping(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

/// p50, p99 and the largest.
fn stats(mut xs: Vec<Duration>) -> (Duration, Duration, Duration) {
    xs.sort();
    let at = |q: f64| {
        let i = ((xs.len() as f64 - 1.0) * q).round() as usize;
        xs.get(i).copied().unwrap_or_default()
    };
    (at(0.5), at(0.99), xs.last().copied().unwrap_or_default())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn report(
    transport: &str,
    idle: Vec<Duration>,
    busy: Vec<Duration>,
    plan: Duration,
    answer: &str,
    expect: Option<u64>,
) -> Result<()> {
    let total = total_accounts(answer);
    if let Some(n) = expect
        && total != Some(n)
    {
        bail!(
            "{transport}: plan_segment covered {total:?} accounts, not {n}: {}",
            answer.chars().take(300).collect::<String>()
        );
    }
    let n = busy.len();
    let (i50, i99, imax) = stats(idle);
    let (b50, b99, bmax) = stats(busy);
    println!(
        "| {transport:<5} | idle | {:>9} | {:>9} | {:>9} | |",
        ms(i50),
        ms(i99),
        ms(imax)
    );
    println!(
        "| {transport:<5} | during plan_segment ({n} pings, plan {:.1} s) | {:>9} | {:>9} | {:>9} | {} |",
        plan.as_secs_f64(),
        ms(b50),
        ms(b99),
        ms(bmax),
        if transport == "stdio" {
            if b99 < Duration::from_millis(50) {
                "p99 < 50 ms: **met**"
            } else {
                "p99 < 50 ms: **not met**"
            }
        } else {
            ""
        }
    );
    Ok(())
}

/// `total_accounts` of a successful plan_segment answer.
fn total_accounts(answer: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(answer).ok()?;
    let r = v.get("result")?;
    if r.get("isError") == Some(&Value::Bool(true)) {
        return None;
    }
    r.pointer("/structuredContent/total_accounts")?.as_u64()
}

// ---- stdio ----

struct Stdio1 {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Stdio1 {
    fn write(&mut self, v: &Value) -> Result<()> {
        writeln!(self.stdin, "{v}")?;
        self.stdin.flush()?;
        Ok(())
    }

    /// Reads lines until the answer to `id`; an answer to the plan on the way is returned too.
    fn wait(&mut self, id: u64) -> Result<Option<String>> {
        let mut plan = None;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("the server closed stdout");
            }
            let v: Value = serde_json::from_str(&line)?;
            match v.get("id").and_then(Value::as_u64) {
                Some(i) if i == id => return Ok(plan),
                Some(PLAN_ID) => plan = Some(line),
                _ => {}
            }
        }
    }
}

fn stdio(a: &Args) -> Result<()> {
    let mut child = Command::new(&a.bin)
        .args(["serve", "--db", &a.db])
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start the server")?;
    let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
    let stdout = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?);
    let mut s = Stdio1 {
        child,
        stdin,
        stdout,
    };
    s.write(&serde_json::from_str(INITIALIZE)?)?;
    s.wait(0)?;
    s.write(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
    let mut idle = Vec::new();
    for id in 1..=a.idle as u64 {
        let t = Instant::now();
        s.write(&ping(id))?;
        s.wait(id)?;
        idle.push(t.elapsed());
    }
    let started = Instant::now();
    s.write(&plan_request())?;
    let mut busy = Vec::new();
    let mut id = 10_000;
    let answer = loop {
        std::thread::sleep(Duration::from_millis(a.gap_ms));
        id += 1;
        let t = Instant::now();
        s.write(&ping(id))?;
        let plan = s.wait(id)?;
        busy.push(t.elapsed());
        if let Some(p) = plan {
            break p;
        }
    };
    let plan = started.elapsed();
    drop(s.stdin);
    s.child.wait()?;
    report("stdio", idle, busy, plan, &answer, a.expect)
}

// ---- HTTP ----

struct Http1 {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

async fn connect(addr: &str) -> Result<Http1> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Http1 {
        send,
        host: addr.to_string(),
    })
}

impl Http1 {
    /// One POST to /mcp; the session header and the JSON-RPC answer (read from the SSE event).
    async fn post(
        &mut self,
        session: Option<&str>,
        body: &Value,
    ) -> Result<(Option<String>, String)> {
        let mut req = hyper::Request::post("/mcp")
            .header("host", &self.host)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        if let Some(s) = session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-06-18");
        }
        let res = self
            .send
            .send_request(req.body(Full::new(body.to_string().into()))?)
            .await?;
        let status = res.status();
        let sid = res
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = res.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            bail!("HTTP {status}: {text}");
        }
        let data = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .find(|d| !d.is_empty())
            .unwrap_or(text.trim());
        Ok((sid, data.to_string()))
    }
}

async fn http(a: &Args) -> Result<()> {
    let mut child = tokio::process::Command::new(&a.bin)
        .args(["serve", "--http", "127.0.0.1:0", "--db", &a.db])
        .args(["--request-timeout-secs", "600"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server")?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow!("the server exited before listening"))?;
        if let Some(at) = line.find("url=http://") {
            let rest = line.get(at + 11..).unwrap_or_default();
            let end = rest.find('/').unwrap_or(rest.len());
            break rest.get(..end).unwrap_or_default().to_string();
        }
    };
    // Keep reading the log, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let mut c = connect(&addr).await?;
    let (sid, _) = c.post(None, &serde_json::from_str(INITIALIZE)?).await?;
    let sid = sid.ok_or_else(|| anyhow!("no session id"))?;
    c.post(
        Some(&sid),
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await?;
    let mut idle = Vec::new();
    for id in 1..=a.idle as u64 {
        let t = Instant::now();
        c.post(Some(&sid), &ping(id)).await?;
        idle.push(t.elapsed());
    }
    // The plan on a connection of its own (HTTP/1.1 has one request at a time per
    // connection), in the same session.
    let mut planner = connect(&addr).await?;
    let plan_sid = sid.clone();
    let started = Instant::now();
    let mut plan = tokio::spawn(async move {
        let answer = planner.post(Some(&plan_sid), &plan_request()).await;
        (answer, started.elapsed())
    });
    let mut busy = Vec::new();
    let mut id = 10_000;
    let (answer, took) = loop {
        tokio::select! {
            done = &mut plan => break done?,
            () = tokio::time::sleep(Duration::from_millis(a.gap_ms)) => {}
        }
        id += 1;
        let t = Instant::now();
        c.post(Some(&sid), &ping(id)).await?;
        busy.push(t.elapsed());
    };
    let (_, answer) = answer?;
    child.start_kill()?;
    report("http", idle, busy, took, &answer, a.expect)
}

fn main() -> Result<()> {
    let a = Args::parse();
    println!("| transport | while | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|---|");
    if a.only.as_deref() != Some("http") {
        stdio(&a)?;
    }
    if a.only.as_deref() != Some("stdio") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(http(&a))?;
    }
    Ok(())
}
