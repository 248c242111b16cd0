//! `GET /api/tasks` as a stream: the board is read page by page from one snapshot and written
//! out as it is read, so a 20 MB board never sits whole in memory, and a client that stops
//! reading holds one page (until the write-stall deadline closes it). At most
//! [`MAX_BOARD_STREAMS`] run at once.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use mission_control_core::BoardReader;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::body::Body;

/// Board downloads served at once; more are answered 503 with `Retry-After`.
pub const MAX_BOARD_STREAMS: usize = 32;
/// Tasks read and written per step.
const PAGE: usize = 256;

/// The semaphore that bounds board downloads.
pub fn limiter() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_BOARD_STREAMS))
}

enum Step {
    Open,
    Pages { first: bool },
    Closed,
}

/// The response for a board read: `{"tasks":[...],"seq":N}`, streamed.
pub fn response(reader: BoardReader, permit: OwnedSemaphorePermit) -> http::Response<Body> {
    let seq = reader.seq();
    let stream = futures_util::stream::unfold(
        (reader, Step::Open, permit),
        move |(mut reader, step, permit)| async move {
            match step {
                Step::Closed => None,
                Step::Open => Some((
                    Ok(Frame::data(Bytes::from_static(b"{\"tasks\":["))),
                    (reader, Step::Pages { first: true }, permit),
                )),
                Step::Pages { first } => match reader.next_page(PAGE).await {
                    Ok(page) if page.is_empty() => Some((
                        Ok(Frame::data(Bytes::from(format!("],\"seq\":{seq}}}")))),
                        (reader, Step::Closed, permit),
                    )),
                    Ok(page) => {
                        let mut chunk = Vec::with_capacity(page.len() * 320);
                        for (i, task) in page.iter().enumerate() {
                            if !(first && i == 0) {
                                chunk.push(b',');
                            }
                            if let Err(e) = serde_json::to_writer(&mut chunk, task) {
                                return Some((
                                    Err(std::io::Error::other(e)),
                                    (reader, Step::Closed, permit),
                                ));
                            }
                        }
                        Some((
                            Ok(Frame::data(Bytes::from(chunk))),
                            (reader, Step::Pages { first: false }, permit),
                        ))
                    }
                    // Too late for a status: the client sees a truncated body and a reset.
                    Err(e) => {
                        tracing::error!(error = %e, "reading the board failed mid-stream");
                        Some((
                            Err(std::io::Error::other(e)),
                            (reader, Step::Closed, permit),
                        ))
                    }
                },
            }
        },
    );
    let mut response = http::Response::new(StreamBody::new(stream).boxed_unsync());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
