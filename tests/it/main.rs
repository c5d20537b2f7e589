//! One integration test binary (one link step on a 2-core machine), one module per area.

// This whole crate is tests: a failed unwrap is a failed test, which is what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod apps;
mod badinput;
mod cases;
mod cli;
mod escaping;
mod faults;
mod framing;
mod http;
mod mcp;
mod pg;
mod pg_store;
mod props;
mod runtime;
mod schemas;
mod screen;
mod snapshots;
mod store;
mod surface;
mod wire;

/// The repository root, for data files.
/// What the draft_plan tool answers for a plan by default (`detail: summary`); the CLI's
/// `--format json` prints the plan itself.
pub fn plan_answer(plan: expansion_planner::model::results::PlanResult) -> serde_json::Value {
    use expansion_planner::answers::{Detail, PlanAnswer};
    serde_json::to_value(PlanAnswer::new(plan, Detail::Summary)).unwrap()
}

pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
