//! The bad-input catalogue, sent through the real channel: the built binary's stdin, as raw
//! JSON-RPC lines, the way a client relays whatever a model produced. Every case must be
//! answered within the deadline with a tool error (a bad argument the model can correct) or
//! a JSON-RPC error (a message that is not a valid request) whose text names the field and
//! the problem; and after every case the server must still compute the right figures.
//!
//! Unknown fields are rejected, not ignored (DESIGN.md, "Why are unknown fields rejected?").
//! A notification is never answered, as JSON-RPC requires; a line whose `id` cannot be read
//! is answered with an error that has no `id`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::wire::{DEADLINE, Server, assert_still_answers, oversold, result_text, tool_call};

/// What the server must answer.
enum Expect {
    /// `result.isError: true`, the text containing every needle.
    Tool(&'static [&'static str]),
    /// A JSON-RPC error with this code for the request's id, the message containing every needle.
    Rpc(i64, &'static [&'static str]),
    /// A JSON-RPC error with this code and no id (the line's id could not be read).
    RpcNoId(i64, &'static [&'static str]),
    /// Nothing: the line is a notification.
    Silent,
}

struct Case {
    name: String,
    line: Box<dyn Fn(u64) -> Vec<u8>>,
    expect: Expect,
}

const PARSE: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const RESOURCE_NOT_FOUND: i64 = -32002;

/// Sets the value at a JSON pointer, creating objects on the way.
fn set(v: &mut Value, pointer: &str, new: Value) {
    let mut cur = v;
    for key in pointer.trim_start_matches('/').split('/') {
        cur = match cur {
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            other => {
                if !other.is_object() {
                    *other = json!({});
                }
                other
                    .as_object_mut()
                    .unwrap()
                    .entry(key.to_string())
                    .or_insert(Value::Null)
            }
        };
    }
    *cur = new;
}

/// The playbook example with one value replaced.
fn oversold_with(pointer: &str, new: Value) -> Value {
    let mut s = oversold();
    set(&mut s, pointer, new);
    s
}

/// A `tools/call` of `tool` with these arguments.
fn call(name: &str, tool: &'static str, args: Value, expect: Expect) -> Case {
    Case {
        name: name.to_string(),
        line: Box::new(move |id| tool_call(id, tool, &args).to_string().into_bytes()),
        expect,
    }
}

/// `check_health` on the playbook example with the value at `pointer` replaced.
fn snap(name: &str, pointer: &str, new: Value, expect: Expect) -> Case {
    call(
        name,
        "check_health",
        json!({"snapshot": oversold_with(pointer, new)}),
        expect,
    )
}

/// `check_health` on the playbook example with `raw` (any bytes, JSON or not) at `pointer`.
fn snap_raw(name: &str, pointer: &str, raw: &str, expect: Expect) -> Case {
    let text = tool_call(
        0,
        "check_health",
        &json!({"snapshot": oversold_with(pointer, json!("@@RAW@@"))}),
    )
    .to_string();
    let (head, tail) = text.split_once("\"@@RAW@@\"").unwrap();
    let (head, tail, raw) = (head.to_string(), tail.to_string(), raw.to_string());
    // The id is the first number in the line: `{"id":0,...` with serde_json's sorted keys.
    raw_line(name, expect, move |id| {
        format!(
            "{}{raw}{tail}",
            head.replacen("\"id\":0", &format!("\"id\":{id}"), 1)
        )
        .into_bytes()
    })
}

fn raw_line(name: &str, expect: Expect, line: impl Fn(u64) -> Vec<u8> + 'static) -> Case {
    Case {
        name: name.to_string(),
        line: Box::new(line),
        expect,
    }
}

/// A raw JSON-RPC line, `{id}` replaced by the request id.
fn raw(name: &str, template: &'static str, expect: Expect) -> Case {
    raw_line(name, expect, move |id| {
        template.replace("{id}", &id.to_string()).into_bytes()
    })
}

