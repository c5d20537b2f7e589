//! The one escaping function for text interpolated into markdown.
//!
//! Every string that reaches a markdown answer from data (a name, a feature, a quote, a
//! detail that repeats them) goes through [`text`] or its formatting twin [`md`], so no field
//! can open a heading, a bold label, a list, a quote, a link, an image, a code span, a table
//! cell or an HTML tag. The markdown around it (headings, labels, table pipes) is the only
//! structure a reader sees.
//!
//! What it does, under CommonMark and GFM:
//! - line breaks (`\n`, `\r`, U+0085, U+2028, U+2029) and every other control character become
//!   one space each, so text stays on its line; bidirectional overrides are dropped, so the
//!   text reads in the order it is stored; leading whitespace is dropped;
//! - `\`, `|`, `#`, `*`, `` ` `` and `~` are backslash-escaped wherever they stand, and `_`
//!   wherever it could open or close emphasis (not inside a word such as `health_score`);
//! - `<` becomes `&lt;`, so no HTML tag, comment or autolink can start, and an `&` that would
//!   start a character reference becomes `&amp;`, so the text shows as typed;
//! - a `]` directly before `(` is escaped, so no link or image can form (a reference link needs
//!   a definition at the start of a line, which no field can reach);
//! - [`md_start`], for text that opens a line or a list item, also escapes a block marker at
//!   its start: `>`, a `-` or `+` bullet, `1.` or `1)`, a `[ ]` task box.
//!
//! Table cells and text in the middle of a line use [`md`] (or [`text`]): a block marker only
//! acts at the start of a line, so `>= 60.0%` in a cell stays as written.

use std::borrow::Cow;
use std::fmt;

/// `s` escaped for the inside of a line or a table cell; borrowed when nothing needs escaping.
pub fn text(s: &str) -> Cow<'_, str> {
    if is_plain(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(md(s).to_string())
}

/// `s` escaped for the inside of a line or a table cell, as a value for `format!`.
pub fn md(s: &str) -> Md<'_> {
    Md { s, at_start: false }
}

/// `s` escaped for the start of a line or a list item (`- {}`, `> {}`), as a value for
/// `format!`: as [`md`], and a block marker at its start is escaped too.
pub fn md_start(s: &str) -> Md<'_> {
    Md { s, at_start: true }
}

/// See [`md`] and [`md_start`].
#[derive(Clone, Copy, Debug)]
pub struct Md<'a> {
    s: &'a str,
    at_start: bool,
}

impl fmt::Display for Md<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Most text needs nothing escaped: one scan, one write.
        if !self.at_start && is_plain(self.s) {
            return f.write_str(self.s);
        }
        write_escaped(f, self.s, self.at_start)
    }
}

/// Bidirectional embedding, override and isolate controls, and the marks: they reorder what
/// a reader sees without changing what is stored.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that break a line or otherwise have no place inside one line of text.
fn is_break(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// True when `md(s)` writes `s` unchanged (the common case, one scan).
fn is_plain(s: &str) -> bool {
    !s.starts_with(char::is_whitespace)
        && !s.chars().any(|c| {
            matches!(
                c,
                '\\' | '|' | '#' | '*' | '`' | '~' | '<' | '_' | '&' | ']'
            ) || is_break(c)
                || is_bidi_control(c)
        })
}

/// An `&` at the start of `rest` that a renderer would read as a character reference
/// (`&amp;`, `&#60;`, `&#x3C;`).
fn starts_reference(rest: &str) -> bool {
    let body = rest.get(1..).unwrap_or("");
    let n = body
        .bytes()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
        .count();
    n > 0 && body.as_bytes().get(n) == Some(&b';')
}

fn write_escaped(out: &mut impl fmt::Write, s: &str, at_start: bool) -> fmt::Result {
    let s = s.trim_start_matches(|c: char| c.is_whitespace() || is_break(c));
    let rest = if at_start {
        escape_block_start(out, s)?
    } else {
        s
    };
    let mut prev: Option<char> = None;
    // Characters written as they are go out a run at a time, from `plain` to the next one
    // that is not.
    let mut plain = 0;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let escaped: Option<&str> = match c {
            '\\' => Some("\\\\"),
            '|' => Some("\\|"),
            '#' => Some("\\#"),
            '*' => Some("\\*"),
            '`' => Some("\\`"),
            '~' => Some("\\~"),
            '_' if !(prev.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric)) =>
            {
                Some("\\_")
            }
            ']' if next == Some('(') => Some("\\]"),
            '<' => Some("&lt;"),
            '&' if starts_reference(rest.get(i..).unwrap_or("")) => Some("&amp;"),
            c if is_bidi_control(c) => Some(""),
            c if is_break(c) => Some(" "),
            _ => None,
        };
        if let Some(e) = escaped {
            out.write_str(rest.get(plain..i).unwrap_or(""))?;
            out.write_str(e)?;
            plain = i + c.len_utf8();
        }
        prev = Some(c);
    }
    out.write_str(rest.get(plain..).unwrap_or(""))
}

