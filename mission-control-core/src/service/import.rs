//! Importing an export (`mission-control-server import`): another board's rows added to this
//! one, held to the same rules as the API.
//!
//! Every row is checked with the domain types the API parses requests into (ids the API's
//! cursors accept, titles and text without control characters, at most 20 blockers and 20
//! tags, versions and times within their bounds), and the file as a whole with the API's rules
//! on the board (assignees registered, blockers present, no cycle, at most
//! [`TaskRefs::MAX_WAITING`] tasks waiting for one). A file that breaks any of them is refused
//! whole, naming the row and the field (`tasks[12].title`), and nothing is written: skipping the
//! bad rows instead would quietly import a board with holes (a task left out takes its comments
//! and the edges to it along), and a file that breaks the rules was made by hand or by a tool
//! with a bug, which is better said at once than found later. Rows whose id the board already
//! has are left as they are (`skipped`), so importing the same file twice adds nothing.
//!
//! Moving a board (SQLite to PostgreSQL, say) is an export and an import into a new board, so
//! what makes the board the same board survives: ids, the feed's order, and its agents'
//! tokens.
//! - The feed's lines keep their seqs, moved up past everything this board has logged (by
//!   nothing on a board that has logged nothing): the writer sets that many seqs aside, so the
//!   lines keep their order among themselves, come after this board's own, and every change
//!   made afterwards comes after them. A client that was up to date with the old board
//!   resumes on a new one with nothing missed; one that was behind is told to reload (the
//!   changes themselves are not carried: the lines are).
//! - Tokens (the command line's export only) are carried as their records, digests only, and
//!   only into a board that signs with the same key: the file's
//!   [`BoardExport::signing_key_check`] must be this board's, or the file is refused naming
//!   `signingKeyCheck` (leave the tokens out to import without them). A token revoked here,
//!   or in the file, is never added: revocations are remembered until the token would have
//!   expired, and a revocation in the file revokes the token here too.

mod credentials;
mod rows;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::MissionControl;
use super::blockers::in_a_cycle;
use super::export::{BoardExport, EXPORT_FORMAT, EXPORT_VERSION};
use crate::bus::DomainEvent;
use crate::domain::{
    Agent, AgentId, AgentName, Comment, CommentText, Event, LATEST_TIME_MS, RevokedToken, Task,
    TaskId, TaskRefs, TokenRecord, is_record_id, now_millis,
};
use crate::error::{Error, FieldError, Result};
use crate::store::writer::Seqs;
use crate::store::{Connection, Sql, agents, comments, events, params, tasks};
use credentials::{add_credentials, check_token, sha256_hex};
use rows::{check_agent, check_task};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub agents: usize,
    pub tasks: usize,
    pub comments: usize,
    pub events: usize,
    /// Tokens added (their records: digests only).
    pub tokens: usize,
    /// Revocations the file brought that the board did not know.
    pub revoked_tokens: usize,
    /// How far the imported feed lines' seqs were moved up (0: kept as they were); `None`
    /// when no line brought a seq.
    pub seq_shift: Option<i64>,
    /// Rows whose id the board already had (left as they were), and tokens not added because
    /// they were revoked or have expired.
    pub skipped: usize,
}

/// Most problems one refusal lists: enough to fix a file, bounded however bad it is.
const MAX_PROBLEMS: usize = 20;

/// The longest line of the feed accepted (the board's own are under 500 characters).
const EVENT_MESSAGE_MAX_CHARS: usize = 1_000;

/// The largest seq a board hands out: the largest whole number a JavaScript client reads
/// exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SEQ: i64 = (1 << 53) - 1;

