//! A download read at the database's pace and sent at the client's: what is read is kept in
//! memory up to [`MEMORY_BYTES`], and past that in an unnamed temporary file (in `TMPDIR`,
//! deleted as soon as it is closed), from which the body is sent as the client reads.
//!
//! Why: a full board or an export shows one moment of the board, which means one read
//! transaction. Held while a client downloads at its own pace, that transaction pins SQLite's
//! write-ahead log (it cannot start over while a reader may still need its pages: 32 stalled
//! downloads let it grow to 1.3 GB against its 16 MB bound) and keeps a PostgreSQL snapshot
//! open. Read into a spill, the transaction lasts as long as reading takes, and a client that
//! stops reading holds a file, not the database. A download must also keep moving: it is cut
//! once it has taken longer than [`deadline`] allows for what it has read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::web::body::Body;

/// What a download keeps in memory before it spills to a file.
pub const MEMORY_BYTES: usize = 1024 * 1024;
/// The pieces the reader hands over and the body sends.
const CHUNK_BYTES: usize = 64 * 1024;
/// How long any download may take, whatever its size...
const BASE_DEADLINE: Duration = Duration::from_secs(60);
/// ... and the slowest average pace past that, in bytes a second.
const MIN_BYTES_PER_SECOND: u64 = 128 * 1024;

/// How long a download of `bytes` may take in all.
pub fn deadline(bytes: u64) -> Duration {
    BASE_DEADLINE + Duration::from_secs(bytes / MIN_BYTES_PER_SECOND)
}

#[derive(Default)]
struct State {
    /// Read and not yet sent, in order, before anything in the file.
    memory: VecDeque<Bytes>,
    in_memory: usize,
    /// Once the memory is full, everything after goes here.
    file: Option<Arc<File>>,
    /// Bytes written to the file.
    in_file: u64,
    /// Bytes read in all.
    total: u64,
    done: bool,
    failed: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    /// Rung when something was added or the reading ended (one reader: a ring is kept).
    more: Notify,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where the reading side writes (on a thread that may block); `Write` for encoders.
pub struct SpillWriter {
    shared: Arc<Shared>,
    pending: Vec<u8>,
}

/// A new spill: its writing side and the response body that sends it.
pub fn spill() -> (SpillWriter, Body) {
    let shared = Arc::new(Shared {
        state: Mutex::default(),
        more: Notify::new(),
    });
    let writer = SpillWriter {
        shared: shared.clone(),
        pending: Vec::with_capacity(CHUNK_BYTES),
    };
    let reader = Reader {
        shared,
        sent_from_file: 0,
        started: Instant::now(),
    };
    let body = futures_util::stream::unfold(reader, |mut reader| async move {
        let chunk = reader.next().await?;
        Some((chunk.map(Frame::data), reader))
    });
    (writer, StreamBody::new(body).boxed_unsync())
}

impl SpillWriter {
    /// Hands what is pending to the body: to memory while there is room, else to the file.
    /// Fails once the body is gone (the client left): the reading stops there.
    fn hand_over(&mut self) -> std::io::Result<()> {
        if Arc::strong_count(&self.shared) == 1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client went away",
            ));
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.pending,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        let file = {
            let mut state = self.shared.state();
            state.total += chunk.len() as u64;
            if state.file.is_none() && state.in_memory + chunk.len() <= MEMORY_BYTES {
                state.in_memory += chunk.len();
                state.memory.push_back(chunk);
                drop(state);
                self.shared.more.notify_one();
                return Ok(());
            }
            match &state.file {
                Some(file) => file.clone(),
                None => {
                    let file = Arc::new(tempfile::tempfile()?);
                    state.file = Some(file.clone());
                    file
                }
            }
        };
        // Appended outside the lock; the body reads only up to what is counted below.
        (&*file).write_all(&chunk)?;
        self.shared.state().in_file += chunk.len() as u64;
        self.shared.more.notify_one();
        Ok(())
    }

    /// The reading is over: `Ok` when everything was read, else why not (the client sees a
    /// cut-off body).
    pub fn finish(mut self, outcome: Result<(), String>) {
        let outcome = outcome.and_then(|()| self.hand_over().map_err(|e| e.to_string()));
        let mut state = self.shared.state();
        state.done = true;
        state.failed = outcome.err();
        drop(state);
        self.shared.more.notify_one();
    }
}

