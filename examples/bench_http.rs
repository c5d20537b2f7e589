//! Load bench for `serve --http` (a measurement, not a timed test). Each of N clients has
//! its own connection and session and makes M `check_health` calls on demo accounts; the
//! same clients make M `GET /healthz` and M MCP `ping`s first, the baseline measured in the
//! same run, so the figures can be read as a ratio on any machine.
//!
//! Run it through `scripts/bench-http`, which builds in release and starts the server:
//! `bench_http URL [--clients 50] [--calls 200]`. Exits 1 if any call failed.

#[path = "common/mcp_http.rs"]
mod mcp_http;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const ACCOUNTS: [&str; 6] = [
    "Northwind",
    "Bluefin Logistics",
    "Crestline Health",
    "Meridian Freight",
    "Pinecrest Software",
    "Vantage Robotics",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    Healthz,
    Ping,
    CheckHealth,
}

impl Work {
    fn label(self) -> &'static str {
        match self {
            Work::Healthz => "GET /healthz",
            Work::Ping => "MCP ping",
            Work::CheckHealth => "tools/call check_health",
        }
    }
}

struct Client {
    send: SendRequest<Full<Bytes>>,
    host: String,
    session: Option<String>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Result<Client> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client {
            send,
            host: addr.to_string(),
            session: None,
        })
    }

    /// One exchange; the status, the session header and the body.
    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Option<String>, String)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host);
        if body.is_some() {
            req = req
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json");
        }
        if let Some(s) = &self.session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-06-18");
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let res = self
            .send
            .send_request(req.body(Full::new(body.into()))?)
            .await?;
        let status = res.status().as_u16();
        let session = res
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok((
            status,
            session,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    async fn rpc(&mut self, id: u64, method: &str, params: Value) -> Result<Value> {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let (status, session, body) = self.exchange("POST", "/mcp", Some(&msg)).await?;
        if status != 200 {
            bail!("{method}: HTTP {status}: {body}");
        }
        if self.session.is_none() {
            self.session = session;
        }
        mcp_http::answer(&body, id)
            .ok_or_else(|| anyhow!("{method}: no answer to id {id} in {body}"))
    }

    async fn initialize(&mut self) -> Result<()> {
        let params = json!({"protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "bench_http", "version": "1"}});
        self.rpc(0, "initialize", params).await?;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (status, _, body) = self.exchange("POST", "/mcp", Some(&note)).await?;
        if status != 202 {
            bail!("notifications/initialized: HTTP {status}: {body}");
        }
        Ok(())
    }
}

/// One client's run: latencies of the calls that succeeded, and the failures.
async fn run_client(
    addr: SocketAddr,
    work: Work,
    calls: u64,
    index: usize,
) -> Result<(Vec<Duration>, Vec<String>)> {
    let mut client = Client::connect(addr).await?;
    if work != Work::Healthz {
        client.initialize().await?;
    }
    let mut latencies = Vec::with_capacity(calls as usize);
    let mut failures = Vec::new();
    for id in 1..=calls {
        let account = ACCOUNTS
            .get((index + id as usize) % ACCOUNTS.len())
            .copied()
            .unwrap_or("Northwind");
        let started = Instant::now();
        let outcome = match work {
            Work::Healthz => {
                client
                    .exchange("GET", "/healthz", None)
                    .await
                    .and_then(|(status, _, body)| {
                        if status == 200 && body == "ok\n" {
                            Ok(())
                        } else {
                            Err(anyhow!("healthz: HTTP {status}: {body}"))
                        }
                    })
            }
            Work::Ping => client.rpc(id, "ping", json!({})).await.and_then(|a| {
                if a.get("result") == Some(&json!({})) {
                    Ok(())
                } else {
                    Err(anyhow!("ping: {a}"))
                }
            }),
            Work::CheckHealth => client
                .rpc(
                    id,
                    "tools/call",
                    json!({"name": "check_health", "arguments": {"account": account}}),
                )
                .await
                .and_then(|a| {
                    let result = a.get("result");
                    let ok = result.and_then(|r| r.get("isError")) == Some(&json!(false))
                        && result
                            .and_then(|r| r.get("structuredContent"))
                            .and_then(|s| s.get("account"))
                            == Some(&json!(account));
                    if ok {
                        Ok(())
                    } else {
                        Err(anyhow!("check_health {account}: {a}"))
                    }
                }),
        };
        let took = started.elapsed();
        match outcome {
            Ok(()) => latencies.push(took),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    Ok((latencies, failures))
}

struct Figures {
    calls: usize,
    failed: usize,
    wall: Duration,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn per_sec(&self) -> f64 {
        self.calls as f64 / self.wall.as_secs_f64()
    }
}

fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let i = (sorted.len() * pct / 100).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or_default()
}

async fn phase(addr: SocketAddr, work: Work, clients: usize, calls: u64) -> Result<Figures> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(run_client(addr, work, calls, i)))
        .collect();
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for t in tasks {
        match t.await? {
            Ok((lat, fail)) => {
                all.extend(lat);
                failures.extend(fail);
            }
            Err(e) => failures.push(format!("client failed: {e:#}")),
        }
    }
    let wall = started.elapsed();
    for f in failures.iter().take(5) {
        eprintln!("{}: {f}", work.label());
    }
    all.sort_unstable();
    Ok(Figures {
        calls: all.len(),
        failed: failures.len(),
        wall,
        p50: percentile(&all, 50),
        p99: percentile(&all, 99),
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .context("usage: bench_http http://127.0.0.1:PORT/mcp [--clients N] [--calls M]")?;
    let mut clients = 50usize;
    let mut calls = 200u64;
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--clients" => clients = value.parse().context("--clients")?,
            "--calls" => calls = value.parse().context("--calls")?,
            other => bail!("unknown flag {other}"),
        }
    }
    let addr: SocketAddr = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("expected http://IP:PORT/mcp, got {url}"))?;

    println!("{clients} clients x {calls} calls each, against {url}");
    println!();
    println!("| workload | calls | failed | wall s | calls/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut results = Vec::new();
    for work in [Work::Healthz, Work::Ping, Work::CheckHealth] {
        let f = phase(addr, work, clients, calls).await?;
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {} | {} |",
            work.label(),
            f.calls,
            f.failed,
            f.wall.as_secs_f64(),
            f.per_sec(),
            ms(f.p50),
            ms(f.p99)
        );
        results.push(f);
    }
    if let [_, ping, tool] = results.as_slice()
        && ping.calls > 0
        && tool.calls > 0
    {
        println!();
        println!(
            "check_health vs ping (same run): throughput {:.2}x, p50 {:.2}x, p99 {:.2}x",
            tool.per_sec() / ping.per_sec(),
            tool.p50.as_secs_f64() / ping.p50.as_secs_f64(),
            tool.p99.as_secs_f64() / ping.p99.as_secs_f64()
        );
    }
    let failed: usize = results.iter().map(|f| f.failed).sum();
    if failed > 0 {
        bail!("{failed} calls failed");
    }
    Ok(())
}
