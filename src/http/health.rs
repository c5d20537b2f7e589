//! `GET /healthz` for a load balancer: 503 while the server drains, 503 while its store
//! does not answer (a replica whose database is gone is taken out of rotation, and put
//! back once a check passes again), 200 otherwise.

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

/// How long `/healthz` waits for the store before answering 503 (a balancer's check times
/// out after a few seconds; haproxy's default is the server's `inter`, 2 s).
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

/// Whether the server can serve: `Err` says why not (naming the database, never its
/// password). It blocks (a database round trip), so it runs on the blocking pool.
#[derive(Clone)]
pub struct Readiness {
    check: Arc<dyn Fn() -> Result<(), String> + Send + Sync>,
    /// One check at a time: a store that hangs holds one pool thread, not one per probe.
    one: Arc<Semaphore>,
    /// Why the last check that ended failed, if it did: what a probe says while the next
    /// check is still waiting (a pool waits out its connect timeout on a server that is gone).
    last: Arc<std::sync::Mutex<Option<String>>>,
}

impl Readiness {
    pub fn new(check: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> Readiness {
        Readiness {
            check: Arc::new(check),
            one: Arc::new(Semaphore::new(1)),
            last: Arc::default(),
        }
    }

    /// The check's answer, or why there is none within [`CHECK_TIMEOUT`].
    pub async fn check(&self) -> Result<(), String> {
        let last = || {
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            last.as_ref()
                .map(|e| format!(" (last check: {e})"))
                .unwrap_or_default()
        };
        let Ok(permit) = self.one.clone().try_acquire_owned() else {
            return Err(format!(
                "the previous check is still waiting for the store{}",
                last()
            ));
        };
        let (check, record) = (self.check.clone(), self.last.clone());
        let run = tokio::task::spawn_blocking(move || {
            let _one = permit;
            let answer = check();
            *record.lock().unwrap_or_else(PoisonError::into_inner) = answer.clone().err();
            answer
        });
        match tokio::time::timeout(CHECK_TIMEOUT, run).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => Err(format!("the check failed: {e}")),
            Err(_) => Err(format!(
                "the store did not answer within {} s{}",
                CHECK_TIMEOUT.as_secs_f64(),
                last()
            )),
        }
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Readiness")
    }
}

/// The answer to `GET /healthz`.
pub async fn healthz(draining: bool, ready: Option<Readiness>) -> (StatusCode, String) {
    if draining {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining\n".into());
    }
    if let Some(ready) = ready
        && let Err(why) = ready.check().await
    {
        tracing::warn!("/healthz: unavailable: {why}");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unavailable: {why}\n"),
        );
    }
    (StatusCode::OK, "ok\n".into())
}
