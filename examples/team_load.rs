//! Load and check client for `scripts/team`: a team's traffic through a load balancer in
//! front of `serve --http --stateless` replicas sharing one database, and the checks that
//! nothing acknowledged was lost.
//!
//! ```text
//! team_load load URL --clients N --seconds S --import-dir DIR --tag TAG --out CALLS.jsonl
//!                    [--imports yes|no]
//! team_load verify URL --records CALLS.jsonl... [--killed NAME --kill-window MS0,MS1
//!                      --restarted-at MS]
//! ```
//!
//! `load`: N clients, each on its own keep-alive connection to URL, loop for S seconds over
//! what a CSM does: import a new account (a JSON file written into DIR, then
//! `import_accounts`), draft its plan for two days (`draft_plan`, each saved to the plan
//! history), read a demo account's health (`check_health`) and the new account's history
//! (`plan_history`, which must already show both plans, whichever replica saved them).
//! With `--imports no` a round drafts a demo account's plan for a day of its own, reads its
//! health and its history, and imports nothing, so that the store's size stays the same
//! across the phases whose throughput is compared.
//! Every call is one self-contained POST (stateless mode: no `initialize`). Each call is
//! written to CALLS.jsonl with its start and end (ms since the epoch), its outcome and the
//! replica that answered (the balancer's `X-Served-By` header); the summary line is a
//! table row: `| calls | failed | wall s | calls/s | p50 ms | p99 ms |`.
//!
//! `verify`: reads the records back and checks, exiting 1 when one breaks:
//! - every failed call was in flight on the killed replica when it was killed (its reply
//!   names that replica and it spans the kill window), and no failure had another cause;
//! - every acknowledged import is still there (`get_account` finds it) and every
//!   acknowledged saved plan is in the plan history (`plan_history` lists its `as_of`);
//! - the restarted replica answered calls again after its restart.
//!
//! A bearer token, when the replicas need one, comes from `TEAM_LOAD_TOKEN`.

#[path = "common/mcp_http.rs"]
mod mcp_http;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use expansion_planner::model::Day;

/// Demo accounts read by `check_health`.
const READ_ACCOUNTS: [&str; 4] = [
    "Northwind",
    "Bluefin Logistics",
    "Crestline Health",
    "Vantage Robotics",
];
/// The two days each new account's plan is drafted for.
const DAYS: [&str; 2] = ["2026-11-15", "2026-11-22"];
/// The demo account whose snapshot each imported account copies.
const TEMPLATE: &str = "Northwind";

/// One call as the client saw it.
#[derive(Serialize, Deserialize, Clone)]
struct Call {
    worker: usize,
    tool: String,
    start_ms: f64,
    end_ms: f64,
    ok: bool,
    /// HTTP status, 0 when there was no reply.
    status: u16,
    /// The replica that answered (the balancer's `X-Served-By`), when there was a reply.
    served_by: Option<String>,
    error: Option<String>,
    /// The account imported or drafted, for the durability checks.
    account: Option<String>,
    /// `draft_plan`: the day drafted.
    as_of: Option<String>,
    /// `draft_plan`: the answer said the plan was saved to the history (no "not saved" note).
    saved: bool,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

struct Conn {
    addr: SocketAddr,
    send: Option<SendRequest<Full<Bytes>>>,
    token: Option<String>,
    next_id: u64,
}

/// A reply: status, the replica that served it, the JSON-RPC answer when there was one.
struct Reply {
    status: u16,
    served_by: Option<String>,
    answer: Option<Value>,
    body: String,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            send: None,
            token: std::env::var("TEAM_LOAD_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            next_id: 1,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        let usable = self.send.as_ref().is_some_and(|s| !s.is_closed());
        if !usable {
            let stream = tokio::net::TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("cannot connect to {}", self.addr))?;
            stream.set_nodelay(true)?;
            let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.send = Some(send);
        }
        self.send
            .as_mut()
            .ok_or_else(|| anyhow!("no connection to {}", self.addr))
    }

