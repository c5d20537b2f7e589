//! A request body as the service behind reads it: each chunk kept (`Bytes` clones, no copy),
//! and at its end the whole body checked as strict JSON ([`crate::model::json`]: a parser
//! that keeps the last of two repeated keys would otherwise see a value nobody can see). A
//! body the check refuses ends in an error instead of its end, so the service handles
//! nothing of it; what was kept and why it was refused stay readable through [`Kept`].

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};

use crate::model::json::{self, Problem};

#[derive(Default)]
struct Seen {
    chunks: Vec<Bytes>,
    complete: bool,
    refused: Option<Problem>,
}

/// What has been read of one request body.
#[derive(Clone, Default)]
pub struct Kept(Arc<Mutex<Seen>>);

impl Kept {
    fn lock(&self) -> MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `inner`, read through this record.
    pub fn body(&self, inner: Body) -> Body {
        Body::new(Tee {
            inner,
            kept: self.clone(),
        })
    }

    /// The whole body, once it has been read to its end.
    pub fn whole(&self) -> Option<Vec<u8>> {
        let seen = self.lock();
        seen.complete.then(|| seen.chunks.concat())
    }

    /// Why the strict JSON check refused the body (a repeated key, too many values).
    pub fn take_refused(&self) -> Option<Problem> {
        self.lock().refused.take()
    }
}

struct Tee {
    inner: Body,
    kept: Kept,
}

impl http_body::Body for Tee {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        match &frame {
            Poll::Ready(Some(Ok(f))) => {
                if let Some(data) = f.data_ref() {
                    this.kept.lock().chunks.push(data.clone());
                }
            }
            Poll::Ready(None) => {
                let mut seen = this.kept.lock();
                seen.complete = true;
                let checked = match seen.chunks.as_slice() {
                    [one] => json::check(one),
                    many => json::check(&many.concat()),
                };
                if let Err(p) = checked
                    && !p.kind.is_syntax()
                {
                    seen.refused = Some(p);
                    return Poll::Ready(Some(Err(axum::Error::new("refused by the JSON check"))));
                }
            }
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
