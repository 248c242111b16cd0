//! The stream every connection is served over: the TCP stream, with three guards.
//!
//! - **Write stall.** A write that makes no progress for [`WRITE_STALL_TIMEOUT`] fails the
//!   connection. A client that stops reading (a stalled board download, a WebSocket nobody
//!   drains) therefore holds its buffers for a bounded time only.
//! - **Close from elsewhere.** [`ConnectionControl::close`] makes the next read or write fail,
//!   waking a connection that is idle: how a socket whose token expired, or that never signed
//!   in, loses its transport and not just its namespace.
//! - **What was written.** A connection given a [`WriteMeter`] (a WebSocket, which carries one
//!   socket's packets and nothing else) counts every byte it writes there: how the real-time
//!   side knows how much a socket has been handed and not yet sent.
//! - **Hyper's automatic answers.** When hyper cannot parse a request it answers 400, 414 or
//!   431 itself, with an empty body. Those answers are recognised on their way out and replaced
//!   with the API's JSON error, so every error a client sees has the one shape.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use atomic_waker::AtomicWaker;
use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::admission::Admitted;
use crate::web::error::ApiError;

/// How long a write may make no progress before the connection is closed.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes written to the connections that carry one client's data, in all.
#[derive(Debug, Default)]
pub struct WriteMeter(AtomicU64);

impl WriteMeter {
    pub fn add(&self, bytes: usize) {
        self.0.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn written(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Closes one connection from outside the task serving it.
#[derive(Debug, Default)]
pub struct ConnectionControl {
    closed: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
    /// Where the bytes written from now on are counted, once the connection has one.
    meter: OnceLock<Arc<WriteMeter>>,
}

impl ConnectionControl {
    /// Counts every byte written from now on into `meter` (a connection has one meter at most).
    pub fn meter_into(&self, meter: &Arc<WriteMeter>) {
        let _ = self.meter.set(meter.clone());
    }

    /// Makes every later read and write of the connection fail, and wakes it if idle.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.reader.wake();
        self.writer.wake();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

pub struct GuardedStream<S> {
    inner: S,
    control: Arc<ConnectionControl>,
    stall_timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
    /// Bytes to write in place of an automatic answer hyper has handed us.
    replacement: Option<Bytes>,
    /// The connection's place under the connection caps: it lives as long as the stream,
    /// which outlives hyper's connection task once the connection is upgraded to a WebSocket.
    _place: Option<Arc<Admitted>>,
}

impl<S> GuardedStream<S> {
    pub fn new(inner: S, control: Arc<ConnectionControl>) -> Self {
        Self::with_stall_timeout(inner, control, WRITE_STALL_TIMEOUT)
    }

    pub fn with_stall_timeout(
        inner: S,
        control: Arc<ConnectionControl>,
        stall_timeout: Duration,
    ) -> Self {
        GuardedStream {
            inner,
            control,
            stall_timeout,
            stalled: None,
            replacement: None,
            _place: None,
        }
    }

    /// Holds `place` until the stream is dropped.
    pub fn holding(mut self, place: Arc<Admitted>) -> Self {
        self._place = Some(place);
        self
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "closed by the server")
}

impl<S: AsyncWrite + Unpin> GuardedStream<S> {
    /// Tracks how long writes have been pending: `Ready` when the wait is over.
    fn stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout = self.stall_timeout;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Runs one write-side operation with the stall deadline.
    fn guarded<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        self.control.writer.register(cx.waker());
        if self.control.is_closed() {
            return Poll::Ready(Err(closed()));
        }
        match op(Pin::new(&mut self.inner), cx) {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => match self.stall(cx) {
                Poll::Ready(e) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    /// Writes out what is left of a replacement answer.
    fn drain_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(mut bytes) = self.replacement.take() {
            if bytes.is_empty() {
                break;
            }
            let chunk = bytes.clone();
            match self.guarded(cx, |inner, cx| inner.poll_write(cx, &chunk)) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    bytes.advance(n);
                    self.replacement = Some(bytes);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.replacement = Some(bytes);
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.control.reader.register(cx.waker());
        if this.control.is_closed() {
            return Poll::Ready(Err(closed()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain_replacement(cx))?;
        if let Some(json) = automatic_answer(buf) {
            this.replacement = Some(json);
            return Poll::Ready(Ok(buf.len()));
        }
        let written = this.guarded(cx, |inner, cx| inner.poll_write(cx, buf));
        if let Poll::Ready(Ok(n)) = written
            && let Some(meter) = this.control.meter.get()
        {
            meter.add(n);
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain_replacement(cx))?;
        this.guarded(cx, |inner, cx| inner.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain_replacement(cx))?;
        this.guarded(cx, |inner, cx| inner.poll_shutdown(cx))
    }
}

/// If `head` is one of hyper's own bodyless error answers, the JSON answer to send instead.
fn automatic_answer(head: &[u8]) -> Option<Bytes> {
    let status = head.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let error = match status {
        b"400" => ApiError::MalformedRequest,
        b"414" => ApiError::HeaderTooLarge {
            header: "the URI",
            limit: super::serve::MAX_HEAD_BYTES,
        },
        b"431" => ApiError::HeaderTooLarge {
            header: "the header section",
            limit: super::serve::MAX_HEAD_BYTES,
        },
        _ => return None,
    };
    // Only a bare head with no body: every answer of our own carries a JSON body.
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != head.len() {
        return None;
    }
    let lower = head.to_ascii_lowercase();
    if !lower.windows(19).any(|w| w == b"content-length: 0\r\n") {
        return None;
    }
    let (status, body) = error.json_bytes();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(Bytes::from(answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn only_hyper_bodyless_errors_are_replaced() {
        let hyper_431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = automatic_answer(hyper_431).expect("replaced");
        let text = String::from_utf8(answer.to_vec()).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
        assert!(text.contains("\"code\":\"header_too_large\""), "{text}");
        assert!(automatic_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 10\r\n\r\n{\"error\":1}";
        assert!(automatic_answer(ours).is_none());
    }

    #[tokio::test]
    async fn a_write_that_never_progresses_fails_after_the_timeout() {
        // A pipe whose far end never reads: writes stall once its buffer is full.
        let (near, _far) = tokio::io::duplex(64);
        let control = Arc::new(ConnectionControl::default());
        let mut stream =
            GuardedStream::with_stall_timeout(near, control, Duration::from_millis(50));
        let err = stream.write_all(&[0u8; 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn close_wakes_an_idle_reader() {
        let (near, _far) = tokio::io::duplex(64);
        let control = Arc::new(ConnectionControl::default());
        let mut stream = GuardedStream::new(near, control.clone());
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            stream.read(&mut buf).await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        control.close();
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
    }
}
