//! Safe retries: a write made with an [`IdempotencyKey`] is carried out once; a retry with the
//! same key and the same request answers the first answer again and changes nothing; the same
//! key with another request is refused ([`Error::KeyReused`]). Keys live for a day.
//!
//! What keys keep is bounded in bytes, so that no agent can fill the disk with them:
//! - an answer is kept whole up to [`IdempotencyKey::MAX_ANSWER_BYTES`] of JSON; a larger one
//!   is kept as the ids of what it is about, and a retry answers those as they are now (read
//!   again: the work is still never done twice; a task deleted since answers 404);
//! - one agent's keys take at most [`Options::idempotency_bytes_per_agent`] bytes in all (key,
//!   fingerprint and answer); past that its oldest keys are forgotten first, so a retry of one
//!   of those (long after the fact, behind that many newer keyed writes) does the work again,
//!   as a retry after the day is up does.
//!
//! [`Options::idempotency_bytes_per_agent`]: super::Options::idempotency_bytes_per_agent

use crate::store::Connection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::claims::Completed;
use super::{Actor, MissionControl, not_found};
use crate::domain::{
    ClaimFilter, Comment, CommentText, IdempotencyKey, LeaseDuration, NewTask, Task, now_millis,
};
use crate::error::{Error, Result};
use crate::store::idempotency::{self, Stored};
use crate::store::writer::Written;
use crate::store::{comments, tasks};

/// A write's key (if it came with one) and the quota its agent's keys live within: what a
/// keyed write carries onto the writer thread.
pub(crate) struct Keyed {
    key: Option<IdempotencyKey>,
    quota: u64,
}

impl Keyed {
    /// Runs `work` unless `actor` already used the key: then the stored answer (same request)
    /// or [`Error::KeyReused`] (another request). Called inside a write, so check and record
    /// are one transaction with the work itself.
    pub fn once<T: Answer>(
        &self,
        conn: &Connection,
        actor: &Actor,
        work: impl FnOnce(&Connection) -> Result<Written<T>>,
    ) -> Result<Written<T>> {
        let Some(key) = &self.key else {
            return work(conn);
        };
        if let Some(stored) = idempotency::get(conn, &actor.agent_id, key.key())? {
            if stored.fingerprint != key.fingerprint() {
                return Err(Error::KeyReused);
            }
            let value = if stored.whole {
                serde_json::from_str(&stored.answer)
                    .map_err(|e| Error::Internal(format!("a stored answer is unreadable: {e}")))?
            } else {
                let refs = serde_json::from_str(&stored.answer)
                    .map_err(|e| Error::Internal(format!("a stored answer is unreadable: {e}")))?;
                T::read_again(conn, refs)?
            };
            return Ok((value, vec![]));
        }
        let (value, events) = work(conn)?;
        let answer = serde_json::to_string(&value)
            .map_err(|e| Error::Internal(format!("cannot store an answer: {e}")))?;
        let stored = if answer.len() <= IdempotencyKey::MAX_ANSWER_BYTES {
            Stored {
                fingerprint: key.fingerprint().to_owned(),
                answer,
                whole: true,
            }
        } else {
            Stored {
                fingerprint: key.fingerprint().to_owned(),
                answer: serde_json::to_string(&value.refs())
                    .map_err(|e| Error::Internal(format!("cannot store an answer: {e}")))?,
                whole: false,
            }
        };
        idempotency::insert(
            conn,
            &actor.agent_id,
            key.key(),
            &stored,
            now_millis(),
            self.quota,
        )?;
        Ok((value, events))
    }
}

/// The ids an answer is about: what a retry reads again when the answer was too large to keep.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Refs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

/// An answer a keyed write gives: kept whole for its retries when small, as [`Refs`] when not.
pub(crate) trait Answer: Serialize + DeserializeOwned {
    fn refs(&self) -> Refs;
    /// The answer as the board holds it now.
    fn read_again(conn: &Connection, refs: Refs) -> Result<Self>;
}

fn task_again(conn: &Connection, id: Option<String>) -> Result<Task> {
    let id = id.unwrap_or_default();
    tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))
}

