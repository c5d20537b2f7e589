//! rmcp's in-memory session table with a ceiling and an owner per session: a client that
//! opens sessions and never closes them fills its own quota and no more, the whole table
//! stops at `max`, and a session answers only the client that opened it (idle sessions
//! still expire after rmcp's keep-alive, five minutes).
//!
//! rmcp's `SessionManager::create_session` is given nothing about the request, so the
//! owner of the session being created travels in a task-local set by [`guard`], which runs
//! around rmcp's handling of each request; a refusal travels back the same way, so the
//! client gets 503 or 429 instead of rmcp's 500.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_core::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    ServerSseMessage, SessionId, SessionManager,
};

use crate::http::auth::Owner;
use crate::http::plain;
use crate::logging::Throttle;

static FULL: Throttle = Throttle::new();
static QUOTA: Throttle = Throttle::new();
static FOREIGN: Throttle = Throttle::new();

const HEADER_SESSION_ID: &str = "mcp-session-id";

/// Why a session was not created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// The whole table is full.
    Full { max: usize },
    /// This owner holds its quota already.
    Quota { max: usize },
}

/// What [`guard`] lends the session manager for one request.
struct Creating {
    owner: Owner,
    refused: Cell<Option<Refusal>>,
}

tokio::task_local! {
    static CREATING: Creating;
}

/// A [`LocalSessionManager`] that refuses to create more than `max` sessions, or more
/// than `per_owner` for one owner, and remembers who opened each session.
#[derive(Debug)]
pub struct BoundedSessions {
    inner: LocalSessionManager,
    max: usize,
    per_owner: usize,
    owners: Mutex<HashMap<SessionId, Owner>>,
    // Serialises the count-then-insert of `create_session`, so concurrent `initialize`
    // requests cannot overshoot the ceiling or a quota.
    creating: tokio::sync::Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error("session limit reached ({0} sessions open); close idle sessions or retry later")]
    Full(usize),
    #[error("session quota reached ({0} sessions open for this client)")]
    Quota(usize),
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

impl BoundedSessions {
    pub fn new(max: usize, per_owner: usize) -> BoundedSessions {
        BoundedSessions {
            inner: LocalSessionManager::default(),
            max,
            per_owner,
            owners: Mutex::new(HashMap::new()),
            creating: tokio::sync::Mutex::new(()),
        }
    }

    /// Sessions currently open.
    pub async fn len(&self) -> usize {
        self.inner.sessions.read().await.len()
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Owner>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.owners.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Who opened session `id`, while it is open.
    fn owner_of(&self, id: &str) -> Option<Owner> {
        self.owners().get(id).cloned()
    }
}

fn refuse(refusal: Refusal) {
    // Outside `guard` (never the case in this server) the refusal is still an error; only
    // the status the client sees would be rmcp's 500.
    let _ = CREATING.try_with(|c| c.refused.set(Some(refusal)));
}

impl SessionManager for BoundedSessions {
    type Error = SessionsError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let _one_at_a_time = self.creating.lock().await;
        let owner = CREATING
            .try_with(|c| c.owner.clone())
            .unwrap_or_else(|_| Owner::unknown());
        let open = {
            let live = self.inner.sessions.read().await;
            let mut owners = self.owners();
            // rmcp ends expired sessions through `close_session`; this only catches one
            // that ended some other way.
            owners.retain(|id, _| live.contains_key(id));
            live.len()
        };
        let held = self.owners().values().filter(|o| **o == owner).count();
        let (refusal, throttle, what) = if open >= self.max {
            let (max, what) = (self.max, "session limit reached (--max-sessions)");
            (Refusal::Full { max }, &FULL, what)
        } else if held >= self.per_owner {
            let max = self.per_owner;
            let what = "session quota reached (--max-sessions-per-token)";
            (Refusal::Quota { max }, &QUOTA, what)
        } else {
            let (id, transport) = self.inner.create_session().await?;
            self.owners().insert(id.clone(), owner);
            return Ok((id, transport));
        };
        if let Some(held_back) = throttle.admit() {
            tracing::warn!(open, held, owner = %owner, held_back, "{what}: refusing a new session");
        }
        refuse(refusal);
        Err(match refusal {
            Refusal::Full { .. } => SessionsError::Full(open),
            Refusal::Quota { .. } => SessionsError::Quota(held),
        })
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.owners().remove(id);
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }
}

/// The middleware in front of rmcp: a request naming a session opened by another owner is
/// refused before rmcp sees it; any other request runs with its owner lent to
/// [`BoundedSessions::create_session`], and a refusal from there becomes 503 (table full)
/// or 429 (quota) with a message.
pub(super) async fn guard(
    State(sessions): State<Arc<BoundedSessions>>,
    req: Request,
    next: Next,
) -> Response {
    let owner = req
        .extensions()
        .get::<Owner>()
        .cloned()
        .unwrap_or_else(Owner::unknown);
    if let Some(id) = req
        .headers()
        .get(HEADER_SESSION_ID)
        .and_then(|v| v.to_str().ok())
        && let Some(opener) = sessions.owner_of(id)
        && opener != owner
    {
        if let Some(held) = FOREIGN.admit() {
            tracing::warn!(
                owner = %owner,
                opener = %opener,
                held_back = held,
                "refused a request for a session opened by another client"
            );
        }
        return plain(
            StatusCode::FORBIDDEN,
            format!(
                "forbidden: this session was opened with another {}; open your own session \
                 with initialize",
                owner.kind()
            ),
        );
    }
    let creating = Creating {
        owner,
        refused: Cell::new(None),
    };
    let (refused, reply) = CREATING
        .scope(creating, async move {
            let reply = next.run(req).await;
            (CREATING.with(|c| c.refused.get()), reply)
        })
        .await;
    let (status, text) = match refused {
        None => return reply,
        Some(Refusal::Full { max }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("too many open sessions (limit {max}, --max-sessions)"),
        ),
        Some(Refusal::Quota { max }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many open sessions for this client (quota {max}, --max-sessions-per-token)"
            ),
        ),
    };
    let mut r = plain(
        status,
        format!("{text}: end idle sessions with DELETE /mcp, or retry later"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}
