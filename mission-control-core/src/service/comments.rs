//! Comments: notes on a task. Agents use them for progress, questions and results; a note by
//! the task's holder renews its claim.

use crate::store::Connection;

use super::pages::{PAGE_MAX_BYTES, collect_within, json_len};
use super::tasks::{renew_if_due, save};
use super::{Actor, MissionControl, log, not_found, quoted};
use crate::bus::DomainEvent;
use crate::domain::{Comment, CommentText, EventType, IdempotencyKey, Task, now_millis};
use crate::error::Result;
use crate::store::{agents, comments, tasks};

/// Comments returned at most per page.
pub const MAX_COMMENTS_PAGE: u32 = mission_control_actions::limits::PAGE_MAX as u32;

/// One page of a task's comments, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentPage {
    pub comments: Vec<Comment>,
    pub has_more: bool,
}

impl MissionControl {
    pub async fn add_comment(
        &self,
        actor: &Actor,
        task_id: &str,
        text: CommentText,
    ) -> Result<Comment> {
        self.add_comment_keyed(actor, task_id, text, None).await
    }

    pub(crate) async fn add_comment_keyed(
        &self,
        actor: &Actor,
        task_id: &str,
        text: CommentText,
        key: Option<IdempotencyKey>,
    ) -> Result<Comment> {
        let actor = actor.clone();
        let task_id = task_id.to_owned();
        let keyed = self.keyed(key);
        self.write(move |conn| {
            keyed.once(conn, &actor, |conn| {
                let now = now_millis();
                let task =
                    tasks::get(conn, &task_id)?.ok_or_else(|| not_found("task", &task_id))?;
                let (comment, mut published) = insert_comment(conn, &actor, &task, &text, now)?;
                if task.holder_at(now) == Some(actor.agent_id.as_str()) {
                    let mut renewed = task.clone();
                    if renew_if_due(&mut renewed, now) {
                        let renewed = save(conn, &task, renewed, Some(&actor), now)?;
                        published.push(DomainEvent::TaskUpdated(renewed));
                    }
                }
                Ok((comment, published))
            })
        })
        .await
    }

    /// Up to `limit` (at most 500) comments on a task after the comment `after`, oldest first,
    /// within [`PAGE_MAX_BYTES`](super::PAGE_MAX_BYTES) of JSON (at least one comment).
    pub async fn list_comments(
        &self,
        task_id: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<CommentPage> {
        let task_id = task_id.to_owned();
        let limit = limit.clamp(1, MAX_COMMENTS_PAGE);
        self.read_snapshot(move |conn| {
            if !tasks::exists(conn, &task_id)? {
                return Err(not_found("task", &task_id));
            }
            let (comments, has_more) =
                collect_within(limit as usize, PAGE_MAX_BYTES, json_len, |last, n| {
                    let from = last.map(|c: &Comment| c.id.as_str()).or(after.as_deref());
                    comments::list(conn, &task_id, from, n as u32)
                })?;
            Ok(CommentPage { comments, has_more })
        })
        .await
    }
}

/// Writes a comment and its event-log line; the comment and what to publish.
pub(crate) fn insert_comment(
    conn: &Connection,
    actor: &Actor,
    task: &Task,
    text: &CommentText,
    now: i64,
) -> Result<(Comment, Vec<DomainEvent>)> {
    let comment = Comment {
        id: format!("cmt-{}", uuid::Uuid::now_v7()),
        task_id: task.id.clone(),
        author: actor.agent_id.clone(),
        text: text.as_str().to_owned(),
        created_at: now,
    };
    comments::insert(conn, &comment)?;
    let who = agents::display_name(conn, &actor.agent_id)?;
    let message = format!(
        "{who} commented on {}: {}",
        quoted(&task.title),
        excerpt(text.as_str(), 80)
    );
    let event = log(
        conn,
        actor,
        EventType::CommentCreated,
        message,
        Some(&task.id),
        now,
    )?;
    Ok((
        comment.clone(),
        vec![
            DomainEvent::CommentCreated(comment),
            DomainEvent::EventLogged(event),
        ],
    ))
}

/// The first line of `text`, at most `max` characters, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max && !text.trim().contains('\n') {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpts_take_the_first_line() {
        assert_eq!(excerpt("short", 80), "short");
        assert_eq!(excerpt("\nfirst\nsecond", 80), "first…");
        assert_eq!(
            excerpt(&"x".repeat(100), 10),
            format!("{}…", "x".repeat(10))
        );
    }
}