fn comment_again(conn: &Connection, id: &str) -> Result<Comment> {
    comments::get(conn, id)?.ok_or_else(|| not_found("comment", id))
}

impl Answer for Task {
    fn refs(&self) -> Refs {
        Refs {
            task: Some(self.id.clone()),
            comment: None,
        }
    }

    fn read_again(conn: &Connection, refs: Refs) -> Result<Self> {
        task_again(conn, refs.task)
    }
}

impl Answer for Option<Task> {
    fn refs(&self) -> Refs {
        Refs {
            task: self.as_ref().map(|t| t.id.clone()),
            comment: None,
        }
    }

    fn read_again(conn: &Connection, refs: Refs) -> Result<Self> {
        refs.task.map(|id| task_again(conn, Some(id))).transpose()
    }
}

impl Answer for Comment {
    fn refs(&self) -> Refs {
        Refs {
            task: None,
            comment: Some(self.id.clone()),
        }
    }

    fn read_again(conn: &Connection, refs: Refs) -> Result<Self> {
        comment_again(conn, refs.comment.as_deref().unwrap_or_default())
    }
}

impl Answer for Completed {
    fn refs(&self) -> Refs {
        Refs {
            task: Some(self.task.id.clone()),
            comment: self.comment.as_ref().map(|c| c.id.clone()),
        }
    }

    fn read_again(conn: &Connection, refs: Refs) -> Result<Self> {
        Ok(Completed {
            task: task_again(conn, refs.task)?,
            comment: refs
                .comment
                .map(|id| comment_again(conn, &id))
                .transpose()?,
        })
    }
}

/// The writes that accept an [`IdempotencyKey`], each carried out once per key:
/// `board.idempotent(key).create_task(&me, new)`.
pub struct Idempotent<'a> {
    mc: &'a MissionControl,
    key: Option<IdempotencyKey>,
}

impl MissionControl {
    /// The keyed writes; with `None`, the same writes without a key.
    pub fn idempotent(&self, key: Option<IdempotencyKey>) -> Idempotent<'_> {
        Idempotent { mc: self, key }
    }

    /// `key`, with the quota its agent's keys live within, for a keyed write.
    pub(crate) fn keyed(&self, key: Option<IdempotencyKey>) -> Keyed {
        Keyed {
            key,
            quota: self.inner.idempotency_bytes_per_agent,
        }
    }

    /// The bytes `actor`'s idempotency keys take now (key, fingerprint and answer).
    pub async fn idempotency_bytes(&self, actor: &Actor) -> Result<u64> {
        let agent = actor.agent_id.clone();
        let bytes = self
            .read(move |conn| idempotency::usage(conn, &agent))
            .await?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    /// Forgets keys older than a day; how many.
    pub(crate) async fn sweep_idempotency_keys(&self, now: i64) -> Result<usize> {
        let before = now - IdempotencyKey::KEPT_FOR_MS;
        self.write(move |conn| Ok((idempotency::sweep(conn, before)?, vec![])))
            .await
    }
}

impl Idempotent<'_> {
    pub async fn create_task(self, actor: &Actor, new: NewTask) -> Result<Task> {
        self.mc.create_task_keyed(actor, new, self.key).await
    }

    pub async fn claim(self, actor: &Actor, task_id: &str, lease: LeaseDuration) -> Result<Task> {
        self.mc.claim_keyed(actor, task_id, lease, self.key).await
    }

    pub async fn claim_next(
        self,
        actor: &Actor,
        filter: ClaimFilter,
        lease: LeaseDuration,
    ) -> Result<Option<Task>> {
        self.mc
            .claim_next_keyed(actor, filter, lease, self.key)
            .await
    }

    pub async fn add_comment(
        self,
        actor: &Actor,
        task_id: &str,
        text: CommentText,
    ) -> Result<Comment> {
        self.mc
            .add_comment_keyed(actor, task_id, text, self.key)
            .await
    }

    pub async fn complete(
        self,
        actor: &Actor,
        task_id: &str,
        note: Option<CommentText>,
    ) -> Result<Completed> {
        self.mc.complete_keyed(actor, task_id, note, self.key).await
    }
}
