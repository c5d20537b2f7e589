//! JSON Schemas generated from the Rust types: what the tools advertise and what `schemas/`
//! holds. One function produces both, so the committed files cannot drift from the server.

pub fn all_files() -> Vec<(String, String)> {
    Vec::new()
}