/// Escapes a block marker at the start of `s` (a quote, a bullet, an ordered-list number, a
/// task box), writing what it consumed, and returns the rest.
fn escape_block_start<'s>(out: &mut impl fmt::Write, s: &'s str) -> Result<&'s str, fmt::Error> {
    let bytes = s.as_bytes();
    match bytes.first() {
        Some(b'>' | b'[') => {
            out.write_char('\\')?;
            Ok(s)
        }
        Some(b'-' | b'+' | b'=') => {
            out.write_char('\\')?;
            Ok(s)
        }
        Some(b) if b.is_ascii_digit() => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            match bytes.get(digits) {
                Some(b'.' | b')') => {
                    let (num, tail) = s.split_at(digits);
                    out.write_str(num)?;
                    out.write_char('\\')?;
                    Ok(tail)
                }
                _ => Ok(s),
            }
        }
        _ => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        for s in ["Acme Corp", "Q3 2026", "a > b", ""] {
            assert!(matches!(text(s), Cow::Borrowed(_)), "{s}");
        }
        for s in [
            "80.0 % >= 80 %",
            "-5 seats",
            "2026 plan",
            "1.5x",
            "health_score",
            "- x",
            "R&D",
            "[2026-11-04, customer]",
        ] {
            assert_eq!(text(s), s);
        }
    }

    #[test]
    fn structure_characters_are_neutralised() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("a\nb\rc\u{2028}d\u{85}e\tf"), "a b c d e f");
        assert_eq!(text("# h"), "\\# h");
        assert_eq!(text("**x**"), "\\*\\*x\\*\\*");
        assert_eq!(text("_x_ a_b"), "\\_x\\_ a_b");
        assert_eq!(text("`c`"), "\\`c\\`");
        assert_eq!(text("<img src=x>"), "&lt;img src=x>");
        assert_eq!(text("[x](javascript:1)"), "[x\\](javascript:1)");
        assert_eq!(text("![i](u)"), "![i\\](u)");
        assert_eq!(text("~~s~~"), "\\~\\~s\\~\\~");
        assert_eq!(text("a\\|b"), "a\\\\\\|b");
        assert_eq!(
            text("&lt;b&gt; & R&D &#60;"),
            "&amp;lt;b&amp;gt; & R&D &amp;\\#60;"
        );
        assert_eq!(text("   indented"), "indented");
        assert_eq!(text("\n\n## H"), "\\#\\# H");
        assert_eq!(text("a\u{202E}b"), "ab");
    }

    #[test]
    fn block_markers_are_escaped_only_at_a_line_start() {
        let start = |s: &str| md_start(s).to_string();
        assert_eq!(start("> q"), "\\> q");
        assert_eq!(start(">= 60%"), "\\>= 60%");
        assert_eq!(start("- item"), "\\- item");
        assert_eq!(start("+ item"), "\\+ item");
        assert_eq!(start("12. x"), "12\\. x");
        assert_eq!(start("3) x"), "3\\) x");
        assert_eq!(start("[x] done"), "\\[x] done");
        assert_eq!(start("2026 plan"), "2026 plan");
        assert_eq!(start("  - x"), "\\- x");
        assert_eq!(text("> q"), "> q");
    }

    #[test]
    fn text_and_md_agree() {
        for s in ["x|y", "plain", "\n- x", "1) a", "&amp;"] {
            assert_eq!(text(s), md(s).to_string());
        }
    }
}
