//! Strict JSON: one pass over a text for what serde_json does not report usefully. The
//! path to a syntax error (`params.arguments.snapshot.contract.arr`), a key repeated in one
//! object (serde_json keeps the last of two, which would make `{"seats": 10, "seats":
//! 1000}` a plausible plan for a number nobody can see), and the count of values (so that a
//! parsed tree stays within a few tens of MB). stdio screens every line with it before
//! rmcp parses it; `model::input::from_str` (snapshot files, JSON imports) checks with it
//! too.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The most JSON values (objects, arrays, strings, numbers...) one text may hold. A 16 MiB
/// line of `[0,0,0,...]` is 8 million values, about 256 MB once parsed; this keeps the parsed
/// tree of any message within a few tens of MB. The largest valid snapshot holds about 250,000.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// Why a text is not strict JSON, and where.
#[derive(Debug)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Where: `params.arguments.snapshot` (empty at the top level).
    pub path: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ProblemKind {
    Syntax(String),
    NotUtf8(usize),
    DuplicateKey(String),
    TooManyValues,
}

impl ProblemKind {
    /// Not JSON at all (as opposed to JSON this project refuses).
    pub fn is_syntax(&self) -> bool {
        matches!(self, ProblemKind::Syntax(_) | ProblemKind::NotUtf8(_))
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Syntax(msg) => f.write_str(msg),
            ProblemKind::NotUtf8(offset) => {
                write!(f, "the text is not valid UTF-8 (byte {offset})")
            }
            ProblemKind::DuplicateKey(key) => write!(
                f,
                "key {} appears twice in one object; a JSON object must not repeat a key (which value would count is undefined)",
                crate::model::values::quote(key)
            ),
            ProblemKind::TooManyValues => {
                write!(f, "the text holds more than {MAX_JSON_VALUES} JSON values")
            }
        }
    }
}

impl Problem {
    /// ` at `path`` when there is a path.
    pub fn at(&self) -> String {
        if self.path.is_empty() {
            String::new()
        } else {
            format!(" at `{}`", self.path)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind, self.at())
    }
}

enum Seg<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

/// `params.arguments.snapshot.signals[2].date`; very deep paths keep their two ends.
fn path_text(path: &[Seg<'_>]) -> String {
    const HEAD: usize = 6;
    const TAIL: usize = 4;
    let mut out = String::new();
    let push = |out: &mut String, s: &Seg<'_>| match s {
        Seg::Key(k) => {
            if !out.is_empty() {
                out.push('.');
            }
            if k.chars().count() > 40 {
                out.extend(k.chars().take(40));
                out.push('…');
            } else {
                out.push_str(k);
            }
        }
        Seg::Index(i) => out.push_str(&format!("[{i}]")),
    };
    if path.len() <= HEAD + TAIL + 1 {
        for s in path {
            push(&mut out, s);
        }
    } else {
        for s in path.iter().take(HEAD) {
            push(&mut out, s);
        }
        out.push_str(&format!("…({} levels)…", path.len() - HEAD - TAIL));
        for s in path.iter().skip(path.len() - TAIL) {
            push(&mut out, s);
        }
    }
    out
}

struct Walk<'de> {
    path: Vec<Seg<'de>>,
    values: usize,
    found: Option<ProblemKind>,
}

impl Walk<'_> {
    fn count<E: de::Error>(&mut self) -> Result<(), E> {
        self.values += 1;
        if self.values > MAX_JSON_VALUES {
            self.found = Some(ProblemKind::TooManyValues);
            return Err(E::custom("too many values"));
        }
        Ok(())
    }
}

/// Walks the whole text once: syntax, UTF-8, nesting (serde_json stops at 128 levels),
/// repeated keys and the value count, keeping the path to the first problem.
pub fn check(line: &[u8]) -> Result<(), Problem> {
    let mut w = Walk {
        path: Vec::new(),
        values: 0,
        found: None,
    };
    let mut de = serde_json::Deserializer::from_slice(line);
    let result = Node(&mut w).deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            let path = path_text(&w.path);
            let kind = match (w.found.take(), std::str::from_utf8(line)) {
                (Some(k), _) => k,
                (None, Err(u)) => ProblemKind::NotUtf8(u.valid_up_to()),
                (None, Ok(_)) => ProblemKind::Syntax(e.to_string()),
            };
            Err(Problem { kind, path })
        }
    }
}

struct Node<'w, 'de>(&'w mut Walk<'de>);

impl<'de> DeserializeSeed<'de> for Node<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.count()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.count()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.count()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.count()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.count()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.count()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.count()?;
        let mut i = 0;
        loop {
            self.0.path.push(Seg::Index(i));
            // On error the path is left as it is: it says where the problem is.
            if seq.next_element_seed(Node(&mut *self.0))?.is_none() {
                self.0.path.pop();
                return Ok(());
            }
            self.0.path.pop();
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.count()?;
        let mut keys = KeySet::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !keys.insert(key.clone()) {
                self.0.found = Some(ProblemKind::DuplicateKey(key.into_owned()));
                return Err(de::Error::custom("duplicate key"));
            }
            self.0.path.push(Seg::Key(key));
            map.next_value_seed(Node(&mut *self.0))?;
            self.0.path.pop();
        }
        Ok(())
    }
}

/// The keys of one object: a short list scanned linearly (most objects have a few keys),
/// a hash set once it grows.
#[derive(Default)]
struct KeySet<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> KeySet<'de> {
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > 16 {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_found_with_its_path() {
        let p = check(br#"{"a":[{"b":1},{"b":1,"b":2}]}"#).unwrap_err();
        assert_eq!(p.kind, ProblemKind::DuplicateKey("b".into()));
        assert_eq!(p.path, "a[1]");
        assert!(check(br#"{"a":[{"b":1},{"b":2}]}"#).is_ok());
    }

    #[test]
    fn syntax_and_size_are_told_apart() {
        assert!(check(b"{\"a\":").unwrap_err().kind.is_syntax());
        let many = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        let p = check(many.as_bytes()).unwrap_err();
        assert_eq!(p.kind, ProblemKind::TooManyValues);
        assert!(!p.kind.is_syntax());
    }
}
