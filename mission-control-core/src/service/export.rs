//! Getting the data out and back in: a JSON export of the whole board (agents, tasks with
//! their blockers, comments and the event log), importing one, and an online backup of the
//! SQLite file (safe while the server runs).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::MissionControl;
use crate::domain::{Agent, Comment, Event, Task, now_millis};
use crate::error::{Error, Result};
use crate::store::TaskFilter;
use crate::store::{agents, comments, events, tasks};

/// What an export file says it is.
pub const EXPORT_FORMAT: &str = "mission-control-export";
pub const EXPORT_VERSION: u32 = 1;
/// Rows read per step while exporting.
pub const EXPORT_PAGE: usize = 500;

/// A whole board, as exported and imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardExport {
    /// Always `mission-control-export`.
    pub format: String,
    /// The export format's version: 1.
    pub version: u32,
    /// Epoch milliseconds.
    pub exported_at: i64,
    /// The change log's position the export was taken at.
    pub seq: i64,
    pub agents: Vec<Agent>,
    pub tasks: Vec<Task>,
    pub comments: Vec<Comment>,
    pub events: Vec<Event>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub agents: usize,
    pub tasks: usize,
    pub comments: usize,
    pub events: usize,
    /// Rows whose id the board already had: left as they were.
    pub skipped: usize,
}

impl MissionControl {
    /// The whole board in memory, from one consistent snapshot (for the command line; the
    /// server streams the same sections page by page).
    pub async fn export(&self) -> Result<BoardExport> {
        let mut snapshot = self.read_board(TaskFilter::default()).await?;
        let agents = snapshot.agents().await?;
        let mut tasks = Vec::new();
        loop {
            let page = snapshot.next_page(EXPORT_PAGE).await?;
            if page.is_empty() {
                break;
            }
            tasks.extend(page);
        }
        let mut comments = Vec::new();
        loop {
            let page = snapshot.next_comments(EXPORT_PAGE).await?;
            if page.is_empty() {
                break;
            }
            comments.extend(page);
        }
        let mut events = Vec::new();
        loop {
            let page = snapshot.next_events(EXPORT_PAGE).await?;
            if page.is_empty() {
                break;
            }
            events.extend(page);
        }
        Ok(BoardExport {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            exported_at: now_millis(),
            seq: snapshot.seq(),
            agents,
            tasks,
            comments,
            events,
        })
    }

    /// Adds an export's rows to this board, in one transaction; rows whose id exists are
    /// skipped. Claims do not survive an import (leases are dropped), an agent whose name is
    /// taken gets its id appended, and imported events keep their text and time but no seq.
    /// Nothing is announced: import into a board no server is serving.
    pub async fn import(&self, export: BoardExport) -> Result<ImportReport> {
        if export.format != EXPORT_FORMAT || export.version != EXPORT_VERSION {
            return Err(Error::field(
                "format",
                format!("not a {EXPORT_FORMAT} file of version {EXPORT_VERSION}"),
            ));
        }
        self.write(move |conn| {
            let mut report = ImportReport::default();
            for mut agent in export.agents {
                if agents::exists(conn, &agent.id)? {
                    report.skipped += 1;
                    continue;
                }
                if agents::named(conn, &agent.name, &agent.id)?.is_some() {
                    agent.name = format!("{} ({})", agent.name, agent.id);
                }
                agents::insert(conn, &agent)?;
                report.agents += 1;
            }
            let mut edges = Vec::new();
            for mut task in export.tasks {
                if tasks::exists(conn, &task.id)? {
                    report.skipped += 1;
                    continue;
                }
                task.lease_expires_at = None;
                task.lease_seconds = None;
                tasks::insert(conn, &task)?;
                edges.push((task.id, task.blocked_by));
                report.tasks += 1;
            }
            for (id, blockers) in edges {
                let present: Vec<String> = blockers
                    .into_iter()
                    .filter(|b| tasks::exists(conn, b).unwrap_or(false))
                    .collect();
                tasks::set_blockers(conn, &id, &present)?;
            }
            for comment in export.comments {
                if !tasks::exists(conn, &comment.task_id)? || comments::exists(conn, &comment.id)? {
                    report.skipped += 1;
                    continue;
                }
                comments::insert(conn, &comment)?;
                report.comments += 1;
            }
            for mut event in export.events {
                if events::exists(conn, &event.id)? {
                    report.skipped += 1;
                    continue;
                }
                event.seq = None;
                events::insert(conn, &event)?;
                report.events += 1;
            }
            Ok((report, vec![]))
        })
        .await
    }

    /// Copies the database to `to` with SQLite's online backup: a consistent copy, taken
    /// while writes go on. Refuses to overwrite a file.
    pub async fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(Error::field(
                "file",
                format!("{} exists; choose a new file", to.display()),
            ));
        }
        let to = to.to_owned();
        self.read(move |conn| {
            let Some(conn) = conn.as_sqlite() else {
                return Err(Error::field(
                    "database",
                    "backup copies an SQLite file; on PostgreSQL use pg_dump (or your provider's \
                     snapshots) instead",
                ));
            };
            let mut target = rusqlite::Connection::open(&to).map_err(Error::from_sqlite)?;
            let backup =
                rusqlite::backup::Backup::new(conn, &mut target).map_err(Error::from_sqlite)?;
            backup
                .run_to_completion(256, std::time::Duration::from_millis(5), None)
                .map_err(Error::from_sqlite)?;
            Ok(())
        })
        .await
    }
}