impl MissionControl {
    /// Adds an export's rows to this board, in one transaction, once every row has passed the
    /// API's rules (see the module's documentation); rows whose id exists are skipped. Claims
    /// do not survive an import (leases are dropped), an agent whose name is taken gets its id
    /// appended, imported events keep their text, time and the order of their seqs, and tokens
    /// come only with the same signing key (see the module's documentation). Nothing is
    /// announced: import into a board no server is serving.
    pub async fn import(&self, export: BoardExport) -> Result<ImportReport> {
        if export.format != EXPORT_FORMAT || export.version != EXPORT_VERSION {
            return Err(Error::field(
                "format",
                format!("not a {EXPORT_FORMAT} file of version {EXPORT_VERSION}"),
            ));
        }
        let has_tokens = export.tokens.as_ref().is_some_and(|t| !t.is_empty());
        if has_tokens && export.signing_key_check.as_deref() != Some(self.signing_key_check()) {
            return Err(Error::field(
                "signingKeyCheck",
                "the file's tokens were signed with another key than this board's \
                 (JWT_SECRET): they would not be accepted here",
            ));
        }
        let rows = Rows::check(export)?;
        let (report, revoked) = self
            .write_with_seqs(move |conn, seqs| {
                let (report, revoked) = rows.add_to(conn, seqs, now_millis())?;
                let published = revoked
                    .iter()
                    .map(|h| DomainEvent::TokenRevoked {
                        token_hash: h.clone(),
                    })
                    .collect();
                Ok(((report, revoked), published))
            })
            .await?;
        self.forget_verified(&revoked);
        Ok(report)
    }
}

/// What is wrong with a file, row by row.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn full(&self) -> bool {
        self.0.len() >= MAX_PROBLEMS
    }

    fn push(&mut self, field: String, message: impl Into<String>) {
        if !self.full() {
            self.0.push(FieldError::new(field, message));
        }
    }

    /// The value, or `None` with the problem recorded against `section[row].field`.
    fn check<T>(&mut self, at: &Row, field: &str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| self.push(at.field(field), message))
            .ok()
    }

    fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

/// Where a row is in the file: `tasks[12]`.
struct Row {
    section: &'static str,
    index: usize,
}

impl Row {
    fn field(&self, field: &str) -> String {
        format!("{}[{}].{field}", self.section, self.index)
    }
}

fn time(at: i64) -> Result<i64, String> {
    if (0..=LATEST_TIME_MS).contains(&at) {
        Ok(at)
    } else {
        Err(format!(
            "must be a time in epoch milliseconds from 0 to {LATEST_TIME_MS}"
        ))
    }
}

fn agent_id(id: &str) -> Result<String, String> {
    AgentId::parse(id).map(|a| a.as_str().to_owned())
}

fn optional_agent_id(id: Option<&str>) -> Result<Option<String>, String> {
    id.map(agent_id).transpose()
}

fn record_id(id: &str, like: &str) -> Result<String, String> {
    if is_record_id(id) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "must be 1 to {} lowercase letters, digits or '-' (like {like}-0192...)",
            TaskId::MAX_CHARS
        ))
    }
}

/// An export's rows once each has passed the rules that need no database, as the API would
/// store them (titles trimmed, tags de-duplicated, claims dropped).
struct Rows {
    /// The change log's position the file was taken at: how many seqs its lines span.
    seq: i64,
    agents: Vec<Agent>,
    tasks: Vec<Task>,
    comments: Vec<Comment>,
    events: Vec<Event>,
    tokens: Vec<TokenRecord>,
    revoked_tokens: Vec<RevokedToken>,
}