fn ten_mb(c: char) -> String {
    std::iter::repeat_n(c, 10 * 1024 * 1024).collect()
}

fn catalogue() -> Vec<Case> {
    use Expect::*;
    let history = |n: usize| -> Value {
        let start = expansion_planner::model::Day::parse("2000-01-01").unwrap();
        Value::Array(
            (0..n)
                .map(|i| json!({"date": start.plus_days(i as i64).to_string(), "active_users": 12}))
                .collect(),
        )
    };
    let deep = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    let zeros = |n: usize| format!("[{}0]", "0,".repeat(n - 1));
    let signal = json!({"kind": "advocacy", "date": "2026-11-01", "evidence": "Referred a peer", "source": "customer"});
    vec![
        // Wrong JSON types, numbers as strings.
        snap(
            "seats as a string",
            "/contract/licensed_seats",
            json!("45"),
            Tool(&[
                "snapshot.contract.licensed_seats",
                "expected a whole number",
                "without quotes",
            ]),
        ),
        snap(
            "arr as a boolean",
            "/contract/arr",
            json!(true),
            Tool(&["snapshot.contract.arr", "expected a number"]),
        ),
        snap(
            "name as a number",
            "/name",
            json!(5),
            Tool(&["snapshot.name", "expected a string"]),
        ),
        snap(
            "health as a string",
            "/health",
            json!("good"),
            Tool(&["snapshot.health", "invalid type: string"]),
        ),
        snap(
            "signals as an object",
            "/signals",
            signal.clone(),
            Tool(&["snapshot.signals", "expected an array"]),
        ),
        snap(
            "contract as a positional array",
            "/contract",
            json!([54000, 45]),
            Tool(&["snapshot.contract", "expected an object", "got an array"]),
        ),
        snap(
            "history points as arrays",
            "/usage/history",
            json!([["2026-11-01", 12]]),
            Tool(&["snapshot.usage.history[0]", "got an array"]),
        ),
        snap(
            "seats as a fraction",
            "/contract/licensed_seats",
            json!(45.5),
            Tool(&["snapshot.contract.licensed_seats", "floating point"]),
        ),
        snap(
            "seats as 45.0",
            "/contract/licensed_seats",
            json!(45.0),
            Tool(&["snapshot.contract.licensed_seats", "floating point"]),
        ),
        snap(
            "contentious as text",
            "/contract/renewal_contentious",
            json!("yes"),
            Tool(&[
                "snapshot.contract.renewal_contentious",
                "expected true or false",
            ]),
        ),
        call(
            "snapshot as a string",
            "check_health",
            json!({"snapshot": "Northwind"}),
            Tool(&["snapshot", "invalid type: string"]),
        ),
        call(
            "account as a number",
            "draft_plan",
            json!({"account": 42}),
            Tool(&["account", "expected a string"]),
        ),
        call(
            "as_of as a number",
            "draft_plan",
            json!({"account": "Northwind", "as_of": 20261115}),
            Tool(&["as_of", "expected a string"]),
        ),
        raw(
            "arguments as a string",
            r#"{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{"name":"check_health","arguments":"Northwind"}}"#,
            Rpc(INVALID_PARAMS, &["params.arguments", "expected a map"]),
        ),
        // Missing required fields.
        call(
            "no arguments at all",
            "draft_plan",
            json!({}),
            Tool(&["account", "is missing"]),
        ),
        call(
            "snapshot without name",
            "check_health",
            json!({"snapshot": {"contract": {"licensed_seats": 45}}}),
            Tool(&["snapshot.name", "is required"]),
        ),
        snap(
            "signal without evidence",
            "/signals",
            json!([{"kind": "advocacy", "date": "2026-11-01", "source": "customer"}]),
            Tool(&["snapshot.signals[0].evidence", "is required"]),
        ),
        snap(
            "goal without status",
            "/health/goals",
            json!([{"goal": "Automate reporting"}]),
            Tool(&["snapshot.health.goals[0].status", "is required"]),
        ),
        snap(
            "offer without type",
            "/offer",
            json!({"seats": 10}),
            Tool(&["snapshot.offer.type", "is required"]),
        ),
        call(
            "check_framing without draft",
            "check_framing",
            json!({"account": "Northwind"}),
            Tool(&["draft", "is required"]),
        ),
        raw(
            "tools/call without name",
            r#"{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{"arguments":{}}}"#,
            Rpc(INVALID_PARAMS, &["params.name", "is required"]),
        ),
        raw(
            "tools/call without params",
            r#"{"jsonrpc":"2.0","id":{id},"method":"tools/call"}"#,
            Rpc(INVALID_PARAMS, &["params", "required", "tools/call"]),
        ),
        // Unknown fields are rejected, naming the field and what was expected.
        call(
            "unknown argument",
            "draft_plan",
            json!({"acount": "Northwind"}),
            Tool(&["acount", "unknown field", "expected one of"]),
        ),
        snap(
            "typo in a contract field",
            "/contract/licenced_seats",
            json!(45),
            Tool(&["snapshot.contract.licenced_seats", "unknown field"]),
        ),
        snap(
            "case-variant key",
            "/Name",
            json!("X"),
            Tool(&["snapshot.Name", "unknown field"]),
        ),
        snap(
            "case-variant nested key",
            "/contract/Licensed_Seats",
            json!(45),
            Tool(&["snapshot.contract.Licensed_Seats", "unknown field"]),
        ),
        // NaN and Infinity spelled as strings.
        snap(
            "NaN as a string",
            "/contract/arr",
            json!("NaN"),
            Tool(&["snapshot.contract.arr", "NaN and Infinity are not numbers"]),
        ),
        snap(
            "Infinity as a string",
            "/health/score",
            json!("Infinity"),
            Tool(&["snapshot.health.score", "expected a number"]),
        ),
        snap(
            "-Infinity in a limit",
            "/usage/limits",
            json!([{"metric": "api_calls", "used": "-Infinity", "limit": 100}]),
            Tool(&["snapshot.usage.limits[0].used", "expected a number"]),
        ),
        // Numbers beyond i64 and f64.
        snap_raw(
            "arr beyond f64",
            "/contract/arr",
            "1e400",
            Rpc(
                PARSE,
                &[
                    "params.arguments.snapshot.contract.arr",
                    "number out of range",
                ],
            ),
        ),
        snap_raw(
            "score beyond -f64",
            "/health/score",
            "-1e309",
            Rpc(
                PARSE,
                &[
                    "params.arguments.snapshot.health.score",
                    "number out of range",
                ],
            ),
        ),
        snap_raw(
            "seats beyond u64",
            "/contract/licensed_seats",
            "99999999999999999999",
            Tool(&["snapshot.contract.licensed_seats", "floating point"]),
        ),
        snap(
            "seats beyond u32",
            "/contract/licensed_seats",
            json!(4_294_967_296_u64),
            Tool(&["snapshot.contract.licensed_seats", "from 0 to 4294967295"]),
        ),
        snap(
            "arr beyond the money cap",
            "/contract/arr",
            json!(1e14),
            Tool(&["snapshot.contract.arr", "implausibly large"]),
        ),
        snap_raw(
            "active users beyond i64",
            "/usage/active_users",
            "-9223372036854775809",
            Tool(&["snapshot.usage.active_users", "invalid"]),
        ),
        // Negative counts and zero where a count must be positive.
        snap(
            "negative active users",
            "/usage/active_users",
            json!(-1),
            Tool(&["snapshot.usage.active_users", "from 0 to 4294967295"]),
        ),
        snap(
            "negative offer seats",
            "/offer",
            json!({"type": "seats", "seats": -5}),
            Tool(&["snapshot.offer.seats", "from 0 to 4294967295"]),
        ),
        snap(
            "negative arr",
            "/contract/arr",
            json!(-100),
            Tool(&["snapshot.contract.arr", "must not be negative"]),
        ),
        snap(
            "zero seats",
            "/contract/licensed_seats",
            json!(0),
            Tool(&["snapshot.contract.licensed_seats", "must be greater than 0"]),
        ),
        snap(
            "zero limit",
            "/usage/limits",
            json!([{"metric": "api_calls", "used": 5, "limit": 0}]),
            Tool(&["snapshot.usage.limits[0].limit", "must be greater than 0"]),
        ),
        // Scores and percentages out of range.
        snap(
            "score over 100",
            "/health/score",
            json!(101),
            Tool(&["snapshot.health.score", "between 0 and 100"]),
        ),
        snap(
            "score just over 100",
            "/health/score",
            json!(100.000_000_1),
            Tool(&["snapshot.health.score", "between 0 and 100"]),
        ),
        snap(
            "component over 100",
            "/health/components",
            json!({"adoption": 150}),
            Tool(&["snapshot.health.components.adoption", "between 0 and 100"]),
        ),
        snap(
            "negative relationship score",
            "/health/relationship_score",
            json!(-0.5),
            Tool(&["snapshot.health.relationship_score", "between 0 and 100"]),
        ),
        snap(
            "tier premium 5000 %",
            "/offer",
            json!({"type": "upgrade", "tier_premium_pct": 5000}),
            Tool(&["snapshot.offer.tier_premium_pct", "between 0 and 1000"]),
        ),
        snap(
            "planning month 13",
            "/contract/planning_month",
            json!(13),
            Tool(&["snapshot.contract.planning_month", "from 1 to 12"]),
        ),
        // Impossible and ambiguous dates.
        call(
            "as_of 2027-02-30",
            "check_health",
            json!({"snapshot": oversold(), "as_of": "2027-02-30"}),
            Tool(&["as_of", "not a real calendar date"]),
        ),
        snap(
            "month 13",
            "/as_of",
            json!("2026-13-01"),
            Tool(&["snapshot.as_of", "not a real calendar date"]),
        ),
        snap(
            "29 February in a common year",
            "/contract/renewal_date",
            json!("2026-02-29"),
            Tool(&["snapshot.contract.renewal_date", "not a real calendar date"]),
        ),
        snap(
            "ambiguous 03/04/2027",
            "/as_of",
            json!("03/04/2027"),
            Tool(&["snapshot.as_of", "YYYY-MM-DD"]),
        ),
        snap(
            "unpadded 2027-3-4",
            "/as_of",
            json!("2027-3-4"),
            Tool(&["snapshot.as_of", "YYYY-MM-DD"]),
        ),
        snap(
            "a timestamp, not a day",
            "/as_of",
            json!("2026-11-15T00:00:00Z"),
            Tool(&["snapshot.as_of", "YYYY-MM-DD"]),
        ),
        snap(
            "two readings on one day",
            "/usage/history",
            json!([{"date": "2026-11-01", "active_users": 12}, {"date": "2026-11-01", "active_users": 30}]),
            Tool(&["snapshot.usage.history[1].date", "repeats 2026-11-01"]),
        ),
        // Unknown enum values, including case variants.
        snap(
            "unknown signal kind",
            "/signals",
            json!([{"kind": "upsell_signal", "date": "2026-11-01", "evidence": "x", "source": "customer"}]),
            Tool(&[
                "snapshot.signals[0].kind",
                "unknown variant `upsell_signal`",
                "expected one of",
            ]),
        ),
        snap(
            "unknown signal source",
            "/signals",
            json!([{"kind": "advocacy", "date": "2026-11-01", "evidence": "x", "source": "alien"}]),
            Tool(&["snapshot.signals[0].source", "unknown variant `alien`"]),
        ),
        snap(
            "case-variant churn kind",
            "/health/churn_signals",
            json!([{"kind": "Champion_Left"}]),
            Tool(&[
                "snapshot.health.churn_signals[0].kind",
                "unknown variant `Champion_Left`",
            ]),
        ),
        snap(
            "unknown event kind",
            "/events",
            json!([{"kind": "party", "date": "2026-11-01"}]),
            Tool(&["snapshot.events[0].kind", "unknown variant `party`"]),
        ),
        snap(
            "unknown offer type",
            "/offer",
            json!({"type": "discount"}),
            Tool(&["snapshot.offer.type", "unknown variant"]),
        ),
        snap(
            "unknown goal status",
            "/health/goals",
            json!([{"goal": "g", "status": "done"}]),
            Tool(&["snapshot.health.goals[0].status", "unknown variant `done`"]),
        ),
        // Empty and 10 MB strings.
        snap(
            "empty name",
            "/name",
            json!(""),
            Tool(&["snapshot.name", "must not be empty"]),
        ),
        snap(
            "blank name",
            "/name",
            json!("   "),
            Tool(&["snapshot.name", "must not be empty"]),
        ),
        call(
            "empty account",
            "draft_plan",
            json!({"account": ""}),
            Tool(&["account", "must not be empty"]),
        ),
        snap(
            "lowercase currency",
            "/currency",
            json!("usd"),
            Tool(&["snapshot.currency", "three-letter ISO code"]),
        ),
        snap(
            "10 MB name",
            "/name",
            json!(ten_mb('n')),
            Tool(&["snapshot.name", "too long (10485760 characters"]),
        ),
        call(
            "10 MB account",
            "draft_plan",
            json!({"account": ten_mb('a')}),
            Tool(&["account", "too long"]),
        ),
        call(
            "10 MB draft",
            "check_framing",
            json!({"draft": ten_mb('d')}),
            Tool(&["draft", "too long"]),
        ),
        snap(
            "10 MB evidence",
            "/signals",
            json!([{"kind": "advocacy", "date": "2026-11-01", "evidence": ten_mb('e'), "source": "customer"}]),
            Tool(&["snapshot.signals[0].evidence", "too long"]),
        ),
        snap(
            "10 MB currency",
            "/currency",
            json!(ten_mb('c')),
            Tool(&["snapshot.currency", "(10485760 characters)"]),
        ),
        snap(
            "10 MB unknown key",
            &format!("/{}", ten_mb('k')),
            json!(1),
            Tool(&["unknown field", "(10485760 characters)"]),
        ),
        snap(
            "10 MB enum value",
            "/offer",
            json!({"type": ten_mb('t')}),
            Tool(&["snapshot.offer.type", "unknown variant", "characters)"]),
        ),
        // Deeply nested JSON.
        snap_raw(
            "nested 200 levels",
            "/extra",
            &deep(200),
            Rpc(
                PARSE,
                &[
                    "params.arguments.snapshot.extra",
                    "recursion limit exceeded",
                ],
            ),
        ),
        snap_raw(
            "nested 100 levels in an unknown field",
            "/extra",
            &deep(100),
            Tool(&["snapshot.extra", "unknown field"]),
        ),
        // Arrays with a million elements.
        snap_raw(
            "a million elements",
            "/signals",
            &zeros(1_000_000),
            Rpc(
                INVALID_REQUEST,
                &[
                    "params.arguments.snapshot.signals[",
                    "more than 1000000 JSON values",
                ],
            ),
        ),
        snap_raw(
            "900,000 elements",
            "/signals",
            &zeros(900_000),
            Tool(&["snapshot.signals[0]", "expected an object"]),
        ),
        snap(
            "6,000 readings",
            "/usage/history",
            history(6_000),
            Tool(&["snapshot.usage.history", "6000 items; at most 5000"]),
        ),
        snap(
            "6,000 signals",
            "/signals",
            Value::Array(vec![signal; 6_000]),
            Tool(&["snapshot.signals", "6000 items; at most 5000"]),
        ),
        // Duplicate keys.
        snap_raw(
            "repeated name",
            "/name",
            r#""A","name":"B""#,
            Rpc(
                INVALID_REQUEST,
                &["params.arguments.snapshot", "`name` appears twice"],
            ),
        ),
        snap_raw(
            "repeated seats",
            "/contract/licensed_seats",
            r#"10,"licensed_seats":1000"#,
            Rpc(
                INVALID_REQUEST,
                &[
                    "params.arguments.snapshot.contract",
                    "`licensed_seats` appears twice",
                ],
            ),
        ),
        raw(
            "repeated id",
            r#"{"jsonrpc":"2.0","id":{id},"id":{id},"method":"ping"}"#,
            Rpc(INVALID_REQUEST, &["`id` appears twice"]),
        ),
        // Bytes that are not UTF-8.
        raw_line(
            "a Latin-1 byte in a string",
            Rpc(
                PARSE,
                &["params.arguments.snapshot.name", "not valid UTF-8"],
            ),
            |id| {
                let mut l = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"check_health","arguments":{{"snapshot":{{"name":"Caf"#).into_bytes();
                l.extend_from_slice(b"\xe9\"}}}}");
                l
            },
        ),
        raw_line("binary garbage", RpcNoId(PARSE, &["parse error"]), |_| {
            b"\xff\xfe\x00\x01garbage".to_vec()
        }),
        // Malformed JSON-RPC.
        raw(
            "not JSON",
            "not json",
            RpcNoId(PARSE, &["parse error", "line 1 column"]),
        ),
        raw(
            "truncated JSON",
            r#"{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{"name":"check_health","#,
            Rpc(PARSE, &["parse error", "EOF while parsing"]),
        ),
        raw(
            "trailing characters",
            r#"{"jsonrpc":"2.0","id":{id},"method":"ping"} extra"#,
            Rpc(PARSE, &["trailing characters"]),
        ),
        raw(
            "no method",
            r#"{"jsonrpc":"2.0","id":{id}}"#,
            Rpc(INVALID_REQUEST, &["`method`"]),
        ),
        raw(
            "JSON-RPC 1.0",
            r#"{"jsonrpc":"1.0","id":{id},"method":"ping"}"#,
            Rpc(INVALID_REQUEST, &["`jsonrpc` must be \"2.0\""]),
        ),
        raw(
            "a batch",
            r#"[{"jsonrpc":"2.0","id":{id},"method":"ping"}]"#,
            RpcNoId(INVALID_REQUEST, &["batches are not supported"]),
        ),
        raw(
            "id as an object",
            r#"{"jsonrpc":"2.0","id":{"n":{id}},"method":"ping"}"#,
            RpcNoId(INVALID_REQUEST, &["invalid request"]),
        ),
        raw(
            "method as a number",
            r#"{"jsonrpc":"2.0","id":{id},"method":7}"#,
            Rpc(INVALID_REQUEST, &["invalid request"]),
        ),
        raw(
            "a notification with bad params",
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1e999}}"#,
            Silent,
        ),
        raw(
            "an unknown notification",
            r#"{"jsonrpc":"2.0","method":"notifications/whatever"}"#,
            Silent,
        ),
        raw("a blank line", "   ", Silent),
        // Unknown tools, methods, prompts and resources.
        call(
            "unknown tool",
            "drop_tables",
            json!({}),
            Rpc(
                INVALID_PARAMS,
                &["unknown tool `drop_tables`", "check_health"],
            ),
        ),
        raw_line(
            "10 MB tool name",
            Rpc(INVALID_PARAMS, &["unknown tool", "(10485760 characters)"]),
            |id| {
                tool_call(id, "x", &json!({}))
                    .to_string()
                    .replace("\"name\":\"x\"", &format!("\"name\":\"{}\"", ten_mb('x')))
                    .into_bytes()
            },
        ),
        raw(
            "unknown method",
            r#"{"jsonrpc":"2.0","id":{id},"method":"tools/delete","params":{}}"#,
            Rpc(
                METHOD_NOT_FOUND,
                &["method not found: `tools/delete`", "tools/call"],
            ),
        ),
        raw(
            "unknown prompt",
            r#"{"jsonrpc":"2.0","id":{id},"method":"prompts/get","params":{"name":"rm -rf"}}"#,
            Rpc(INVALID_PARAMS, &["unknown prompt `rm -rf`"]),
        ),
        raw(
            "prompt without customer",
            r#"{"jsonrpc":"2.0","id":{id},"method":"prompts/get","params":{"name":"expansion-plan","arguments":{}}}"#,
            Rpc(INVALID_PARAMS, &["customer", "is required"]),
        ),
        raw(
            "unknown resource",
            r#"{"jsonrpc":"2.0","id":{id},"method":"resources/read","params":{"uri":"file:///etc/passwd"}}"#,
            Rpc(
                RESOURCE_NOT_FOUND,
                &["resource not found", "file:///etc/passwd"],
            ),
        ),
        // Arguments that are each fine but do not go together.
        call(
            "account and snapshot",
            "draft_plan",
            json!({"account": "Northwind", "snapshot": oversold()}),
            Tool(&["account", "give exactly one"]),
        ),
        call(
            "unknown account",
            "draft_plan",
            json!({"account": "Nobody Inc"}),
            Tool(&["account", "`Nobody Inc` matches no account", "closest"]),
        ),
        snap(
            "team smaller than its users with access",
            "/signals",
            json!([{"kind": "team_growth", "date": "2026-11-01", "evidence": "x", "source": "customer", "team_size": 5, "users_with_access": 10}]),
            Tool(&[
                "snapshot.signals[0].team_size",
                "smaller than users_with_access",
            ]),
        ),
    ]
}

/// Checks one answer against the expectation; returns what was wrong.
fn check(case: &Case, id: u64, a: &Value) -> Option<String> {
    let needles: &[&str] = match &case.expect {
        Expect::Tool(n) => {
            if a["result"]["isError"] != json!(true) {
                return Some(format!("expected a tool error, got {}", clip(a)));
            }
            n
        }
        Expect::Rpc(code, n) | Expect::RpcNoId(code, n) => {
            if a["error"]["code"] != json!(code) {
                return Some(format!("expected JSON-RPC error {code}, got {}", clip(a)));
            }
            n
        }
        Expect::Silent => return Some(format!("expected no answer, got {}", clip(a))),
    };
    let text = match &case.expect {
        Expect::Tool(_) => result_text(a),
        _ => a["error"]["message"].as_str().unwrap_or("").to_string(),
    };
    let want_id = match case.expect {
        Expect::RpcNoId(..) => Value::Null,
        _ => json!(id),
    };
    if a["id"] != want_id {
        return Some(format!("answer carries id {}, expected {want_id}", a["id"]));
    }
    if text.len() > 2_000 {
        return Some(format!("the error is {} bytes long", text.len()));
    }
    let missing: Vec<&&str> = needles.iter().filter(|n| !text.contains(**n)).collect();
    if !missing.is_empty() {
        return Some(format!("{missing:?} not in: {text}"));
    }
    None
}

fn clip(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(400).collect()
}

#[test]
fn every_bad_input_is_answered_and_named_and_the_server_goes_on() {
    let cases = catalogue();
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut server = Server::start();
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut id = 100_u64;
    for case in &cases {
        id += 1;
        let started = Instant::now();
        server.send_line(&(case.line)(id));
        if !matches!(case.expect, Expect::Silent) {
            let answer = match case.expect {
                Expect::RpcNoId(..) => server.next(DEADLINE),
                _ => {
                    // answer_to panics on timeout; keep the other cases' results instead.
                    let until = Instant::now() + DEADLINE;
                    loop {
                        match server.next(until.saturating_duration_since(Instant::now())) {
                            Some(a) if a["id"] == json!(id) => break Some(a),
                            Some(a) => failures.push(format!(
                                "{}: unexpected line {}",
                                case.name,
                                clip(&a)
                            )),
                            None => break None,
                        }
                    }
                }
            };
            match answer {
                Some(a) => {
                    if let Some(why) = check(case, id, &a) {
                        failures.push(format!("{}: {why}", case.name));
                    }
                }
                None => failures.push(format!("{}: no answer within {DEADLINE:?}", case.name)),
            }
        }
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, case.name.clone());
        }
        // The server still answers, with the right figures, and nothing else is pending.
        id += 1;
        server.send_json(&tool_call(
            id,
            "check_health",
            &json!({"snapshot": oversold()}),
        ));
        match server.next(DEADLINE) {
            Some(a)
                if a["id"] == json!(id)
                    && a["result"]["structuredContent"]["utilisation_pct"] == json!(26.7) => {}
            Some(a) => failures.push(format!(
                "{}: after it, expected the check answer, got {}",
                case.name,
                clip(&a)
            )),
            None => failures.push(format!("{}: the server stopped answering", case.name)),
        }
    }
    eprintln!(
        "{} bad inputs answered; slowest: {} in {:?}",
        cases.len(),
        slowest.1,
        slowest.0
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}\n\nserver stderr (tail):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n"),
        server
            .stderr()
            .chars()
            .rev()
            .take(3000)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
    // Nothing the server holds was changed: every demo plan is still exactly the engine's.
    for (i, s) in expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .enumerate()
    {
        let id = 10_000 + i as u64;
        server.send_json(&tool_call(id, "draft_plan", &json!({"account": s.name})));
        let a = server.answer_to(&json!(id), DEADLINE);
        let want = expansion_planner::engine::draft_plan(
            s,
            &expansion_planner::engine::Policy::default(),
            s.as_of.unwrap(),
        );
        assert_eq!(
            a["result"]["structuredContent"],
            crate::plan_answer(want),
            "{}",
            s.name
        );
    }
    server.close_stdin();
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exit after EOF");
    assert!(status.success(), "{status:?}");
}

