//! Getting the data out: a JSON export of the whole board (agents, tasks with their blockers,
//! comments and the event log), which `import` (in `import.rs`) reads back, and an online
//! backup of the SQLite file (safe while the server runs).
//!
//! The command line's export (`mission-control-server export`, [`MissionControl::export`])
//! also carries what moving the board to another store needs for its agents' tokens to keep
//! working there: each unexpired token's record (digests only, never a token), the remembered
//! revocations, and a check of the signing key, so that the import can tell whether the board
//! it goes into signs with the same key. The HTTP download leaves those three fields out: any
//! signed-in caller may download the board, and token records are the operator's business.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::MissionControl;
use crate::domain::{Agent, Comment, Event, RevokedToken, Task, TokenRecord, now_millis};
use crate::error::{Error, Result};
use crate::store::TaskFilter;

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
    /// Only in the command line's export: hex HMAC-SHA256 of a fixed text under the key that
    /// signed the tokens (`JWT_SECRET`), to check on import that the board signs with the same
    /// key. Never the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_check: Option<String>,
    /// Only in the command line's export: every unexpired token (digests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<TokenRecord>>,
    /// Only in the command line's export: tokens revoked, until they would have expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_tokens: Option<Vec<RevokedToken>>,
}

impl MissionControl {
    /// The whole board in memory, from one consistent snapshot, with its tokens' records (for
    /// the command line; the server streams the same sections page by page, without the
    /// tokens).
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
        let (tokens, revoked_tokens) = snapshot.credentials(now_millis()).await?;
        Ok(BoardExport {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            exported_at: now_millis(),
            seq: snapshot.seq(),
            agents,
            tasks,
            comments,
            events,
            signing_key_check: Some(self.signing_key_check().to_owned()),
            tokens: Some(tokens),
            revoked_tokens: Some(revoked_tokens),
        })
    }

    /// Tells this board's signing key from another's without showing it (see
    /// [`BoardExport::signing_key_check`]).
    pub fn signing_key_check(&self) -> &str {
        self.inner.keys.key_check()
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
