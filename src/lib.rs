//! expansion-planner: a customer-success expansion playbook as deterministic, auditable
//! tools. `engine` is the pure core; `mcp`, `cli` and `demo` are the adapters around it.

pub mod accounts;
pub mod answers;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod http;
pub mod listing;
pub mod logging;
pub mod markdown;
pub mod mcp;
pub mod model;
pub mod prompts;
pub mod service;
pub mod store;
pub mod views;

/// The JSON Schemas of the MCP surface, at the path they had before they moved into `mcp`.
pub use mcp::schemas;
