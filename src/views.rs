//! The plan and segment views: one HTML document each, put together at compile time from
//! `ui/src/` (`include_str!`), so `cargo build` needs no Node and the document cannot drift
//! from its sources. An MCP host loads them as `ui://` resources ([`crate::mcp::apps`]);
//! `plan` and `scan --format html` write them as files with their data embedded.

/// The plan view: `draft_plan` and `check_health`.
pub const PLAN_URI: &str = "ui://expansion-planner/plan";
/// The segment view: `plan_segment`.
pub const SEGMENT_URI: &str = "ui://expansion-planner/segment";

/// One view of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Plan,
    Segment,
}

macro_rules! page_head {
    () => {
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            // The document needs nothing from the network: a file opened from an email is
            // held to the same rule as the view inside a host.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
            "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; ",
            "connect-src 'none'; base-uri 'none'; form-action 'none'\">\n",
            "<title>Expansion planner</title>\n<style>\n",
            include_str!("../ui/src/style.css"),
            "</style>\n</head>\n<body>\n<main id=\"app\"></main>\n"
        )
    };
}

macro_rules! page_tail {
    ($view:literal) => {
        concat!(
            "<script>\n",
            include_str!("../ui/src/core.js"),
            "\n",
            include_str!(concat!("../ui/src/", $view, ".js")),
            "</script>\n</body>\n</html>\n"
        )
    };
}

const HEAD: &str = page_head!();
const PLAN_TAIL: &str = page_tail!("plan");
const SEGMENT_TAIL: &str = page_tail!("segment");

impl View {
    pub fn uri(self) -> &'static str {
        match self {
            View::Plan => PLAN_URI,
            View::Segment => SEGMENT_URI,
        }
    }

    pub fn from_uri(uri: &str) -> Option<View> {
        match uri {
            PLAN_URI => Some(View::Plan),
            SEGMENT_URI => Some(View::Segment),
            _ => None,
        }
    }

    fn tail(self) -> &'static str {
        match self {
            View::Plan => PLAN_TAIL,
            View::Segment => SEGMENT_TAIL,
        }
    }

    /// The view as the host loads it: no data; the tool result arrives over postMessage.
    pub fn html(self) -> String {
        [HEAD, self.tail()].concat()
    }

    /// The view with `data` embedded: one file that opens in any browser, offline.
    pub fn file(self, data: &impl serde::Serialize) -> serde_json::Result<String> {
        let json = script_safe_json(data)?;
        Ok([
            HEAD,
            "<script type=\"application/json\" id=\"ep-data\">",
            &json,
            "</script>\n",
            self.tail(),
        ]
        .concat())
    }
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` are written as `\u003c`
/// and so on (JSON reads them back as the same characters), so no account text can close
/// the element or open a comment; U+2028 and U+2029 likewise, for older script parsers.
pub fn script_safe_json(data: &impl serde::Serialize) -> serde_json::Result<String> {
    let raw = serde_json::to_string(data)?;
    let mut out = String::with_capacity(raw.len() + raw.len() / 16);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn script_safe_json_cannot_close_the_script() {
        let s =
            script_safe_json(&json!({"name": "</script><img src=x onerror=alert(1)>&"})).unwrap();
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], "</script><img src=x onerror=alert(1)>&");
    }
}
