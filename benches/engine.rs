//! The engine in process, per demo account, against a baseline measured in the same run:
//! parsing and validating the same snapshot's JSON text (what any server must do before it
//! can compute anything).
//!
//! - `parse`: JSON text to a validated `Snapshot` (`serde_json` then `Snapshot::from_json`);
//! - `draft_plan`: all eight steps and the markdown, from the parsed snapshot;
//! - `tool_call`: the whole `draft_plan` tool in process, as the server runs it for
//!   `{"account": ...}`: resolve the account, compute, check and serialise the answer.
//!
//! After criterion's own report, prints a table of medians and the ratio draft_plan / parse.
//! `scripts/bench` runs it with short measurement times.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use std::hint::black_box;

use criterion::Criterion;
use expansion_planner::accounts::Demo;
use expansion_planner::engine::{Policy, draft_plan};
use expansion_planner::mcp::ExpansionServer;
use expansion_planner::model::Snapshot;
use expansion_planner::service::Planner;

/// The server's allocator (src/main.rs), so that these figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Account {
    key: String,
    name: String,
    text: String,
    snapshot: Snapshot,
}

fn accounts() -> Vec<Account> {
    let Ok(demo) = expansion_planner::demo::portfolio() else {
        eprintln!("the demo portfolio does not load");
        return Vec::new();
    };
    demo.iter()
        .enumerate()
        .map(|(i, s)| Account {
            key: s.id.clone().unwrap_or_else(|| format!("account-{i}")),
            name: s.name.clone(),
            text: serde_json::to_string(s).unwrap_or_default(),
            snapshot: s.clone(),
        })
        .collect()
}

fn output_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion")
}

fn bench(c: &mut Criterion, accounts: &[Account]) {
    let policy = Policy::default();
    let server = ExpansionServer::new(Planner::new(Policy::default(), Arc::new(Demo)));
    for a in accounts {
        let Some(as_of) = a.snapshot.as_of else {
            continue;
        };
        let mut g = c.benchmark_group(format!("engine_{}", a.key));
        g.bench_function("parse", |b| {
            b.iter(|| {
                let v: serde_json::Value =
                    serde_json::from_str(black_box(&a.text)).unwrap_or_default();
                Snapshot::from_json(v).ok()
            })
        });
        g.bench_function("draft_plan", |b| {
            b.iter(|| draft_plan(black_box(&a.snapshot), &policy, as_of))
        });
        let mut args = serde_json::Map::new();
        args.insert("account".into(), a.name.clone().into());
        g.bench_function("tool_call", |b| {
            b.iter(|| {
                server
                    .call("draft_plan", Some(black_box(args.clone())))
                    .ok()
            })
        });
        g.finish();
    }
}

/// The median of one benchmark, in nanoseconds, from criterion's estimates.
fn median_ns(dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}

fn summary(dir: &Path, accounts: &[Account]) {
    let policy = Policy::default();
    let mut rows = Vec::new();
    for a in accounts {
        let group = format!("engine_{}", a.key);
        let (Some(parse), Some(plan), Some(call)) = (
            median_ns(dir, &group, "parse"),
            median_ns(dir, &group, "draft_plan"),
            median_ns(dir, &group, "tool_call"),
        ) else {
            continue;
        };
        let outcome = a
            .snapshot
            .as_of
            .map(|d| draft_plan(&a.snapshot, &policy, d).outcome.as_str())
            .unwrap_or("?");
        rows.push((a.name.clone(), outcome, a.text.len(), parse, plan, call));
    }
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "| {:<22} | {:<9} | {:>10} | {:>11} | {:>11} | {:>11} | {:>18} |",
        "engine (in process)",
        "outcome",
        "JSON bytes",
        "parse",
        "draft_plan",
        "tool_call",
        "draft_plan / parse"
    );
    println!(
        "|{:-<24}|{:-<11}|{:->12}|{:->13}|{:->13}|{:->13}|{:->20}|",
        "", "", "", "", "", "", ""
    );
    let mut log_sum = 0.0;
    for (name, outcome, bytes, parse, plan, call) in &rows {
        let ratio = plan / parse;
        log_sum += ratio.ln();
        println!(
            "| {:<22} | {:<9} | {:>10} | {:>8.1} µs | {:>8.1} µs | {:>8.1} µs | {:>17.2}x |",
            name,
            outcome,
            bytes,
            parse / 1e3,
            plan / 1e3,
            call / 1e3,
            ratio
        );
    }
    println!(
        "\ndraft_plan / parse, geometric mean over {} accounts: {:.2}x",
        rows.len(),
        (log_sum / rows.len() as f64).exp()
    );
}

fn main() {
    let dir = output_dir();
    let accounts = accounts();
    let mut c = Criterion::default()
        .output_directory(&dir)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench(&mut c, &accounts);
    c.final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` runs each once and writes nothing.
    if std::env::args().any(|a| a == "--bench") {
        summary(&dir, &accounts);
    }
}