impl Rows {
    fn check(export: BoardExport) -> Result<Rows> {
        let mut p = Problems::default();
        let mut rows = Rows {
            seq: export.seq,
            agents: Vec::new(),
            tasks: Vec::new(),
            comments: Vec::new(),
            events: Vec::new(),
            tokens: Vec::new(),
            revoked_tokens: Vec::new(),
        };
        if !(0..=MAX_SEQ).contains(&export.seq) {
            p.push(
                "seq".into(),
                format!("must be a whole number from 0 to {MAX_SEQ}"),
            );
        }
        let mut seqs_seen = HashSet::new();
        for (index, agent) in export.agents.into_iter().enumerate() {
            let at = Row {
                section: "agents",
                index,
            };
            if let Some(agent) = check_agent(&mut p, &at, agent) {
                rows.agents.push(agent);
            }
        }
        for (index, task) in export.tasks.into_iter().enumerate() {
            let at = Row {
                section: "tasks",
                index,
            };
            if let Some(task) = check_task(&mut p, &at, task) {
                rows.tasks.push(task);
            }
        }
        for (index, comment) in export.comments.into_iter().enumerate() {
            let at = Row {
                section: "comments",
                index,
            };
            let checked = (
                p.check(&at, "id", record_id(&comment.id, "cmt")),
                p.check(&at, "taskId", TaskId::parse(&comment.task_id)),
                p.check(&at, "author", agent_id(&comment.author)),
                p.check(&at, "text", CommentText::parse(&comment.text)),
                p.check(&at, "createdAt", time(comment.created_at)),
            );
            if let (Some(id), Some(task_id), Some(author), Some(text), Some(created_at)) = checked {
                rows.comments.push(Comment {
                    id,
                    task_id: task_id.into_string(),
                    author,
                    text: text.as_str().to_owned(),
                    created_at,
                });
            }
        }
        for (index, event) in export.events.into_iter().enumerate() {
            let at = Row {
                section: "events",
                index,
            };
            let checked = (
                p.check(&at, "id", record_id(&event.id, "evt")),
                p.check(
                    &at,
                    "message",
                    crate::domain::text_line(&event.message, EVENT_MESSAGE_MAX_CHARS),
                ),
                p.check(&at, "agentId", optional_agent_id(event.agent_id.as_deref())),
                p.check(
                    &at,
                    "taskId",
                    event
                        .task_id
                        .as_deref()
                        .map(|t| TaskId::parse(t).map(TaskId::into_string))
                        .transpose(),
                ),
                p.check(&at, "timestamp", time(event.timestamp)),
            );
            let seq = p.check(
                &at,
                "seq",
                match event.seq {
                    Some(seq) if !(1..=export.seq).contains(&seq) => Err(format!(
                        "must be a whole number from 1 to the file's seq ({})",
                        export.seq
                    )),
                    Some(seq) if !seqs_seen.insert(seq) => {
                        Err(format!("another line of the file has the seq {seq}"))
                    }
                    seq => Ok(seq),
                },
            );
            if let (
                (Some(id), Some(message), Some(agent_id), Some(task_id), Some(timestamp)),
                Some(seq),
            ) = (checked, seq)
            {
                rows.events.push(Event {
                    id,
                    event_type: event.event_type,
                    message,
                    agent_id,
                    task_id,
                    timestamp,
                    seq,
                });
            }
        }
        for (index, token) in export.tokens.into_iter().flatten().enumerate() {
            let at = Row {
                section: "tokens",
                index,
            };
            if let Some(token) = check_token(&mut p, &at, token) {
                rows.tokens.push(token);
            }
        }
        for (index, revoked) in export.revoked_tokens.into_iter().flatten().enumerate() {
            let at = Row {
                section: "revokedTokens",
                index,
            };
            let checked = (
                p.check(&at, "id", sha256_hex(&revoked.id)),
                p.check(&at, "expiresAt", time(revoked.expires_at)),
            );
            if let (Some(id), Some(expires_at)) = checked {
                rows.revoked_tokens.push(RevokedToken { id, expires_at });
            }
        }
        p.finish()?;
        Ok(rows)
    }

