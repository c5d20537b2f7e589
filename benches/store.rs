//! Store bench: a synthetic portfolio generator and one timed phase per run, so that
//! `scripts/bench-store` can measure each phase's wall time and peak RSS separately.
//!
//! ```text
//! bench_store gen N FILE.jsonl      write N synthetic accounts, 90 days of daily history
//!                                   each (BENCH_HISTORY=weekly: 13 weekly readings)
//! bench_store parse FILE.jsonl      baseline: serde_json parse of every snapshot, no checks
//! bench_store import FILE.jsonl DB  import into a fresh database (timed); DB is an SQLite
//!                                   file or a PostgreSQL URL (of an empty database)
//! bench_store scan DB               plan_segment over every stored account (timed), rows
//!                                   kept from import where the store has them
//! bench_store scan-live DB          the same, as_of the day after the data's: every account
//!                                   assessed (timed)
//! bench_store read DB               baseline: the same accounts read whole from the same
//!                                   store, by the same threads, and dropped
//! bench_store assess FILE.jsonl     baseline: the same segment plan from snapshots in memory
//! ```
//!
//! `scan` and `read` also print the peak anonymous memory (heap, stacks) they reached,
//! sampled from /proc/self/status every 5 ms: the peak RSS that /usr/bin/time reports also
//! counts the pages of the database file that SQLite maps (up to 1 GiB a connection), which
//! grow with the file but are page cache, not memory the process holds on to.
//!
//! The allocator is mimalloc, as in the `expansion-planner` binary, so that `scan` costs
//! what the product's `scan` and `plan_segment` cost.
//!
//! Not a test: nothing here asserts a time. Figures go to the README by hand.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use expansion_planner::accounts::Accounts;
use expansion_planner::engine::{Policy, segment};
use expansion_planner::model::portfolio::AccountFilter;
use expansion_planner::model::{Day, Snapshot};
use expansion_planner::service::Planner;
use expansion_planner::store::{Postgres, Sqlite, Store, Stored, postgres};

