//! The stdio screen ([`expansion_planner::mcp::stdio::screen`]) on single lines: every line
//! that cannot be a message is refused with where and what, and its id where readable.

use expansion_planner::mcp::stdio::{Screened, screen};
use rmcp::model::RequestId;

fn reject(line: &str) -> (Option<RequestId>, String) {
    match screen(line.as_bytes()) {
        Screened::Reject { id, error } => (id, error.message.to_string()),
        Screened::Message(m) => panic!("accepted: {m:?}"),
        Screened::Skip => panic!("skipped"),
    }
}

#[test]
fn a_number_beyond_f64_is_answered_with_its_path_and_id() {
    let (id, msg) = reject(
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"check_health","arguments":{"snapshot":{"name":"X","contract":{"arr":1e400}}}}}"#,
    );
    assert_eq!(id, Some(RequestId::Number(7)));
    assert!(
        msg.contains("params.arguments.snapshot.contract.arr"),
        "{msg}"
    );
    assert!(msg.contains("number out of range"), "{msg}");
}

#[test]
fn a_repeated_key_is_refused() {
    let (id, msg) = reject(
        r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x","arguments":{"account":"A","account":"B"}}}"#,
    );
    assert_eq!(id, Some(RequestId::String("a".into())));
    assert!(msg.contains("`params.arguments`"), "{msg}");
    assert!(msg.contains("`account` appears twice"), "{msg}");
}

#[test]
fn deep_nesting_and_junk_are_parse_errors() {
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let (id, msg) = reject(&deep);
    assert_eq!(id, Some(RequestId::Number(1)));
    assert!(msg.contains("recursion limit"), "{msg}");
    assert!(msg.contains("levels"), "{msg}");
    let (id, msg) = reject("not json");
    assert_eq!(id, None);
    assert!(msg.starts_with("parse error"), "{msg}");
}

#[test]
fn bad_notifications_and_blank_lines_are_skipped() {
    assert!(matches!(screen(b"   "), Screened::Skip));
    assert!(matches!(
        screen(br#"{"jsonrpc":"2.0","method":"notifications/x","params":{"a":1e999}}"#),
        Screened::Skip
    ));
}

#[test]
fn a_valid_message_passes() {
    assert!(matches!(
        screen(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
        Screened::Message(_)
    ));
}
