//! The process's log on stderr (stdout is the MCP channel on stdio): every value cut to
//! [`MAX_FIELD_CHARS`] with control characters escaped, so a client's 900 KB request id or
//! resource URI costs a short line and a value cannot forge a line of its own; and
//! [`Throttle`], for events a flood can trigger a thousand times a second.

use std::fmt::{self, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// The longest a logged value may be, in characters, before it is cut.
pub const MAX_FIELD_CHARS: usize = 256;

/// The field formatter of the whole process's log: every value, the message included, cut
/// to [`MAX_FIELD_CHARS`] with control characters escaped.
pub fn fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    tracing_subscriber::fmt::format::debug_fn(|w: &mut Writer<'_>, field, value| {
        if field.name() != "message" {
            write!(w, "{}=", field.name())?;
        }
        let mut cut = Cut {
            out: w,
            left: MAX_FIELD_CHARS,
            dropped: 0,
        };
        write!(cut, "{value:?}")?;
        if cut.dropped > 0 {
            let dropped = cut.dropped;
            write!(w, "…[{dropped} more bytes]")?;
        }
        Ok(())
    })
    .delimited(" ")
}

/// A caller-chosen string made safe for one log line: at most `max` characters, anything
/// outside a conservative set replaced.
pub fn clean(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':') {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// Writes through at most `left` characters, escaping control characters, and counts the
/// bytes it drops; nothing is buffered, so a huge value costs no memory.
struct Cut<'a, 'w> {
    out: &'a mut Writer<'w>,
    left: usize,
    dropped: usize,
}

impl fmt::Write for Cut<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.left == 0 {
                self.dropped += c.len_utf8();
                continue;
            }
            self.left -= 1;
            if c.is_control() {
                write!(self.out, "{}", c.escape_default())?;
            } else {
                self.out.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// At most one line a second for an event that a flood can trigger a thousand times a
/// second (a connection refused, a header timeout), with the count of the lines held back.
pub struct Throttle {
    state: Mutex<(Option<Instant>, u64)>,
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new()
    }
}

impl Throttle {
    pub const fn new() -> Throttle {
        Throttle {
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(n)` when a line should be written now, `n` being how many were held back
    /// since the last one.
    pub fn admit(&self) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < Duration::from_secs(1) => {
                state.1 += 1;
                None
            }
            _ => {
                let held = state.1;
                *state = (Some(now), 0);
                Some(held)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_keeps_log_lines_whole() {
        assert_eq!(clean("check_health", 64), "check_health");
        assert_eq!(clean("a\nINFO forged=1", 64), "a?INFO?forged?1");
        assert_eq!(clean(&"x".repeat(100), 64).chars().count(), 65);
    }

    #[test]
    fn fields_are_cut_and_escaped() {
        let mut s = String::new();
        let mut w = Writer::new(&mut s);
        let mut cut = Cut {
            out: &mut w,
            left: 5,
            dropped: 0,
        };
        write!(cut, "a\nbcdefgh").unwrap();
        assert_eq!(cut.dropped, 4);
        assert_eq!(s, "a\\nbcd");
    }

    #[test]
    fn throttle_admits_one_a_second() {
        let t = Throttle::new();
        assert_eq!(t.admit(), Some(0));
        assert_eq!(t.admit(), None);
        assert_eq!(t.admit(), None);
    }
}