/// The `as_of` of every generated account.
const DATA_AS_OF: &str = "2026-11-15";

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// This process's anonymous resident memory (heap, stacks), in KiB; 0 when unknown.
fn rss_anon_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Samples `rss_anon_kib` every 5 ms on its own thread until dropped; `peak_mib` is the
/// highest sample.
struct AnonPeak {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AnonPeak {
    fn start() -> AnonPeak {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_anon_kib()));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_anon_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        AnonPeak {
            stop,
            peak,
            thread: Some(thread),
        }
    }
    fn peak_mib(&self) -> f64 {
        self.peak.fetch_max(rss_anon_kib(), Ordering::Relaxed);
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for AnonPeak {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The threads `Planner::segment_rows` reads with, for the `read` baseline.
fn parts() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const SEGMENTS: [&str; 3] = ["Enterprise", "Mid-Market", "SMB"];
const GOAL_STATUS: [&str; 10] = [
    "achieved", "achieved", "on_track", "on_track", "on_track", "on_track", "on_track", "on_track",
    "on_track", "at_risk",
];

fn account(i: u64, rng: &mut Rng, as_of: Day) -> serde_json::Value {
    let segment = SEGMENTS.get((i % 3) as usize).copied().unwrap_or("SMB");
    let seats = match segment {
        "Enterprise" => 200 + rng.below(800),
        "Mid-Market" => 40 + rng.below(160),
        _ => 5 + rng.below(35),
    };
    let price = 300 + rng.below(500);
    // Utilisation between 45 % and 115 %, drifting over the 90 days.
    let end_pct = 45 + rng.below(71);
    let start_pct = (end_pct as i64 + rng.below(41) as i64 - 20).clamp(5, 120) as u64;
    // BENCH_HISTORY=weekly writes 13 weekly readings over the same 90 days.
    let step = if std::env::var("BENCH_HISTORY").as_deref() == Ok("weekly") {
        7
    } else {
        1
    };
    let history: Vec<serde_json::Value> = (0..90)
        .rev()
        .step_by(step)
        .collect::<Vec<i64>>()
        .into_iter()
        .rev()
        .map(|d| {
            let pct = start_pct as i64 + (end_pct as i64 - start_pct as i64) * d / 89;
            let noise = rng.below(5) as i64 - 2;
            let users = ((seats as i64 * pct) / 100 + noise).max(0);
            serde_json::json!({
                "date": as_of.plus_days(d - 89).to_string(),
                "active_users": users,
            })
        })
        .collect();
    let active = history
        .last()
        .and_then(|h| h["active_users"].as_u64())
        .unwrap_or(0);
    let score = 62 + rng.below(37);
    let mut signals = Vec::new();
    if rng.below(3) > 0 {
        let team = active + 5 + rng.below(30);
        signals.push(serde_json::json!({
            "kind": "team_growth", "date": as_of.plus_days(-(rng.below(40) as i64)).to_string(),
            "evidence": "Head of ops said two teams are joining next quarter",
            "source": "customer", "team_size": team, "users_with_access": active,
        }));
    }
    if rng.below(2) == 0 {
        signals.push(serde_json::json!({
            "kind": "feature_request", "date": as_of.plus_days(-(rng.below(60) as i64)).to_string(),
            "evidence": "Asked for SSO and audit logs in the QBR", "source": "customer",
            "feature": "Audit logs", "tier": "Enterprise",
        }));
    }
    let mut churn = Vec::new();
    if rng.below(20) == 0 {
        churn.push(
            serde_json::json!({"kind": "champion_left", "since": as_of.plus_days(-20).to_string()}),
        );
    }
    serde_json::json!({
        "id": format!("SYN-{i:06}"),
        "name": format!("Synthetic Account {i:06}"),
        "segment": segment,
        "csm": format!("CSM {:02}", i % 40),
        "account_executive": format!("AE {:02}", i % 25),
        "currency": "USD",
        "as_of": as_of.to_string(),
        "contract": {
            "arr": seats * price, "licensed_seats": seats, "price_per_seat": price,
            "plan": "Business", "renewal_date": as_of.plus_days(30 + rng.below(300) as i64).to_string(),
            "renewal_contentious": rng.below(20) == 0, "planning_month": 1 + rng.below(12),
        },
        "usage": {
            "active_users": active,
            "history": history,
            "features": [
                {"name": "Dashboards", "core": true, "active_users": active / 2 + 1},
                {"name": "Workflows", "core": true, "active_users": active / 3},
            ],
        },
        "health": {
            "score": score,
            "relationship_score": 60 + rng.below(40),
            "value_score": 60 + rng.below(40),
            "churn_signals": churn,
            "goals": [{"goal": "Consolidate reporting", "status": GOAL_STATUS.get(rng.below(10) as usize).copied().unwrap_or("on_track")}],
            "relationship": {
                "responsive": rng.below(20) > 0, "engaged": rng.below(20) > 0,
                "sponsor": "VP Operations", "executive_sponsor_confirmed": rng.below(3) > 0,
            },
        },
        "signals": signals,
        "events": [{"kind": "qbr", "date": as_of.plus_days(20 + rng.below(60) as i64).to_string()}],
    })
}

fn generate(n: u64, out: &Path) -> Res<()> {
    let as_of = Day::parse(DATA_AS_OF)?;
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 1..=n {
        serde_json::to_writer(&mut w, &account(i, &mut rng, as_of))?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    eprintln!("wrote {n} accounts to {}", out.display());
    Ok(())
}

/// The store DB names: a PostgreSQL URL (`postgres://...`) or an SQLite file.
fn open(db: &str) -> Res<Arc<dyn Store>> {
    if postgres::is_url(db) {
        Ok(Arc::new(Postgres::open(db)?))
    } else {
        Ok(Arc::new(Sqlite::open(Path::new(db))?))
    }
}

fn read_snapshots(file: &Path) -> Res<Vec<Snapshot>> {
    let r = std::io::BufReader::new(std::fs::File::open(file)?);
    let mut out = Vec::new();
    for line in r.lines() {
        let line = line?;
        if !line.trim().is_empty() {
            out.push(serde_json::from_str::<Snapshot>(&line)?);
        }
    }
    Ok(out)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match arg(0) {
        "gen" => generate(arg(1).parse()?, Path::new(arg(2))),
        "parse" => {
            let t = Instant::now();
            let n = read_snapshots(Path::new(arg(1)))?.len();
            println!("parse: {n} snapshots in {:.3} s", t.elapsed().as_secs_f64());
            Ok(())
        }
        "import" => {
            // An SQLite file is imported afresh; a PostgreSQL database must be a new one.
            if !postgres::is_url(arg(2)) {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", arg(2)));
                }
            }
            let t = Instant::now();
            let store = open(arg(2))?;
            // As `expansion-planner import` does: rows kept under the default policy.
            store.keep_segment_rows(Arc::new(Policy::default()));
            let report = store.import(Path::new(arg(1)), None, false)?;
            let secs = t.elapsed().as_secs_f64();
            if !report.ok() {
                return Err(format!("import failed: {:?}", report.errors.first()).into());
            }
            println!(
                "import: {} accounts ({} created) in {secs:.3} s",
                report.rows, report.created
            );
            Ok(())
        }
        // `scan`: as_of not given, so each account on its own `as_of` (what the assistant
        // asks for by default), where a store may answer with the rows it kept from import.
        // `scan-live`: as_of the day after the data's, so every account is assessed.
        phase @ ("scan" | "scan-live") => {
            let store = open(arg(1))?;
            let planner = Planner::new(Policy::default(), Accounts::ready(store.clone()));
            let as_of = if phase == "scan" {
                None
            } else {
                Some(Day::parse(DATA_AS_OF)?.plus_days(1))
            };
            let anon = AnonPeak::start();
            let t = Instant::now();
            let plan = planner.plan_segment(&AccountFilter::default(), as_of)?;
            let secs = t.elapsed().as_secs_f64();
            let held = rss_anon_kib() as f64 / 1024.0;
            // Untimed: how many rows came kept from import, so that the figure says which
            // path it measured.
            let kept = AtomicU64::new(0);
            store.scan_segment(
                &AccountFilter::default(),
                parts(),
                segment::row_fingerprint(&planner.policy),
                as_of,
                &|_, _, stored| {
                    if matches!(stored, Stored::Row(_)) {
                        kept.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                },
            )?;
            println!(
                "{phase}: plan_segment over {} accounts in {secs:.3} s ({} blocked, {} not ready, {} ready; {} rows kept from import); anon peak {:.0} MiB, {held:.0} MiB held with the plan",
                plan.total_accounts,
                plan.distribution.blocked,
                plan.distribution.not_ready,
                plan.distribution.ready,
                kept.load(Ordering::Relaxed),
                anon.peak_mib(),
            );
            Ok(())
        }
        "read" => {
            let store = open(arg(1))?;
            let n = AtomicU64::new(0);
            let anon = AnonPeak::start();
            let t = Instant::now();
            store.scan_parallel(&AccountFilter::default(), parts(), &|_, s| {
                n.fetch_add(1, Ordering::Relaxed);
                drop(s);
                Ok(())
            })?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "read: {} accounts read whole in {secs:.3} s ({} threads); anon peak {:.0} MiB",
                n.load(Ordering::Relaxed),
                parts(),
                anon.peak_mib()
            );
            Ok(())
        }
        "assess" => {
            let snapshots = read_snapshots(Path::new(arg(1)))?;
            let policy = Policy::default();
            let today = Day::parse("2026-11-29")?;
            let t = Instant::now();
            let rows: Vec<_> = snapshots
                .iter()
                .map(|s| segment::assess(s, &policy, s.as_of.unwrap_or(today)))
                .collect();
            let plan = segment::summarise(&AccountFilter::default(), None, today, rows, vec![]);
            println!(
                "assess: segment plan from {} in-memory snapshots in {:.3} s (one thread)",
                plan.total_accounts,
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        _ => Err(
            "usage: bench_store gen N FILE | parse FILE | import FILE DB | scan DB | read DB | assess FILE"
                .into(),
        ),
    }
}
