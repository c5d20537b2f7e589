//! Tool answers written over stdio straight from their typed results.
//!
//! rmcp's `CallToolResult` carries the structured content as a `serde_json::Value`. For a
//! 25 KB plan, building that value, writing it and dropping it was most of the work of an
//! answer, and the plan's markdown (sent twice, as the contract asks: as text and in
//! `structuredContent.markdown`) was escaped twice by serde_json's byte-at-a-time escaper.
//! Over stdio the tool handler therefore prepares the two parts of the answer as JSON bytes
//! ([`PreparedAnswer`]): the markdown is escaped once, eight bytes at a time, and written in
//! both places; the rest of the structured content is written from the typed result. It
//! hands rmcp a `CallToolResult` holding the markdown but no structured content, and keeps
//! the prepared bytes under the request's id; the transport writes the answer line from them
//! (see `stdio::LineTransport::send`), taking `resultType`, `isError` and `_meta` from the
//! result rmcp hands it, since rmcp adjusts those to the negotiated protocol version.
//!
//! The JSON is the same as rmcp's own serialisation of the full result (a test compares them
//! for every tool on every demo account), but for the order of keys inside
//! `structuredContent`: the typed result keeps its declaration order (`outcome` first, as
//! the CLI's `--format json` prints it) where a `serde_json::Value` sorts them. If the
//! prepared part is ever missing, the transport writes rmcp's result as it is, which still
//! carries the markdown.

use std::collections::HashMap;
use std::sync::Mutex;

use rmcp::model::{CallToolResult, RequestId};

/// Appends `s` as a JSON string, quotes included, escaped exactly as serde_json escapes it:
/// `"` and `\` with a backslash, `\b \f \n \r \t` by name, other control characters as
/// `\u00xx`, everything else as it is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + bytes.len() / 16 + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time to the first one that needs escaping.
        if let Some(chunk) = bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        {
            let flags = escape_flags(u64::from_le_bytes(chunk));
            if flags == 0 {
                i += 8;
                continue;
            }
            // The lowest flag is exact (a false flag can only sit above a true one).
            i += (flags.trailing_zeros() / 8) as usize;
        }
        let b = bytes.get(i).copied().unwrap_or(b' ');
        let escaped: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            0..0x20 => None,
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        match escaped {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
            }
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// The high bit of each of the eight bytes (little-endian lanes) that is below 0x20, a `"`
/// or a `\\`, by the classic "has a byte less than n" and "has a zero byte" tests: the result
/// is zero exactly when no byte needs escaping, and its lowest set bit marks the first byte
/// that does (a borrow can set a bit above a true one, never below it).
fn escape_flags(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let s = w ^ (ONES * u64::from(b'\\'));
    let backslash = s.wrapping_sub(ONES) & !s & HIGH;
    control | quote | backslash
}

/// The two parts of a tool answer, as JSON.
#[derive(Debug)]
pub struct PreparedAnswer {
    /// `content`: `[{"type":"text","text":"<markdown>"}]`.
    pub content: Vec<u8>,
    /// `structuredContent`.
    pub structured: Vec<u8>,
}

/// Prepared answers waiting for the transport, by request id. An answer is taken out when
/// written; one the transport never asks for (the request was cancelled after its answer was
/// prepared) is dropped when more than a thousand are waiting.
#[derive(Debug, Default)]
pub struct Prepared {
    waiting: Mutex<HashMap<RequestId, PreparedAnswer>>,
}

impl Prepared {
    /// More answers than this waiting means they are not being collected: start afresh.
    const MAX_WAITING: usize = 1024;

    pub fn put(&self, id: RequestId, answer: PreparedAnswer) {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= Self::MAX_WAITING {
            tracing::warn!(
                waiting = w.len(),
                "prepared answers were not collected; dropping them"
            );
            w.clear();
        }
        w.insert(id, answer);
    }

    pub fn take(&self, id: &RequestId) -> Option<PreparedAnswer> {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }
}

/// `content` for a markdown text, with the markdown's escaped form (quotes included) also
/// returned for use inside the structured content.
pub fn text_content(markdown: &str) -> (Vec<u8>, std::ops::Range<usize>) {
    const HEAD: &[u8] = br#"[{"type":"text","text":"#;
    let mut out = Vec::with_capacity(markdown.len() + markdown.len() / 8 + 32);
    out.extend_from_slice(HEAD);
    write_str(&mut out, markdown);
    let text = HEAD.len()..out.len();
    out.extend_from_slice(b"}]");
    (out, text)
}

