//! MCP over stdio: rmcp's line framing with a screening step in front of its parser, so that
//! every line that cannot be a message gets a JSON-RPC error saying where and what.
//!
//! rmcp's `AsyncRwTransport` reads, parses and drops in one step: an oversized line, a line
//! that is not JSON or whose `id` it cannot read goes unanswered, and a repeated key keeps
//! its last value. It has no hook between framing and parsing, so this transport frames
//! lines with tokio-util's bounded codec (which rmcp's codec is written after), screens each
//! ([`screen`], over [`crate::model::json`]), parses what passes into rmcp's types and
//! writes answers with rmcp's `JsonRpcMessageCodec`. It adds the answer to a bad line and
//! backpressure ([`MAX_IN_FLIGHT`], [`MAX_UNWRITTEN_BYTES`]). Memory per message is bounded
//! by [`MAX_LINE_BYTES`] and [`MAX_JSON_VALUES`].

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ErrorData, JsonRpcMessage, RequestId,
    ServerJsonRpcMessage,
};
use rmcp::service::RoleServer;
use rmcp::transport::Transport;
use rmcp::transport::async_rw::JsonRpcMessageCodec;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::bytes::{Bytes, BytesMut};
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder, Encoder, FramedRead};

use crate::model::json::{self, KeySeed, MAX_JSON_VALUES, Problem, ProblemKind};

/// The longest line (one JSON-RPC message) read from stdin: 16 MiB, rmcp's own default
/// (`DEFAULT_MAX_LINE_LENGTH`). The largest valid snapshot (5,000 items in each list) is a
/// few MiB. A longer line is skipped as it arrives and answered with an error.
pub const MAX_LINE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// The most requests read and not yet answered on stdout. Beyond it, and beyond
/// [`MAX_UNWRITTEN_BYTES`], stdin is not read: a client that stops reading its answers
/// stops the server reading its requests, so replies cannot pile up in memory.
pub const MAX_IN_FLIGHT: usize = 64;

/// The most bytes of replies encoded and not yet written to stdout (see [`MAX_IN_FLIGHT`]).
pub const MAX_UNWRITTEN_BYTES: usize = 8 * 1024 * 1024;

/// How much of an oversized line is kept to find its `id`.
const PREFIX_KEPT: usize = 4096;

/// The read buffer: large enough that a big message costs few system calls.
const READ_BUFFER: usize = 64 * 1024;

/// The initial size of the buffer an answer is written into: a whole plan fits.
const ANSWER_BUFFER: usize = 32 * 1024;

type Writer<W> = Arc<Mutex<Option<W>>>;

/// A server-side MCP transport over a byte stream split in lines (stdin/stdout).
pub struct LineTransport<R, W> {
    read: FramedRead<R, Lines>,
    write: Writer<W>,
    /// Error answers written by `receive`; awaited before the transport reports the end, so
    /// that a client which sends a bad line and closes stdin still reads the answer.
    replies: Vec<JoinHandle<()>>,
    backlog: Arc<Backlog>,
}

/// tokio-util's bounded line codec, told to keep the start of an oversized line (where its
/// `id` usually is) instead of failing the stream.
struct Lines(AnyDelimiterCodec);

fn lines(max: usize) -> Lines {
    Lines(AnyDelimiterCodec::new_with_max_length(
        b"\n".to_vec(),
        Vec::new(),
        max,
    ))
}

enum Frame {
    Line(Bytes),
    Oversized(Vec<u8>),
}

impl Decoder for Lines {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<Frame>> {
        match self.0.decode(buf) {
            Ok(line) => Ok(line.map(Frame::Line)),
            // The codec skips the rest of the line from its next call on.
            Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => Ok(Some(Frame::Oversized(
                buf.get(..PREFIX_KEPT).unwrap_or(buf).to_vec(),
            ))),
            Err(AnyDelimiterCodecError::Io(e)) => Err(e),
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<Frame>> {
        let frame = self.decode(buf)?;
        if frame.is_none() && !buf.is_empty() {
            tracing::warn!(
                bytes = buf.len(),
                "stdin closed in the middle of a message; the incomplete message was ignored"
            );
            buf.clear();
        }
        Ok(frame)
    }
}

/// Requests read and not yet answered, and reply bytes not yet written: the bound that
/// stops `receive` reading while a client does not read (backpressure).
#[derive(Default)]
struct Backlog {
    /// Requests handed to rmcp, by id, until their answer is written (or cancelled: rmcp
    /// drops the answer to a cancelled request).
    requests: std::sync::Mutex<HashSet<RequestId>>,
    bytes: AtomicUsize,
    changed: tokio::sync::Notify,
}

impl Backlog {
    fn full(&self) -> bool {
        self.requests.lock().map_or(0, |r| r.len()) >= MAX_IN_FLIGHT
            || self.bytes.load(Ordering::Acquire) >= MAX_UNWRITTEN_BYTES
    }

