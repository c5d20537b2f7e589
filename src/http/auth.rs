//! Bearer tokens for the HTTP transport: the token file format, and a comparison whose time
//! does not depend on how much of a presented token is right.
//!
//! Each token has a name; the name (never the token) is what the request log shows.
//! [`require_token`] is the middleware that checks it, before a byte of the body is read,
//! and names the request's [`Owner`] for the session table.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::plain;

/// Who a request comes from, as far as sessions go: the token it presented, or, when the
/// server asks for none, the address it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Token(Arc<str>),
    Peer(IpAddr),
    /// Only for a request that reached the session table without passing
    /// [`require_token`], which this server's router never routes.
    Unknown,
}

impl Owner {
    pub fn unknown() -> Owner {
        Owner::Unknown
    }

    /// What identifies the owner, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::Token(_) => "token",
            Owner::Peer(_) | Owner::Unknown => "client address",
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Token(name) => write!(f, "token:{name}"),
            Owner::Peer(ip) => write!(f, "peer:{ip}"),
            Owner::Unknown => f.write_str("unknown"),
        }
    }
}

/// The middleware in front of `/mcp`: 401 without a valid token; otherwise the request
/// goes on carrying its [`Owner`], and the token's name is recorded in the request's log
/// span.
pub async fn require_token(State(tokens): State<Tokens>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let owner = match tokens.authorize(presented) {
        Ok(Some(name)) => {
            tracing::Span::current().record("token", tracing::field::display(&*name));
            Owner::Token(name)
        }
        Ok(None) => match req.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => Owner::Peer(peer.ip()),
            None => Owner::Unknown,
        },
        Err(failure) => return unauthorized(failure),
    };
    req.extensions_mut().insert(owner);
    next.run(req).await
}

fn unauthorized(failure: AuthFailure) -> Response {
    let (challenge, text) = match failure {
        AuthFailure::Missing => (
            r#"Bearer realm="expansion-planner""#,
            "unauthorized: this server needs a bearer token (Authorization: Bearer <token>)",
        ),
        AuthFailure::Invalid => (
            r#"Bearer realm="expansion-planner", error="invalid_token""#,
            "unauthorized: the bearer token is not one this server accepts",
        ),
    };
    let mut r = plain(StatusCode::UNAUTHORIZED, text.to_string());
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    r
}

/// The name given to a bare token (a line without `name:`) in a token file.
pub const DEFAULT_TOKEN_NAME: &str = "default";
/// The name given to the token read from `EXPANSION_PLANNER_TOKEN`.
pub const ENV_TOKEN_NAME: &str = "env";
/// Shorter secrets are guessable; refuse them rather than run with a weak one.
pub const MIN_TOKEN_CHARS: usize = 16;
const MAX_NAME_CHARS: usize = 64;
const MAX_TOKEN_CHARS: usize = 512;

#[derive(Clone)]
struct Entry {
    name: Arc<str>,
    secret: Box<[u8]>,
}

/// The configured tokens. Empty means the server asks for no token (loopback only).
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Arc<[Entry]>,
}

impl fmt::Debug for Tokens {
    // Names only: a token must never reach a log line, even through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("names", &self.names())
            .finish()
    }
}

/// Why a request was not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header, or not the `Bearer` scheme.
    Missing,
    /// A bearer token that matches no configured token.
    Invalid,
}

impl Tokens {
    /// Builds the set from `(name, token)` pairs; names and tokens must be unique.
    pub fn new(pairs: Vec<(String, String)>) -> Result<Tokens, String> {
        let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
        for (name, token) in pairs {
            check_name(&name)?;
            check_token(&name, &token)?;
            if entries.iter().any(|e| *e.name == *name) {
                return Err(format!("token name `{name}` is used twice"));
            }
            if entries.iter().any(|e| *e.secret == *token.as_bytes()) {
                return Err(format!(
                    "token `{name}` is the same secret as another token; give each its own"
                ));
            }
            entries.push(Entry {
                name: name.into(),
                secret: token.into_bytes().into_boxed_slice(),
            });
        }
        Ok(Tokens {
            entries: entries.into(),
        })
    }

    /// Parses a token file: one `name:token` per line, or a bare token (named `default`);
    /// blank lines and lines starting with `#` are ignored. Errors name the line, never the
    /// token.
    pub fn parse_file(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut pairs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, token) = match line.split_once(':') {
                Some((name, token)) => (name.trim(), token.trim()),
                None => (DEFAULT_TOKEN_NAME, line),
            };
            if token.is_empty() {
                return Err(format!("line {}: token `{name}` is empty", i + 1));
            }
            check_name(name).map_err(|e| format!("line {}: {e}", i + 1))?;
            check_token(name, token).map_err(|e| format!("line {}: {e}", i + 1))?;
            pairs.push((name.to_string(), token.to_string()));
        }
        if pairs.is_empty() {
            return Err("holds no token (expected `name:token` lines or one bare token)".into());
        }
        Ok(pairs)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The token names, in file order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| &*e.name).collect()
    }

    /// Checks an `Authorization` header value. With no tokens configured every request is
    /// let in (`Ok(None)`); otherwise the name of the matching token comes back.
    pub fn authorize(&self, header: Option<&[u8]>) -> Result<Option<Arc<str>>, AuthFailure> {
        if self.entries.is_empty() {
            return Ok(None);
        }
        let presented = header.and_then(bearer).ok_or(AuthFailure::Missing)?;
        // Every configured token is compared, whatever matched before, and the index of
        // the match is selected without a branch: the time taken says nothing about which
        // token, or how much of one, the caller got right.
        let mut found = u32::MAX;
        for (i, e) in self.entries.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            found.conditional_assign(&index, equal(presented, &e.secret));
        }
        usize::try_from(found)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|e| Some(e.name.clone()))
            .ok_or(AuthFailure::Invalid)
    }
}

