//! Safe retries: a write made with an [`IdempotencyKey`] is carried out once; a retry with the
//! same key and the same request answers the first answer again and changes nothing; the same
//! key with another request is refused ([`Error::KeyReused`]). Keys live for a day.

use crate::store::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::claims::Completed;
use super::{Actor, MissionControl};
use crate::domain::{
    ClaimFilter, Comment, CommentText, IdempotencyKey, LeaseDuration, NewTask, Task, now_millis,
};
use crate::error::{Error, Result};
use crate::store::idempotency;
use crate::store::writer::Written;

/// Runs `work` unless `actor` already used `key`: then the stored answer (same request) or
/// [`Error::KeyReused`] (another request). Called inside a write, so check and record are
/// one transaction with the work itself.
pub(crate) fn once<T>(
    conn: &Connection,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    work: impl FnOnce(&Connection) -> Result<Written<T>>,
) -> Result<Written<T>>
where
    T: Serialize + DeserializeOwned,
{
    let Some(key) = key else {
        return work(conn);
    };
    if let Some((fingerprint, answer)) = idempotency::get(conn, &actor.agent_id, key.key())? {
        if fingerprint != key.fingerprint() {
            return Err(Error::KeyReused);
        }
        let value = serde_json::from_str(&answer)
            .map_err(|e| Error::Internal(format!("a stored answer is unreadable: {e}")))?;
        return Ok((value, vec![]));
    }
    let (value, events) = work(conn)?;
    let answer = serde_json::to_string(&value)
        .map_err(|e| Error::Internal(format!("cannot store an answer: {e}")))?;
    idempotency::insert(
        conn,
        &actor.agent_id,
        key.key(),
        key.fingerprint(),
        &answer,
        now_millis(),
    )?;
    Ok((value, events))
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