    /// One `tools/call`, on a connection of its own (`Connection: close`): a request is then
    /// always the first on its connection, so when the replica serving it dies, haproxy
    /// answers `502` naming that replica. On a kept-alive connection it would close the
    /// connection without a word instead (so that the client may retry), and the failure
    /// could not be told from one of the balancer's own.
    async fn call(&mut self, tool: &str, arguments: Value) -> Result<Reply> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                         "params": {"name": tool, "arguments": arguments}});
        let host = self.addr.to_string();
        let mut req = Request::builder()
            .method("POST")
            .uri("/mcp")
            .header("host", host)
            .header("connection", "close")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-06-18");
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(Full::new(msg.to_string().into()))?;
        self.send = None;
        let send = self.sender().await?;
        let res = send.send_request(req).await;
        self.send = None;
        let res = res?;
        let status = res.status().as_u16();
        let served_by = res
            .headers()
            .get("x-served-by")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match res.into_body().collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
            // The head arrived, the body did not: still a reply from that replica.
            Err(e) => format!("the reply's body was cut short: {e}"),
        };
        Ok(Reply {
            status,
            served_by,
            answer: mcp_http::answer(&body, id),
            body,
        })
    }
}

/// A successful tool result: its structured content and its text.
fn tool_result(reply: &Reply) -> Result<(Value, String)> {
    if reply.status != 200 {
        let mut body = reply.body.split_whitespace().collect::<Vec<_>>().join(" ");
        body.truncate(160);
        bail!("HTTP {}: {}", reply.status, body);
    }
    let a = reply
        .answer
        .as_ref()
        .ok_or_else(|| anyhow!("no JSON-RPC answer in the reply"))?;
    if let Some(e) = a.get("error") {
        bail!("JSON-RPC error: {e}");
    }
    let r = a.get("result").ok_or_else(|| anyhow!("no result: {a}"))?;
    let text: String = r
        .get("content")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    if r.get("isError") == Some(&json!(true)) {
        let mut text = text;
        text.truncate(300);
        bail!("tool error: {text}");
    }
    let s = r
        .get("structuredContent")
        .cloned()
        .ok_or_else(|| anyhow!("no structuredContent"))?;
    Ok((s, text))
}

struct Worker {
    index: usize,
    conn: Conn,
    calls: Vec<Call>,
}

impl Worker {
    /// Makes one call, checks its answer with `check`, and records it. Returns the
    /// structured content when the call succeeded and the check passed.
    async fn record(
        &mut self,
        tool: &str,
        arguments: Value,
        account: Option<&str>,
        as_of: Option<&str>,
        check: impl FnOnce(&Value, &str) -> Result<bool>,
    ) -> Option<Value> {
        let start_ms = now_ms();
        let reply = self.conn.call(tool, arguments).await;
        let end_ms = now_ms();
        let (status, served_by) = match &reply {
            Ok(r) => (r.status, r.served_by.clone()),
            Err(_) => (0, None),
        };
        let checked = reply
            .and_then(|r| tool_result(&r))
            .and_then(|(s, text)| check(&s, &text).map(|saved| (s, saved)));
        let (ok, error, saved, content) = match checked {
            Ok((s, saved)) => (true, None, saved, Some(s)),
            Err(e) => (false, Some(format!("{e:#}")), false, None),
        };
        self.calls.push(Call {
            worker: self.index,
            tool: tool.to_string(),
            start_ms,
            end_ms,
            ok,
            status,
            served_by,
            error,
            account: account.map(str::to_string),
            as_of: as_of.map(str::to_string),
            saved,
        });
        content
    }