/// Writes the JSON-RPC response line for a tool result whose parts were prepared, in the
/// field order of rmcp's own types (`JsonRpcResponse`, then `CallToolResult`).
pub fn write_response(
    out: &mut Vec<u8>,
    id: &RequestId,
    result: &CallToolResult,
    prepared: &PreparedAnswer,
) -> serde_json::Result<()> {
    out.reserve(prepared.content.len() + prepared.structured.len() + 128);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    serde_json::to_writer(&mut *out, id)?;
    out.extend_from_slice(br#","result":{"#);
    if let Some(t) = &result.result_type {
        out.extend_from_slice(br#""resultType":"#);
        serde_json::to_writer(&mut *out, t)?;
        out.push(b',');
    }
    out.extend_from_slice(br#""content":"#);
    out.extend_from_slice(&prepared.content);
    out.extend_from_slice(br#","structuredContent":"#);
    out.extend_from_slice(&prepared.structured);
    if let Some(e) = result.is_error {
        out.extend_from_slice(if e {
            br#","isError":true"#
        } else {
            br#","isError":false"#
        });
    }
    if let Some(m) = &result.meta {
        out.extend_from_slice(br#","_meta":"#);
        serde_json::to_writer(&mut *out, m)?;
    }
    out.extend_from_slice(b"}}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_serde_json_does() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "exactly8".into(),
            "# Plan\n\n| a | b |\n|---|---|\n| \"x\" | \\y |\n".into(),
            "tab\there, cr\r, bell\u{7}, nul\u{0}, esc\u{1b}, del\u{7f}, unit sep\u{1f}".into(),
            "ünïcödé — “quotes” 🚀 and / slash".into(),
            "\u{8}\u{c}".into(),
        ];
        // Every byte value below 0x80 at every offset within an 8-byte chunk.
        for b in 0u8..0x80 {
            for pad in 0..9 {
                let mut s = "a".repeat(pad);
                s.push(char::from(b));
                s.push_str("bcdefghijk");
                cases.push(s);
            }
        }
        for s in cases {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            let theirs = serde_json::to_string(&s).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), theirs, "for {s:?}");
        }
    }

    #[test]
    fn escape_flags_are_exact_for_every_byte_in_every_lane() {
        for b in 0u8..=255 {
            let expected = b < 0x20 || b == b'"' || b == b'\\';
            for lane in 0..8 {
                let mut chunk = [b'a'; 8];
                chunk[lane] = b;
                let flags = escape_flags(u64::from_le_bytes(chunk));
                assert_eq!(flags != 0, expected, "byte {b:#x} in lane {lane}");
                if expected {
                    assert_eq!(flags.trailing_zeros() / 8, lane as u32);
                }
                // Whatever follows, the first flag is the first byte to escape.
                for after in [0u8, b'"', b'\\', 0x1f, 0x20, 0x21, 0xff] {
                    let mut c = chunk;
                    for x in c.iter_mut().skip(lane + 1) {
                        *x = after;
                    }
                    let first = c.iter().position(|&x| x < 0x20 || x == b'"' || x == b'\\');
                    let flags = escape_flags(u64::from_le_bytes(c));
                    assert_eq!(
                        (flags != 0).then(|| (flags.trailing_zeros() / 8) as usize),
                        first,
                        "{c:?}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_as_serde_json_does(
            s in proptest::string::string_regex("[a-z|\"\\\\\n\r\t\u{0}-\u{1f}\u{7f}é🚀 ]{0,40}").unwrap()
        ) {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn arbitrary_text_escapes_as_serde_json_does(s in proptest::prelude::any::<String>()) {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&s).unwrap());
        }
    }

    #[test]
    fn uncollected_answers_do_not_pile_up() {
        let p = Prepared::default();
        for i in 0..(Prepared::MAX_WAITING as i64 + 10) {
            p.put(
                RequestId::Number(i),
                PreparedAnswer {
                    content: vec![],
                    structured: vec![],
                },
            );
        }
        assert!(p.waiting.lock().unwrap().len() <= Prepared::MAX_WAITING);
        assert!(
            p.take(&RequestId::Number(Prepared::MAX_WAITING as i64 + 9))
                .is_some()
        );
        assert!(
            p.take(&RequestId::Number(Prepared::MAX_WAITING as i64 + 9))
                .is_none()
        );
    }
}