    /// Waits until the backlog is under its bounds. Cancel safe: it holds no state.
    async fn room(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if !self.full() {
                return;
            }
            changed.await;
        }
    }

    /// Notes a message passed to rmcp: a request to answer, or a cancellation.
    fn received(&self, m: &ClientJsonRpcMessage) {
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        match m {
            JsonRpcMessage::Request(r) => {
                requests.insert(r.id.clone());
            }
            JsonRpcMessage::Notification(n) => {
                if let ClientNotification::CancelledNotification(c) = &n.notification
                    && let Some(id) = &c.params.request_id
                {
                    requests.remove(id);
                    self.changed.notify_waiters();
                }
            }
            _ => {}
        }
    }

    fn answered(&self, id: Option<&RequestId>, bytes: usize) {
        if let (Some(id), Ok(mut requests)) = (id, self.requests.lock()) {
            requests.remove(id);
        }
        self.bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.changed.notify_waiters();
    }
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    pub fn new(read: R, write: W) -> Self {
        LineTransport {
            read: FramedRead::with_capacity(read, lines(MAX_LINE_BYTES), READ_BUFFER),
            write: Arc::new(Mutex::new(Some(write))),
            replies: Vec::new(),
            backlog: Arc::default(),
        }
    }

    /// Overrides [`MAX_LINE_BYTES`] (tests use a small limit).
    pub fn with_max_line_bytes(mut self, n: usize) -> Self {
        *self.read.decoder_mut() = lines(n);
        self
    }

    /// Writes an error answer in the background: `receive` must stay cancel safe, and a
    /// write cancelled halfway would leave half a line on stdout.
    fn reply(&mut self, id: Option<RequestId>, error: ErrorData) {
        tracing::warn!(id = ?id, code = error.code.0, "{}", error.message);
        let send = write_bytes(
            self.write.clone(),
            encode(ServerJsonRpcMessage::error(error, id)),
        );
        self.replies.retain(|h| !h.is_finished());
        self.replies.push(tokio::spawn(async move {
            if let Err(e) = send.await {
                tracing::warn!("could not write an error answer: {e}");
            }
        }));
    }

