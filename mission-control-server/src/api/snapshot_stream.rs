//! Large answers streamed from a consistent snapshot: the board (`GET /api/tasks`) and the
//! export (`GET /api/export`, JSON or CSV). Each is read page by page from one read
//! transaction and written out as it is read, so a 20 MB board never sits whole in memory, and
//! a client that stops reading holds one page until the write-stall deadline closes it. At most
//! [`MAX_SNAPSHOT_STREAMS`] run at once, [`MAX_SNAPSHOT_STREAMS_PER_ADDRESS`] for one client
//! address, so that no client can keep the others from loading the board.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use mission_control_core::{EXPORT_PAGE, Snapshot, now_millis};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::csv_rows;
use crate::web::body::Body;
use crate::web::client::client_key;

/// Snapshot streams served at once; more are answered 503 with `Retry-After`.
pub const MAX_SNAPSHOT_STREAMS: usize = 32;
/// Snapshot streams served at once to one client address (an IPv6 client per /64).
pub const MAX_SNAPSHOT_STREAMS_PER_ADDRESS: usize = 4;

/// The places for snapshot streams, overall and per address.
pub struct SnapshotStreams {
    overall: Arc<Semaphore>,
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// A stream's place, given back when the stream ends.
pub struct StreamPermit {
    _overall: OwnedSemaphorePermit,
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
    key: IpAddr,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                by_address.remove(&self.key);
            }
        }
    }
}

impl SnapshotStreams {
    pub fn new() -> Self {
        SnapshotStreams {
            overall: Arc::new(Semaphore::new(MAX_SNAPSHOT_STREAMS)),
            by_address: Arc::default(),
        }
    }

    /// A place for a stream to `client`, or `None` when there is none.
    pub fn admit(&self, client: IpAddr) -> Option<StreamPermit> {
        let key = client_key(client);
        let mut by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let mine = by_address.entry(key).or_default();
        if *mine >= MAX_SNAPSHOT_STREAMS_PER_ADDRESS {
            return None;
        }
        let overall: OwnedSemaphorePermit = self.overall.clone().try_acquire_owned().ok()?;
        *mine += 1;
        Some(StreamPermit {
            _overall: overall,
            by_address: self.by_address.clone(),
            key,
        })
    }
}

impl Default for SnapshotStreams {
    fn default() -> Self {
        Self::new()
    }
}

/// A list inside the JSON object being streamed.
#[derive(Clone, Copy)]
pub enum Section {
    Agents,
    Tasks,
    Comments,
    Events,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Agents => "agents",
            Section::Tasks => "tasks",
            Section::Comments => "comments",
            Section::Events => "events",
        }
    }
}

/// `{"tasks":[...],"seq":N}`, streamed.
pub fn board(snapshot: Snapshot, permit: StreamPermit) -> http::Response<Body> {
    let suffix = format!(",\"seq\":{}}}", snapshot.seq());
    json(snapshot, permit, "{".into(), vec![Section::Tasks], suffix)
}

/// The whole board as the export file (`mission-control-export`, version 1), streamed.
pub fn export_json(snapshot: Snapshot, permit: StreamPermit) -> http::Response<Body> {
    let prefix = format!(
        "{{\"format\":\"mission-control-export\",\"version\":1,\"exportedAt\":{},\"seq\":{},",
        now_millis(),
        snapshot.seq()
    );
    let sections = vec![
        Section::Agents,
        Section::Tasks,
        Section::Comments,
        Section::Events,
    ];
    let mut response = json(snapshot, permit, prefix, sections, "}".into());
    attachment(&mut response, "mission-control-export.json");
    response
}

struct JsonState {
    snapshot: Snapshot,
    prefix: Option<String>,
    sections: std::vec::IntoIter<Section>,
    current: Option<(Section, bool)>,
    first_section: bool,
    suffix: Option<String>,
    _permit: StreamPermit,
}