impl Write for SpillWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= CHUNK_BYTES {
            self.hand_over()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SpillWriter {
    fn drop(&mut self) {
        // A reading that ended without `finish` (it panicked): the body must not wait forever.
        let mut state = self.shared.state();
        if !state.done {
            state.done = true;
            state.failed = Some("the board could not be read to the end".into());
            drop(state);
            self.shared.more.notify_one();
        }
    }
}

struct Reader {
    shared: Arc<Shared>,
    sent_from_file: u64,
    started: Instant,
}

enum Next {
    Memory(Bytes),
    File(Arc<File>, u64, usize),
    Wait,
    End(Option<String>),
}

impl Reader {
    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        loop {
            let next = {
                let mut state = self.shared.state();
                if self.started.elapsed() > deadline(state.total) {
                    return Some(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client reads too slowly",
                    )));
                }
                if let Some(chunk) = state.memory.pop_front() {
                    state.in_memory -= chunk.len();
                    Next::Memory(chunk)
                } else if let Some(file) = state.file.as_ref()
                    && state.in_file > self.sent_from_file
                {
                    let len = (state.in_file - self.sent_from_file).min(CHUNK_BYTES as u64);
                    Next::File(file.clone(), self.sent_from_file, len as usize)
                } else if state.done {
                    Next::End(state.failed.take())
                } else {
                    Next::Wait
                }
            };
            match next {
                Next::Memory(chunk) => return Some(Ok(chunk)),
                Next::File(file, at, len) => {
                    let read = tokio::task::spawn_blocking(move || {
                        let mut buf = vec![0; len];
                        file.read_exact_at(&mut buf, at).map(|()| Bytes::from(buf))
                    })
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                    if let Ok(chunk) = &read {
                        self.sent_from_file += chunk.len() as u64;
                    }
                    return Some(read);
                }
                Next::End(None) => return None,
                Next::End(Some(why)) => return Some(Err(std::io::Error::other(why))),
                Next::Wait => {
                    let left =
                        deadline(self.shared.state().total).saturating_sub(self.started.elapsed());
                    let _ = tokio::time::timeout(left, self.shared.more.notified()).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut body: Body) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| e.to_string())?;
            out.extend_from_slice(&frame.into_data().unwrap_or_default());
        }
        Ok(out)
    }

    #[tokio::test]
    async fn what_does_not_fit_in_memory_is_sent_from_the_file_in_order() {
        let (mut writer, body) = spill();
        let expected: Vec<u8> = (0..3 * MEMORY_BYTES).map(|i| (i % 251) as u8).collect();
        let data = expected.clone();
        let reading = tokio::task::spawn_blocking(move || {
            for piece in data.chunks(10_000) {
                writer.write_all(piece).unwrap();
            }
            let spilled = writer.shared.state().file.is_some();
            writer.finish(Ok(()));
            spilled
        });
        assert!(reading.await.unwrap(), "past the memory, a file");
        assert_eq!(read_all(body).await.unwrap(), expected);
    }

    #[test]
    fn the_reading_stops_once_the_body_is_gone() {
        let (mut writer, body) = spill();
        drop(body);
        let piece = vec![0u8; CHUNK_BYTES];
        assert_eq!(
            writer.write_all(&piece).unwrap_err().kind(),
            std::io::ErrorKind::BrokenPipe
        );
    }

    #[tokio::test]
    async fn a_reading_that_failed_cuts_the_body_off() {
        let (mut writer, body) = spill();
        writer.write_all(b"{\"tasks\":[").unwrap();
        writer.finish(Err("the database went away".into()));
        assert!(read_all(body).await.unwrap_err().contains("went away"));
    }
}
