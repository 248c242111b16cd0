//! Large answers read from one consistent snapshot: the board (`GET /api/tasks`) and the
//! export (`GET /api/export`, JSON or CSV).
//!
//! The snapshot is read whole, page by page on one blocking thread, into a spill (memory up to
//! a cap, then a temporary file: see `spill`), and the body is sent from the spill as the client
//! reads. So the read transaction lasts only as long as reading takes, whoever downloads and
//! however slowly: a stalled download pins neither SQLite's write-ahead log nor a PostgreSQL
//! snapshot. At most [`SNAPSHOT_READERS`] snapshots are read at once (the others wait their
//! turn before opening theirs), and each download holds an answer slot (`slots`) until it is
//! sent, so that one address or one token cannot take every slot.

use std::io::Write;

use http::{HeaderValue, StatusCode, header};
use mission_control_core::{MissionControl, Snapshot, TaskFilter, now_millis};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::csv_rows;
use super::slots::{Slot, hold};
use super::spill::{SpillWriter, spill};
use crate::web::body::Body;
use crate::web::error::ApiError;

/// Snapshots read at once; reading one is quick (the database's pace), so the others wait.
pub const SNAPSHOT_READERS: usize = 2;
/// Rows read at a time: what the reading thread holds besides the spill.
const PAGE: usize = 64;

static READERS: Semaphore = Semaphore::const_new(SNAPSHOT_READERS);

/// What is downloaded.
#[derive(Clone, Copy, Debug)]
pub enum Download {
    /// `{"tasks":[...],"seq":N}`
    Board,
    /// The whole board as the export file (`mission-control-export`, version 1).
    ExportJson,
    /// The board's tasks as CSV (one row each, a header first).
    ExportCsv,
}

/// Reads the snapshot (tasks limited to `filter`) into a spill and answers with its body,
/// which holds `slot` until it is sent.
pub async fn download(
    mc: &MissionControl,
    filter: TaskFilter,
    what: Download,
    slot: Slot,
) -> Result<http::Response<Body>, ApiError> {
    let turn = READERS.acquire().await.map_err(|_| ApiError::Busy {
        reason: "the server is shutting down",
        retry_after: std::time::Duration::from_secs(1),
    })?;
    let mut snapshot = mc.read_board(filter).await?;
    let (mut out, body) = spill();
    tokio::task::spawn_blocking(move || {
        let outcome = match what {
            Download::Board => board(&mut snapshot, &mut out),
            Download::ExportJson => export_json(&mut snapshot, &mut out),
            Download::ExportCsv => export_csv(&mut snapshot, &mut out),
        };
        snapshot.finish_now();
        drop(turn);
        match &outcome {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            // Too late for a status: the client sees a truncated body and a reset.
            Err(e) => tracing::error!(error = %e, "reading a snapshot failed mid-download"),
            Ok(()) => {}
        }
        out.finish(outcome.map_err(|e| e.to_string()));
    });
    let (content_type, file) = match what {
        Download::Board => ("application/json", None),
        Download::ExportJson => ("application/json", Some("mission-control-export.json")),
        Download::ExportCsv => ("text/csv; charset=utf-8", Some("mission-control-tasks.csv")),
    };
    let mut response = response(hold(body, slot), content_type);
    if let Some(name) = file {
        attachment(&mut response, name);
    }
    Ok(response)
}

fn failed(e: mission_control_core::Error) -> std::io::Error {
    std::io::Error::other(e)
}

/// Writes each page `next` gives as JSON array items (without the brackets) until one is empty.
fn items<T: Serialize>(
    out: &mut SpillWriter,
    mut next: impl FnMut() -> mission_control_core::Result<Vec<T>>,
) -> std::io::Result<()> {
    let mut first = true;
    loop {
        let page = next().map_err(failed)?;
        if page.is_empty() {
            return Ok(());
        }
        for item in &page {
            if !std::mem::take(&mut first) {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, item)?;
        }
    }
}

fn board(snapshot: &mut Snapshot, out: &mut SpillWriter) -> std::io::Result<()> {
    out.write_all(b"{\"tasks\":[")?;
    items(out, || snapshot.next_page_now(PAGE))?;
    write!(out, "],\"seq\":{}}}", snapshot.seq())
}

fn export_json(snapshot: &mut Snapshot, out: &mut SpillWriter) -> std::io::Result<()> {
    write!(
        out,
        "{{\"format\":\"mission-control-export\",\"version\":1,\"exportedAt\":{},\"seq\":{},",
        now_millis(),
        snapshot.seq()
    )?;
    out.write_all(b"\"agents\":[")?;
    items(out, || snapshot.next_agents_now())?;
    out.write_all(b"],\"tasks\":[")?;
    items(out, || snapshot.next_page_now(PAGE))?;
    out.write_all(b"],\"comments\":[")?;
    items(out, || snapshot.next_comments_now(PAGE))?;
    out.write_all(b"],\"events\":[")?;
    items(out, || snapshot.next_events_now(PAGE))?;
    out.write_all(b"]}")
}

fn export_csv(snapshot: &mut Snapshot, out: &mut SpillWriter) -> std::io::Result<()> {
    let mut header = true;
    loop {
        let page = snapshot.next_page_now(PAGE).map_err(failed)?;
        if page.is_empty() && !header {
            return Ok(());
        }
        out.write_all(&csv_rows::rows(&page, header).map_err(std::io::Error::other)?)?;
        if page.is_empty() {
            return Ok(());
        }
        header = false;
    }
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