    /// One round without an import, so that the store keeps its size from one phase to the
    /// next: a demo account's plan drafted for a day of its own (a new history row), its
    /// health and its history. Not part of the durability check (`account` unset).
    async fn plan_round(&mut self, round: usize) {
        let account = READ_ACCOUNTS
            .get((self.index + round) % READ_ACCOUNTS.len())
            .copied()
            .unwrap_or(TEMPLATE);
        let offset = ((self.index * 1000 + round) % 3000) as i64;
        let day = Day::parse("2026-11-15")
            .map(|d| d.plus_days(offset).to_string())
            .unwrap_or_else(|_| "2026-11-15".into());
        self.record(
            "draft_plan",
            json!({"account": account, "as_of": day}),
            None,
            None,
            |s, _| match s.get("outcome").and_then(Value::as_str) {
                Some(_) => Ok(true),
                None => Err(anyhow!("no outcome in {s}")),
            },
        )
        .await;
        self.record(
            "check_health",
            json!({"account": account}),
            None,
            None,
            |s, _| {
                if s.get("account") == Some(&json!(account)) && s.get("score").is_some() {
                    Ok(true)
                } else {
                    Err(anyhow!("check_health {account}: {s}"))
                }
            },
        )
        .await;
        self.record(
            "plan_history",
            json!({"account": account}),
            None,
            None,
            |s, _| match s.get("total_plans").and_then(Value::as_u64) {
                Some(n) if n > 0 => Ok(true),
                _ => Err(anyhow!("plan_history {account} shows no plan: {s}")),
            },
        )
        .await;
    }

    /// One round of a CSM's work on a new account `id`.
    async fn round(&mut self, id: &str, dir: &Path, template: &Value, round: usize) {
        let mut snapshot = template.clone();
        if let Some(o) = snapshot.as_object_mut() {
            o.insert("id".into(), json!(id));
            o.insert("name".into(), json!(format!("Load {id}")));
        }
        let file = format!("{id}.json");
        if let Err(e) = std::fs::write(dir.join(&file), snapshot.to_string()) {
            eprintln!("team_load: cannot write {file}: {e}");
            return;
        }
        let imported = self
            .record(
                "import_accounts",
                json!({"file": file}),
                Some(id),
                None,
                |s, _| {
                    if s.get("written") == Some(&json!(true)) && s.get("created") == Some(&json!(1))
                    {
                        Ok(true)
                    } else {
                        Err(anyhow!("import did not create the account: {s}"))
                    }
                },
            )
            .await
            .is_some();
        let mut saved = 0u64;
        if imported {
            for day in DAYS {
                let got = self
                    .record(
                        "draft_plan",
                        json!({"account": id, "as_of": day}),
                        Some(id),
                        Some(day),
                        |s, text| {
                            if s.get("outcome").and_then(Value::as_str).is_none() {
                                bail!("no outcome in {s}");
                            }
                            Ok(!text.contains("was not saved to the plan history"))
                        },
                    )
                    .await;
                if let Some(c) = self.calls.last()
                    && got.is_some()
                    && c.saved
                {
                    saved += 1;
                }
            }
        }
        let read = READ_ACCOUNTS
            .get((self.index + round) % READ_ACCOUNTS.len())
            .copied()
            .unwrap_or(TEMPLATE);
        self.record(
            "check_health",
            json!({"account": read}),
            None,
            None,
            |s, _| {
                if s.get("account") == Some(&json!(read)) && s.get("score").is_some() {
                    Ok(true)
                } else {
                    Err(anyhow!("check_health {read}: {s}"))
                }
            },
        )
        .await;
        if imported {
            // Read-your-writes across replicas: both plans were saved, perhaps by two other
            // replicas, and this read, on any replica, must see them.
            self.record(
                "plan_history",
                json!({"account": id}),
                Some(id),
                None,
                |s, _| {
                    let total = s.get("total_plans").and_then(Value::as_u64).unwrap_or(0);
                    if total >= saved {
                        Ok(true)
                    } else {
                        Err(anyhow!(
                            "stale read: plan_history shows {total} plans, {saved} were saved"
                        ))
                    }
                },
            )
            .await;
        }
    }
}