fn json(
    snapshot: Snapshot,
    permit: StreamPermit,
    prefix: String,
    sections: Vec<Section>,
    suffix: String,
) -> http::Response<Body> {
    let state = JsonState {
        snapshot,
        prefix: Some(prefix),
        sections: sections.into_iter(),
        current: None,
        first_section: true,
        suffix: Some(suffix),
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        let chunk = next_json_chunk(&mut state).await?;
        Some((chunk, state))
    });
    response(StreamBody::new(stream).boxed_unsync(), "application/json")
}

type Chunk = Result<Frame<Bytes>, std::io::Error>;

fn data(bytes: Vec<u8>) -> Chunk {
    Ok(Frame::data(Bytes::from(bytes)))
}

/// The next piece of the JSON object; `None` once it is complete.
async fn next_json_chunk(state: &mut JsonState) -> Option<Chunk> {
    if let Some(prefix) = state.prefix.take() {
        return Some(data(prefix.into_bytes()));
    }
    let Some((section, first)) = state.current else {
        match state.sections.next() {
            Some(section) => {
                let comma = if state.first_section { "" } else { "," };
                state.first_section = false;
                state.current = Some((section, true));
                return Some(data(format!("{comma}\"{}\":[", section.key()).into_bytes()));
            }
            None => return state.suffix.take().map(|s| data(s.into_bytes())),
        }
    };
    let page = match page_of(&mut state.snapshot, section).await {
        Ok(page) => page,
        // Too late for a status: the client sees a truncated body and a reset.
        Err(e) => {
            tracing::error!(error = %e, "reading a snapshot failed mid-stream");
            state.suffix = None;
            state.sections = Vec::new().into_iter();
            state.current = None;
            return Some(Err(std::io::Error::other(e)));
        }
    };
    if page.is_empty() {
        state.current = None;
        return Some(data(b"]".to_vec()));
    }
    state.current = Some((section, false));
    let mut chunk = Vec::with_capacity(page.len() * 320);
    for (i, item) in page.iter().enumerate() {
        if !(first && i == 0) {
            chunk.push(b',');
        }
        chunk.extend_from_slice(item);
    }
    Some(data(chunk))
}

/// One page of a section, each item already serialised. Agents come in one page.
async fn page_of(
    snapshot: &mut Snapshot,
    section: Section,
) -> mission_control_core::Result<Vec<Vec<u8>>> {
    fn encode<T: Serialize>(items: Vec<T>) -> Vec<Vec<u8>> {
        items
            .iter()
            .filter_map(|item| serde_json::to_vec(item).ok())
            .collect()
    }
    Ok(match section {
        Section::Agents => encode(snapshot.next_agents().await?),
        Section::Tasks => encode(snapshot.next_page(EXPORT_PAGE).await?),
        Section::Comments => encode(snapshot.next_comments(EXPORT_PAGE).await?),
        Section::Events => encode(snapshot.next_events(EXPORT_PAGE).await?),
    })
}

/// The board's tasks as CSV (one row each, a header first, formula cells made inert:
/// [`csv_rows`]), streamed.
pub fn export_csv(snapshot: Snapshot, permit: StreamPermit) -> http::Response<Body> {
    let state = (snapshot, true, false, permit);
    let stream =
        futures_util::stream::unfold(state, |(mut snapshot, header, done, permit)| async move {
            if done {
                return None;
            }
            let page = match snapshot.next_page(EXPORT_PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    return Some((
                        Err(std::io::Error::other(e)),
                        (snapshot, false, true, permit),
                    ));
                }
            };
            if page.is_empty() && !header {
                return None;
            }
            let bytes = csv_rows::rows(&page, header).map_err(std::io::Error::other);
            let last = page.is_empty();
            Some((
                bytes.map(|b| Frame::data(Bytes::from(b))),
                (snapshot, false, last, permit),
            ))
        });
    let mut response = response(
        StreamBody::new(stream).boxed_unsync(),
        "text/csv; charset=utf-8",
    );
    attachment(&mut response, "mission-control-tasks.csv");
    response
}

fn response(body: Body, content_type: &'static str) -> http::Response<Body> {
    let mut response = http::Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn attachment(response: &mut http::Response<Body>, name: &'static str) {
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
}
