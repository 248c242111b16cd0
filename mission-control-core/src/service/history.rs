//! The board's history, as readers follow it: the event log behind the dashboard's activity
//! feed, and the change log a client (or another process) resumes from after a disconnect;
//! and what a process following the change log learns from the entries other processes wrote.

use serde::Deserialize;

use super::MissionControl;
use super::pages::{CHANGES_PAGE_MAX_BYTES, collect_within};
use crate::bus::ChangeEntry;
use crate::domain::Agent;
use crate::error::Result;
use crate::store::{EventPage, EventQuery, changes, events};

/// The changes after a client's last seq, or word that they are no longer all kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Catchup {
    /// Every entry after the seq asked for, in order, up to the page size (the changes clients
    /// receive and the revocations they do not: see [`ChangeEntry::for_clients`]); `latest`
    /// is the newest seq at the time of the read.
    Changes(ChangePage),
    /// Some changes after that seq have been swept (or the seq is not this board's): the
    /// client must reload the snapshot (`GET /api/tasks`, `GET /api/agents`).
    ResyncRequired { oldest: Option<i64>, latest: i64 },
}

/// One page of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    pub changes: Vec<ChangeEntry>,
    pub latest: i64,
}

impl ChangePage {
    /// Whether the log held more after this page when it was read (the page stopped at its
    /// limit or its bytes): read on from its last seq.
    pub fn more(&self) -> bool {
        self.changes.last().is_some_and(|c| c.seq < self.latest)
    }
}

impl MissionControl {
    /// The event log: newest first, or with `after`, oldest first from a seq.
    pub async fn list_events(&self, query: EventQuery) -> Result<EventPage> {
        self.read(move |conn| events::list(conn, query)).await
    }

    /// The newest seq handed out so far (0 on a new board).
    pub async fn latest_seq(&self) -> Result<i64> {
        self.read(changes::latest).await
    }

    /// Up to `limit` changes after `after`, in order, within
    /// [`CHANGES_PAGE_MAX_BYTES`](super::CHANGES_PAGE_MAX_BYTES) of payload (at least one
    /// change; [`ChangePage::more`] says whether more follow), or
    /// [`Catchup::ResyncRequired`] when the log no longer holds all of them.
    pub async fn changes_after(&self, after: i64, limit: usize) -> Result<Catchup> {
        self.read_snapshot(move |conn| {
            let latest = changes::latest(conn)?;
            let oldest = changes::oldest(conn)?;
            let gap = match oldest {
                _ if after > latest || after < 0 => true,
                _ if after == latest => false,
                None => true,
                Some(oldest) => after < oldest - 1,
            };
            if gap {
                return Ok(Catchup::ResyncRequired { oldest, latest });
            }
            // The log is one unbroken run of seqs; should it ever not be, the page stops at
            // the hole and the next read says resync, rather than skip a change silently.
            let (mut changes, _) = collect_within(
                limit,
                CHANGES_PAGE_MAX_BYTES,
                |c: &ChangeEntry| c.name.len() + c.payload.len(),
                |last, n| changes::after(conn, last.map_or(after, |c| c.seq), n),
            )?;
            let unbroken = changes
                .iter()
                .zip(after + 1..)
                .take_while(|(c, want)| c.seq == *want)
                .count();
            changes.truncate(unbroken);
            if changes.is_empty() && after < latest {
                return Ok(Catchup::ResyncRequired { oldest, latest });
            }
            Ok(Catchup::Changes(ChangePage { changes, latest }))
        })
        .await
    }

    /// Brings what this process keeps in memory up to date with an entry of the change log,
    /// which another process may have written: a revoked token is checked against the
    /// database at its next use (rather than trusted as verified), an agent's new status or
    /// its removal reaches presence. A process that follows the log (the server's relay)
    /// hands it every entry it reads there; entries this process wrote are known already,
    /// and learning them again changes nothing.
    pub fn learn(&self, change: &ChangeEntry) {
        #[derive(Deserialize)]
        struct AgentPayload {
            agent: Agent,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct AgentIdPayload {
            agent_id: String,
        }
        if let Some(token_hash) = change.revoked_token() {
            self.forget_verified(&[token_hash]);
            return;
        }
        match change.name.as_str() {
            "agent.status_changed" => {
                if let Ok(p) = serde_json::from_str::<AgentPayload>(&change.payload) {
                    self.inner.presence.note_status(&p.agent);
                }
            }
            "agent.removed" => {
                if let Ok(p) = serde_json::from_str::<AgentIdPayload>(&change.payload) {
                    self.inner.presence.forget(&p.agent_id);
                }
            }
            _ => {}
        }
    }

    /// Forgets changes past the retention window, the count and the size in bytes, oldest
    /// first; how many.
    pub(crate) async fn sweep_change_log(&self, now: i64) -> Result<usize> {
        let retention =
            i64::try_from(self.inner.change_log_retention.as_millis()).unwrap_or(i64::MAX);
        let bounds = changes::Bounds {
            before: now.saturating_sub(retention),
            keep: self.inner.change_log_max_entries,
            max_bytes: self.inner.change_log_max_bytes,
        };
        self.write(move |conn| Ok((changes::sweep(conn, bounds)?, vec![])))
            .await
    }

    /// The bytes of the payloads the change log keeps now.
    pub async fn change_log_bytes(&self) -> Result<u64> {
        let bytes = self.read(changes::size).await?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }
}