    async fn drain_replies(&mut self) {
        while let Some(h) = self.replies.last_mut() {
            let _ = h.await;
            self.replies.pop();
        }
    }
}

/// One message as a line of JSON, by rmcp's own codec.
fn encode(message: ServerJsonRpcMessage) -> std::io::Result<BytesMut> {
    // Sized for a large answer up front: growing from empty to a 25 KB plan copies it
    // eight times over.
    let mut bytes = BytesMut::with_capacity(ANSWER_BUFFER);
    JsonRpcMessageCodec::<ServerJsonRpcMessage>::default().encode(message, &mut bytes)?;
    Ok(bytes)
}

async fn write_bytes<W>(write: Writer<W>, bytes: std::io::Result<BytesMut>) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let bytes = bytes?;
    let mut guard = write.lock().await;
    let w = guard
        .as_mut()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotConnected, "stdout is closed"))?;
    w.write_all(&bytes).await?;
    w.flush().await
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let id = match &item {
            JsonRpcMessage::Response(r) => Some(r.id.clone()),
            JsonRpcMessage::Error(e) => e.id.clone(),
            _ => None,
        };
        // Encoded now, so that the bytes waiting for stdout are counted (backpressure).
        let bytes = encode(item);
        let size = bytes.as_ref().map_or(0, BytesMut::len);
        self.backlog.bytes.fetch_add(size, Ordering::AcqRel);
        let backlog = self.backlog.clone();
        let write = write_bytes(self.write.clone(), bytes);
        async move {
            let written = write.await;
            backlog.answered(id.as_ref(), size);
            written
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            // Backpressure: while answers wait for a client that does not read them, read
            // no more requests.
            self.backlog.room().await;
            // Cancel safe (rmcp polls `receive` in a `select!`): a partial line stays in
            // the framed reader's buffer.
            let next = std::future::poll_fn(|cx| {
                futures_core::Stream::poll_next(std::pin::Pin::new(&mut self.read), cx)
            });
            match next.await {
                Some(Ok(Frame::Line(line))) => match screen(without_newline(&line)) {
                    Screened::Message(m) => {
                        self.backlog.received(&m);
                        return Some(*m);
                    }
                    Screened::Skip => {}
                    Screened::Reject { id, error } => self.reply(id, error),
                },
                Some(Ok(Frame::Oversized(prefix))) => {
                    let env = envelope(&prefix);
                    let error = ErrorData::invalid_request(
                        format!(
                            "invalid request: the message is longer than {} bytes, the most one line on stdio may carry; it was skipped unread",
                            self.read.decoder().0.max_length()
                        ),
                        None,
                    );
                    if env.id.is_some() || !env.has_method {
                        self.reply(env.id, error);
                    } else {
                        tracing::warn!("skipped an oversized notification");
                    }
                }
                Some(Err(e)) => {
                    tracing::error!("cannot read stdin: {e}");
                    self.drain_replies().await;
                    return None;
                }
                None => {
                    self.drain_replies().await;
                    return None;
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.drain_replies().await;
        let mut guard = self.write.lock().await;
        if let Some(mut w) = guard.take() {
            w.flush().await?;
        }
        Ok(())
    }
}

fn without_newline(line: &[u8]) -> &[u8] {
    // The codec removed the `\n`.
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // RFC 8259 §8.1 lets a parser ignore a byte order mark.
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

/// What a line turned out to be.
pub enum Screened {
    Message(Box<ClientJsonRpcMessage>),
    /// Blank, or a notification that cannot be read (notifications are never answered).
    Skip,
    /// Not a message: answer with this error.
    Reject {
        id: Option<RequestId>,
        error: ErrorData,
    },
}

/// Checks one line (without its newline) and parses it as a client message.
///
/// The line is walked once for what rmcp's parser does not report usefully (where a syntax
/// error is, repeated keys, the value count), then parsed by rmcp's own types.
pub fn screen(line: &[u8]) -> Screened {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Screened::Skip;
    }
    if let Err(problem) = json::check(line) {
        let env = envelope(line);
        if env.id.is_none() && env.has_method {
            tracing::warn!("ignored a notification that is not valid: {problem}");
            return Screened::Skip;
        }
        return Screened::Reject {
            id: env.id,
            error: problem_error(problem),
        };
    }
    match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
        Ok(m) => Screened::Message(Box::new(m)),
        Err(e) => {
            let env = envelope(line);
            if env.id.is_none() && env.has_method {
                // rmcp ignores notifications it does not know (LSP clients send some);
                // a notification is never answered.
                tracing::debug!("ignored a notification: {e}");
                return Screened::Skip;
            }
            let why = if !env.is_object {
                "a message is a JSON object (batches are not supported)".to_string()
            } else if !env.version_2 {
                "`jsonrpc` must be \"2.0\"".to_string()
            } else if !env.has_method && !env.has_result {
                "a message needs `method` (a request or notification) or `result` or `error` (a response)".to_string()
            } else {
                crate::model::input::clip_quoted(&strip_position(&e.to_string()))
            };
            Screened::Reject {
                id: env.id,
                error: ErrorData::invalid_request(format!("invalid request: {why}"), None),
            }
        }
    }
}

/// A line that is not strict JSON: a parse error, or an invalid request for JSON this
/// server refuses (a repeated key, too many values).
pub(crate) fn problem_error(p: Problem) -> ErrorData {
    let at = p.at();
    match p.kind {
        ProblemKind::NotUtf8(offset) => ErrorData::parse_error(
            format!("parse error{at}: the line is not valid UTF-8 (byte {offset})"),
            None,
        ),
        kind if kind.is_syntax() => {
            ErrorData::parse_error(format!("parse error{at}: {kind}"), None)
        }
        ProblemKind::TooManyValues => ErrorData::invalid_request(
            format!(
                "invalid request{at}: the message holds more than {MAX_JSON_VALUES} JSON values"
            ),
            None,
        ),
        kind => ErrorData::invalid_request(format!("invalid request{at}: {kind}"), None),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

/// What can be read of a message's envelope, even when the rest of it is broken: the
/// top-level keys before the first problem.
#[derive(Default)]
struct Envelope {
    is_object: bool,
    version_2: bool,
    id: Option<RequestId>,
    has_method: bool,
    has_result: bool,
}

/// Reads the top-level `id` and notes `method` / `result` / `error`, skipping every other
/// value without checking it, and keeping what it found when the line breaks off later.
fn envelope(line: &[u8]) -> Envelope {
    let mut env = Envelope::default();
    let mut de = serde_json::Deserializer::from_slice(line);
    // Anything but an object is an error here, leaving `is_object` false.
    let _ = (&mut de).deserialize_map(EnvelopeVisitor(&mut env));
    env
}

struct EnvelopeVisitor<'e>(&'e mut Envelope);

impl<'de> Visitor<'de> for EnvelopeVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.is_object = true;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key.as_ref() {
                "id" => self.0.id = map.next_value::<Option<RequestId>>()?,
                "jsonrpc" => {
                    self.0.version_2 = map.next_value::<String>()? == "2.0";
                }
                "method" => {
                    self.0.has_method = true;
                    map.next_value::<IgnoredAny>()?;
                }
                "result" | "error" => {
                    self.0.has_result = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}