    /// Checks the rows against the board and adds them, inside the write; the report, and
    /// the hashes of the tokens the file's revocations revoked here.
    fn add_to(
        self,
        conn: &Connection,
        seqs: &mut Seqs,
        now: i64,
    ) -> Result<(ImportReport, Vec<String>)> {
        let mut report = ImportReport::default();
        for mut agent in self.agents {
            if agents::exists(conn, &agent.id)? {
                report.skipped += 1;
                continue;
            }
            if agents::named(conn, &agent.name, &agent.id)?.is_some() {
                agent.name = renamed(&agent.name, &agent.id);
            }
            agents::insert(conn, &agent)?;
            report.agents += 1;
        }
        let mut p = Problems::default();
        let mut added: Vec<(usize, Task)> = Vec::new();
        let mut ids = HashSet::new();
        for (index, task) in self.tasks.into_iter().enumerate() {
            if tasks::exists(conn, &task.id)? || !ids.insert(task.id.clone()) {
                report.skipped += 1;
                continue;
            }
            added.push((index, task));
        }
        check_against_board(conn, &mut p, &added, &ids)?;
        p.finish()?;
        for (_, task) in &added {
            tasks::insert(conn, task)?;
        }
        for (_, task) in &added {
            tasks::set_blockers(conn, &task.id, &task.blocked_by)?;
        }
        report.tasks = added.len();
        let mut p = Problems::default();
        for (index, comment) in self.comments.into_iter().enumerate() {
            if comments::exists(conn, &comment.id)? {
                report.skipped += 1;
                continue;
            }
            if !tasks::exists(conn, &comment.task_id)? {
                let at = Row {
                    section: "comments",
                    index,
                };
                p.push(at.field("taskId"), "names no task of the board or the file");
                continue;
            }
            comments::insert(conn, &comment)?;
            report.comments += 1;
        }
        p.finish()?;
        let revoked = add_credentials(conn, self.tokens, self.revoked_tokens, now, &mut report)?;
        let mut lines = Vec::with_capacity(self.events.len());
        for event in self.events {
            if events::exists(conn, &event.id)? {
                report.skipped += 1;
                continue;
            }
            lines.push(event);
        }
        if lines.iter().any(|e| e.seq.is_some()) {
            let shift = seqs.reserve(conn, self.seq)?;
            if shift > MAX_SEQ - self.seq {
                return Err(Error::field(
                    "seq",
                    "this board's change log is too far along to take the file's seqs",
                ));
            }
            for line in &mut lines {
                line.seq = line.seq.map(|seq| seq + shift);
            }
            report.seq_shift = Some(shift);
        }
        for line in &lines {
            events::insert(conn, line)?;
        }
        report.events = lines.len();
        Ok((report, revoked))
    }
}

/// The rules that need the board, for the tasks the import adds (`ids`: theirs): assignees
/// registered, blockers present, no cycle among them, room to wait for every blocker.
fn check_against_board(
    conn: &Connection,
    p: &mut Problems,
    added: &[(usize, Task)],
    ids: &HashSet<String>,
) -> Result<()> {
    const WAITING: Sql = Sql::new("SELECT COUNT(*) FROM task_blockers WHERE blocker_id = ?1");
    let at = |index: usize| Row {
        section: "tasks",
        index,
    };
    let mut waiting: HashMap<&str, usize> = HashMap::new();
    for (index, task) in added {
        if let Some(agent) = &task.assigned_agent
            && !agents::exists(conn, agent)?
        {
            p.push(
                at(*index).field("assignedAgent"),
                format!("no agent is registered with the id {agent}"),
            );
        }
        for blocker in &task.blocked_by {
            if !ids.contains(blocker) && !tasks::exists(conn, blocker)? {
                p.push(
                    at(*index).field("blockedBy"),
                    format!("no task of the board or the file has the id {blocker}"),
                );
            }
            *waiting.entry(blocker).or_default() += 1;
        }
        if p.full() {
            return Ok(());
        }
    }
    for (blocker, count) in waiting {
        let already: i64 = if ids.contains(blocker) {
            0
        } else {
            conn.value(&WAITING, params![blocker])?.unwrap_or(0)
        };
        if usize::try_from(already).unwrap_or(usize::MAX) + count > TaskRefs::MAX_WAITING {
            let index = added
                .iter()
                .find(|(_, t)| t.blocked_by.iter().any(|b| b == blocker))
                .map_or(0, |(i, _)| *i);
            p.push(
                at(index).field("blockedBy"),
                format!(
                    "more than {} tasks would wait for {blocker}, the most one task may have",
                    TaskRefs::MAX_WAITING
                ),
            );
        }
    }
    if let Some(index) = in_a_cycle(added) {
        p.push(
            at(index).field("blockedBy"),
            "makes the task wait for itself (directly or through other tasks of the file)",
        );
    }
    Ok(())
}

/// "Nova (agent-nova)": a name taken on this board, made unique, within the name's bound.
fn renamed(name: &str, id: &str) -> String {
    let suffix = format!(" ({id})");
    let room = AgentName::MAX_CHARS.saturating_sub(suffix.chars().count());
    let kept: String = name.chars().take(room).collect();
    format!("{}{suffix}", kept.trim_end())
}