/// The most memory the server may use while a 100 MB line goes by: the line is skipped as it
/// arrives, never buffered, so the peak stays near the 16 MiB line limit plus the binary.
pub const MEMORY_CAP_KIB: u64 = 256 * 1024;

#[test]
fn a_100_mb_line_is_refused_with_bounded_memory_and_the_server_goes_on() {
    let mut server = Server::start();
    let head = tool_call(1, "check_health", &json!({"snapshot": {"name": "@@"}})).to_string();
    let (before, after) = head.split_once("@@").unwrap();
    let started = Instant::now();
    server.write(before.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1024 * 1024];
    for _ in 0..100 {
        server.write(&chunk).unwrap();
    }
    server.write(after.as_bytes()).unwrap();
    server.write(b"\n").unwrap();
    let a = server.answer_to(&json!(1), DEADLINE);
    let took = started.elapsed();
    assert_eq!(a["error"]["code"], json!(INVALID_REQUEST), "{a}");
    let msg = a["error"]["message"].as_str().unwrap();
    assert!(msg.contains("longer than 16777216 bytes"), "{msg}");
    assert_still_answers(&mut server, 2);
    let peak = server.status_kib("VmHWM");
    eprintln!(
        "100 MB line refused in {took:?}; server peak RSS {} MiB",
        peak / 1024
    );
    assert!(
        peak < MEMORY_CAP_KIB,
        "peak RSS {peak} KiB over the {MEMORY_CAP_KIB} KiB cap"
    );
}
