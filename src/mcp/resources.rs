//! Resources: the active policy, the rules the server enforces, the snapshot schema, and
//! one resource per known account.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::engine::Policy;
use crate::model::Snapshot;

pub const POLICY_URI: &str = "expansion://policy";
pub const PLAYBOOK_URI: &str = "expansion://playbook";
pub const SCHEMA_URI: &str = "expansion://schema/account";
pub const ACCOUNT_PREFIX: &str = "expansion://accounts/";
pub const ACCOUNT_TEMPLATE: &str = "expansion://accounts/{name}";

/// Unreserved characters (RFC 3986) stay as they are; everything else is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn account_uri(name: &str) -> String {
    format!("{ACCOUNT_PREFIX}{}", utf8_percent_encode(name, SEGMENT))
}

/// The account name in an account URI, decoded.
pub fn account_name(uri: &str) -> Option<String> {
    let raw = uri.strip_prefix(ACCOUNT_PREFIX)?;
    if raw.is_empty() {
        return None;
    }
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

pub fn policy_json(p: &Policy) -> String {
    serde_json::to_string_pretty(p).unwrap_or_default()
}

pub fn account_json(s: &Snapshot) -> String {
    serde_json::to_string_pretty(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_uris_round_trip() {
        for name in ["Northwind", "Acme Corp", "Café/Ünïcode & Co"] {
            assert_eq!(account_name(&account_uri(name)).as_deref(), Some(name));
        }
        assert_eq!(account_uri("Acme Corp"), "expansion://accounts/Acme%20Corp");
        assert_eq!(account_name("expansion://accounts/"), None);
    }
}