fn percentile(sorted: &[f64], pct: usize) -> f64 {
    let i = (sorted.len() * pct / 100).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or(0.0)
}

fn addr_of(url: &str) -> Result<SocketAddr> {
    url.strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("expected http://IP:PORT/mcp, got {url}"))
}

/// The options after the URL, as flag -> values (a flag may repeat or take several values).
fn flags(args: impl Iterator<Item = String>) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for a in args {
        if let Some(f) = a.strip_prefix("--") {
            out.entry(f.to_string()).or_default();
            current = Some(f.to_string());
        } else if let Some(f) = &current {
            out.entry(f.clone()).or_default().push(a);
        } else {
            bail!("unexpected argument {a}");
        }
    }
    Ok(out)
}

fn one<'a>(f: &'a BTreeMap<String, Vec<String>>, name: &str) -> Result<&'a str> {
    f.get(name)
        .and_then(|v| v.first())
        .map(String::as_str)
        .with_context(|| format!("--{name} is required"))
}

async fn load(url: &str, f: &BTreeMap<String, Vec<String>>) -> Result<()> {
    let addr = addr_of(url)?;
    let clients: usize = one(f, "clients")?.parse().context("--clients")?;
    let seconds: f64 = one(f, "seconds")?.parse().context("--seconds")?;
    let dir = PathBuf::from(one(f, "import-dir")?);
    let tag = one(f, "tag")?.to_string();
    let imports = match f.get("imports").and_then(|v| v.first()).map(String::as_str) {
        None | Some("yes") => true,
        Some("no") => false,
        Some(other) => bail!("--imports yes|no, not {other}"),
    };
    let out = PathBuf::from(one(f, "out")?);

    // The template: a demo account's snapshot as the store holds it.
    let mut conn = Conn::new(addr);
    let reply = conn
        .call("get_account", json!({"account": TEMPLATE}))
        .await?;
    let (content, _) = tool_result(&reply).context("get_account for the template")?;
    let template = content
        .get("snapshot")
        .cloned()
        .ok_or_else(|| anyhow!("get_account gave no snapshot"))?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|index| {
            let dir = dir.clone();
            let template = template.clone();
            let tag = tag.clone();
            tokio::spawn(async move {
                let mut w = Worker {
                    index,
                    conn: Conn::new(addr),
                    calls: Vec::new(),
                };
                let mut round = 0;
                while Instant::now() < deadline {
                    let id = format!("team-{tag}-{index}-{round}");
                    if imports {
                        w.round(&id, &dir, &template, round).await;
                    } else {
                        w.plan_round(round).await;
                    }
                    round += 1;
                }
                w.calls
            })
        })
        .collect();
    let mut calls = Vec::new();
    for t in tasks {
        calls.extend(t.await?);
    }
    let wall = started.elapsed().as_secs_f64();
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&out).with_context(|| format!("cannot write {}", out.display()))?,
    );
    for c in &calls {
        writeln!(file, "{}", serde_json::to_string(c)?)?;
    }
    file.flush()?;
    let failed = calls.iter().filter(|c| !c.ok).count();
    let mut lat: Vec<f64> = calls
        .iter()
        .filter(|c| c.ok)
        .map(|c| c.end_ms - c.start_ms)
        .collect();
    lat.sort_by(f64::total_cmp);
    let mut per_replica: BTreeMap<String, usize> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.ok) {
        *per_replica
            .entry(c.served_by.clone().unwrap_or_else(|| "?".into()))
            .or_default() += 1;
    }
    let spread: Vec<String> = per_replica
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    println!(
        "| {} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {} |",
        calls.len(),
        failed,
        wall,
        calls.len() as f64 / wall,
        percentile(&lat, 50),
        percentile(&lat, 99),
        spread.join(", ")
    );
    Ok(())
}