/// The token of a `Bearer` authorization (the scheme is case-insensitive, RFC 7235).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = value.get(7..)?.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Constant-time equality in the length of `secret`: the loop always runs over the whole
/// secret, and a length mismatch is folded in rather than returned early (`subtle`'s own
/// slice comparison returns at once when lengths differ, which would leak the length).
fn equal(presented: &[u8], secret: &[u8]) -> subtle::Choice {
    let mut same = (presented.len() as u64).ct_eq(&(secret.len() as u64));
    for (i, s) in secret.iter().enumerate() {
        same &= presented.get(i).copied().unwrap_or(0).ct_eq(s);
    }
    same
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "token name `{}` must be 1 to {MAX_NAME_CHARS} letters, digits, `_`, `-` or `.`",
            name.escape_debug()
        ))
    }
}

fn check_token(name: &str, token: &str) -> Result<(), String> {
    if token.len() < MIN_TOKEN_CHARS {
        return Err(format!(
            "token `{name}` is shorter than {MIN_TOKEN_CHARS} characters (got {})",
            token.len()
        ));
    }
    if token.len() > MAX_TOKEN_CHARS {
        return Err(format!(
            "token `{name}` is longer than {MAX_TOKEN_CHARS} characters"
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "token `{name}` must be printable ASCII without spaces"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "alice-0123456789abcdef";
    const B: &str = "bob-0123456789abcdefXY";

    fn tokens() -> Tokens {
        Tokens::new(vec![("alice".into(), A.into()), ("bob".into(), B.into())]).unwrap()
    }

    #[test]
    fn file_format_names_and_bare_tokens() {
        let text = format!("# team tokens\n\nalice:{A}\n  bob : {B}  \n");
        assert_eq!(
            Tokens::parse_file(&text).unwrap(),
            vec![("alice".into(), A.into()), ("bob".into(), B.into())]
        );
        assert_eq!(
            Tokens::parse_file(&format!("{A}\n")).unwrap(),
            vec![("default".into(), A.into())]
        );
    }

    #[test]
    fn file_errors_name_the_line_not_the_token() {
        let e = Tokens::parse_file("alice:short\n").unwrap_err();
        assert!(e.starts_with("line 1: token `alice` is shorter"), "{e}");
        assert!(!e.contains("short\n"));
        let e = Tokens::parse_file(&format!("\nbad name:{A}\n")).unwrap_err();
        assert!(e.starts_with("line 2: token name `bad name`"), "{e}");
        assert!(Tokens::parse_file("# nothing\n").is_err());
        let e = Tokens::new(vec![("a".into(), A.into()), ("a".into(), B.into())]).unwrap_err();
        assert!(e.contains("used twice"), "{e}");
        let e = Tokens::new(vec![("a".into(), A.into()), ("b".into(), A.into())]).unwrap_err();
        assert!(e.contains("same secret"), "{e}");
    }

    #[test]
    fn authorize_finds_the_token_name() {
        let t = tokens();
        let h = |s: &str| format!("Bearer {s}").into_bytes();
        assert_eq!(t.authorize(Some(&h(A))).unwrap().as_deref(), Some("alice"));
        assert_eq!(t.authorize(Some(&h(B))).unwrap().as_deref(), Some("bob"));
        assert_eq!(
            t.authorize(Some(format!("bearer  {B} ").as_bytes()))
                .unwrap()
                .as_deref(),
            Some("bob")
        );
        assert_eq!(t.authorize(None), Err(AuthFailure::Missing));
        assert_eq!(
            t.authorize(Some(format!("Basic {A}").as_bytes())),
            Err(AuthFailure::Missing)
        );
        assert_eq!(t.authorize(Some(b"Bearer ")), Err(AuthFailure::Missing));
        let longer = format!("{A}x");
        for wrong in [&A[..A.len() - 1], "alice-0123456789abcdeF", longer.as_str()] {
            assert_eq!(
                t.authorize(Some(&h(wrong))),
                Err(AuthFailure::Invalid),
                "{wrong}"
            );
        }
        assert_eq!(Tokens::default().authorize(None), Ok(None));
    }

    #[test]
    fn debug_shows_names_only() {
        let d = format!("{:?}", tokens());
        assert!(
            d.contains("alice") && !d.contains(A) && !d.contains(B),
            "{d}"
        );
    }
}