async fn verify(url: &str, f: &BTreeMap<String, Vec<String>>) -> Result<()> {
    let addr = addr_of(url)?;
    let mut calls: Vec<Call> = Vec::new();
    for path in f.get("records").into_iter().flatten() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            calls.push(serde_json::from_str(line).with_context(|| format!("a line of {path}"))?);
        }
    }
    if calls.is_empty() {
        bail!("no calls recorded: the load did not run");
    }
    let killed = f.get("killed").and_then(|v| v.first()).cloned();
    let window: Option<(f64, f64)> = match f.get("kill-window").and_then(|v| v.first()) {
        Some(w) => {
            let (a, b) = w.split_once(',').context("--kill-window MS0,MS1")?;
            Some((a.parse()?, b.parse()?))
        }
        None => None,
    };
    let restarted: Option<f64> = match f.get("restarted-at").and_then(|v| v.first()) {
        Some(r) => Some(r.parse()?),
        None => None,
    };
    let mut broken: Vec<String> = Vec::new();

    // 1. Failures: only calls in flight on the killed replica when it was killed.
    let failed: Vec<&Call> = calls.iter().filter(|c| !c.ok).collect();
    let mut in_flight = 0;
    for c in &failed {
        let on_killed = killed.is_some() && c.served_by == killed;
        let spans = window.is_some_and(|(k0, k1)| c.start_ms <= k1 && c.end_ms >= k0);
        if on_killed && spans {
            in_flight += 1;
        } else {
            broken.push(format!(
                "{} (worker {}) failed and was not in flight on the killed replica: served by {}, {:.0}..{:.0} ms, {}",
                c.tool,
                c.worker,
                c.served_by.as_deref().unwrap_or("none"),
                c.start_ms,
                c.end_ms,
                c.error.as_deref().unwrap_or("")
            ));
        }
    }
    let mut by_tool: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &failed {
        *by_tool.entry(c.tool.as_str()).or_default() += 1;
    }
    let tools: Vec<String> = by_tool.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!(
        "calls: {} in all, {} failed ({}), {} of them in flight on {} when it was killed",
        calls.len(),
        failed.len(),
        if tools.is_empty() {
            "none".to_string()
        } else {
            tools.join(", ")
        },
        in_flight,
        killed.as_deref().unwrap_or("no replica")
    );
    for c in failed.iter().take(5) {
        println!(
            "  failed: {} on {} after {:.0} ms: {}",
            c.tool,
            c.served_by.as_deref().unwrap_or("none"),
            c.end_ms - c.start_ms,
            c.error.as_deref().unwrap_or("")
        );
    }

    // Latency per tool, over every phase.
    let mut per_tool: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.ok) {
        per_tool
            .entry(c.tool.as_str())
            .or_default()
            .push(c.end_ms - c.start_ms);
    }
    let lines: Vec<String> = per_tool
        .iter_mut()
        .map(|(t, l)| {
            l.sort_by(f64::total_cmp);
            format!(
                "{t} {} calls, p50 {:.1} ms, p99 {:.1} ms",
                l.len(),
                percentile(l, 50),
                percentile(l, 99)
            )
        })
        .collect();
    println!("latency by tool: {}", lines.join("; "));

    // 2. Durability: every acknowledged import and saved plan, read back through the balancer.
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut not_saved = 0;
    for c in calls.iter().filter(|c| c.ok) {
        match (c.tool.as_str(), &c.account, &c.as_of) {
            ("import_accounts", Some(a), _) => {
                expected.entry(a.clone()).or_default();
            }
            ("draft_plan", Some(a), Some(d)) if c.saved => {
                expected.entry(a.clone()).or_default().push(d.clone());
            }
            ("draft_plan", Some(_), Some(_)) => not_saved += 1,
            _ => {}
        }
    }
    let plans: usize = expected.values().map(Vec::len).sum();
    let accounts: Vec<(String, Vec<String>)> = expected.into_iter().collect();
    let checkers = 8;
    let chunk = accounts.len().div_ceil(checkers).max(1);
    let tasks: Vec<_> = accounts
        .chunks(chunk)
        .map(|part| {
            let part = part.to_vec();
            tokio::spawn(async move {
                let mut conn = Conn::new(addr);
                let mut lost = Vec::new();
                for (account, days) in part {
                    match conn.call("get_account", json!({"account": account})).await {
                        Ok(r) => match tool_result(&r) {
                            Ok((s, _)) => {
                                let id = s.get("snapshot").and_then(|x| x.get("id"));
                                if id != Some(&json!(account)) {
                                    lost.push(format!("imported account {account}: got {id:?}"));
                                }
                            }
                            Err(e) => lost.push(format!("imported account {account}: {e:#}")),
                        },
                        Err(e) => lost.push(format!("get_account {account}: {e:#}")),
                    }
                    if days.is_empty() {
                        continue;
                    }
                    match conn
                        .call("plan_history", json!({"account": account, "limit": 100}))
                        .await
                        .and_then(|r| tool_result(&r))
                    {
                        Ok((s, _)) => {
                            let have: Vec<&str> = s
                                .get("plans")
                                .and_then(Value::as_array)
                                .map(|p| {
                                    p.iter()
                                        .filter_map(|x| x.get("as_of").and_then(Value::as_str))
                                        .collect()
                                })
                                .unwrap_or_default();
                            for d in &days {
                                if !have.contains(&d.as_str()) {
                                    lost.push(format!(
                                        "saved plan {account} {d}: not in plan_history {have:?}"
                                    ));
                                }
                            }
                        }
                        Err(e) => lost.push(format!("plan_history {account}: {e:#}")),
                    }
                }
                lost
            })
        })
        .collect();
    let mut lost = Vec::new();
    for t in tasks {
        lost.extend(t.await?);
    }
    println!(
        "durability: {} acknowledged imports and {} acknowledged saved plans read back through the balancer, {} missing{}",
        accounts.len(),
        plans,
        lost.len(),
        if not_saved > 0 {
            format!(" ({not_saved} drafts answered that the plan was not saved, so not counted)")
        } else {
            String::new()
        }
    );
    for l in lost.iter().take(5) {
        println!("  lost: {l}");
    }
    broken.extend(lost.into_iter().map(|l| format!("lost: {l}")));

    // 3. The restarted replica is back in rotation.
    if let (Some(name), Some(at)) = (&killed, restarted) {
        let after = calls
            .iter()
            .filter(|c| c.ok && c.served_by.as_ref() == Some(name) && c.start_ms >= at)
            .count();
        let between = window.map_or(0, |(_, k1)| {
            calls
                .iter()
                .filter(|c| {
                    c.ok && c.served_by.as_ref() == Some(name) && c.start_ms > k1 && c.start_ms < at
                })
                .count()
        });
        println!(
            "{name}: {between} calls answered between its kill and its restart, {after} after its restart"
        );
        if after == 0 {
            broken.push(format!("{name} answered no call after its restart"));
        }
        if between > 0 {
            broken.push(format!("{name} answered {between} calls while it was down"));
        }
    }

    if broken.is_empty() {
        println!("invariants: all hold");
        Ok(())
    } else {
        for b in broken.iter().take(20) {
            println!("BROKEN: {b}");
        }
        bail!("{} invariants broken", broken.len())
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: team_load load|verify http://IP:PORT/mcp [flags]";
    let mode = args.next().context(usage)?;
    let url = args.next().context(usage)?;
    let f = flags(args)?;
    match mode.as_str() {
        "load" => load(&url, &f).await,
        "verify" => verify(&url, &f).await,
        other => bail!("unknown mode {other}; {usage}"),
    }
}
