//! Consistent reads of a whole board, page by page: one read transaction on a connection of
//! its own, held while the pages are taken, so that a large board or an export is never in
//! memory at once and still shows one moment. The change log's position at that moment comes
//! with it (`seq`). Dropping the snapshot ends the transaction.

use crate::store::Connection;

use super::MissionControl;
use crate::domain::{Agent, Comment, Event, RevokedToken, Task, TokenRecord};
use crate::error::{Error, Result};
use crate::store::{
    self, TaskCursor, TaskFilter, agents, changes, comments, events, tasks, tokens,
};

/// A consistent view of the board, read in pages; see [`MissionControl::read_board`].
///
/// Each reader comes twice: `async` (each page read on the blocking pool) and `_now`, for a
/// caller on a thread that may block (inside `tokio::task::spawn_blocking`) that takes the
/// whole snapshot at once, so that the read transaction ends as soon as the reading does,
/// however slowly what was read is then sent on.
pub struct Snapshot {
    reading: Option<Reading>,
    pool: store::ReadPool,
    seq: i64,
}

/// The snapshot's connection (in its read transaction) and where each section stands.
struct Reading {
    conn: Connection,
    filter: TaskFilter,
    tasks_after: Option<TaskCursor>,
    tasks_done: bool,
    agents_read: bool,
    comments_after: Option<String>,
    events_after: Option<(i64, String)>,
}

/// The name the board stream uses: a snapshot read for its tasks.
pub type BoardReader = Snapshot;

impl MissionControl {
    /// A snapshot of the board (its tasks limited to `filter`) to read page by page.
    pub async fn read_board(&self, filter: TaskFilter) -> Result<Snapshot> {
        let pool = self.inner.readers.clone();
        let (conn, seq) = tokio::task::spawn_blocking(move || -> Result<_> {
            let conn = pool.checkout()?;
            conn.begin_read()?;
            match changes::latest(&conn) {
                Ok(seq) => Ok((conn, seq)),
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    pool.checkin(conn);
                    Err(e)
                }
            }
        })
        .await
        .map_err(|e| Error::Internal(format!("read task failed: {e}")))??;
        Ok(Snapshot {
            reading: Some(Reading {
                conn,
                filter,
                tasks_after: None,
                tasks_done: false,
                agents_read: false,
                comments_after: None,
                events_after: None,
            }),
            pool: self.inner.readers.clone(),
            seq,
        })
    }
}

impl Reading {
    fn next_page(&mut self, size: usize) -> Result<Vec<Task>> {
        if self.tasks_done {
            return Ok(Vec::new());
        }
        let page = tasks::page(&self.conn, &self.filter, self.tasks_after.as_ref(), size)?;
        self.tasks_done = page.len() < size;
        self.tasks_after = page.last().map(TaskCursor::after);
        Ok(page)
    }

    fn next_agents(&mut self) -> Result<Vec<Agent>> {
        if std::mem::replace(&mut self.agents_read, true) {
            return Ok(Vec::new());
        }
        agents::list(&self.conn)
    }

    fn next_comments(&mut self, size: usize) -> Result<Vec<Comment>> {
        let page = comments::page_all(&self.conn, self.comments_after.as_deref(), size)?;
        if let Some(last) = page.last() {
            self.comments_after = Some(last.id.clone());
        }
        Ok(page)
    }

    fn next_events(&mut self, size: usize) -> Result<Vec<Event>> {
        let page = events::page_all(&self.conn, self.events_after.as_ref(), size)?;
        if let Some(last) = page.last() {
            self.events_after = Some((last.timestamp, last.id.clone()));
        }
        Ok(page)
    }
}

impl Snapshot {
    /// The change log's position the snapshot was taken at.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    fn reading(&mut self) -> Result<&mut Reading> {
        self.reading
            .as_mut()
            .ok_or_else(|| Error::Internal("the snapshot was lost".into()))
    }

    /// Runs one read on the snapshot's connection, off the async threads.
    async fn with<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Reading) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let mut reading = self
            .reading
            .take()
            .ok_or_else(|| Error::Internal("the snapshot was lost".into()))?;
        let (reading, result) = tokio::task::spawn_blocking(move || {
            let result = f(&mut reading);
            (reading, result)
        })
        .await
        .map_err(|e| Error::Internal(format!("read task failed: {e}")))?;
        self.reading = Some(reading);
        result
    }

    /// The next `size` tasks, oldest first; empty once all have been read.
    pub async fn next_page(&mut self, size: usize) -> Result<Vec<Task>> {
        self.with(move |r| r.next_page(size)).await
    }

    /// Every agent, by name.
    pub async fn agents(&mut self) -> Result<Vec<Agent>> {
        self.with(|r| agents::list(&r.conn)).await
    }

    /// Every agent the first time (agents are few), nothing after: the agents as a section
    /// read in pages like the others.
    pub async fn next_agents(&mut self) -> Result<Vec<Agent>> {
        self.with(Reading::next_agents).await
    }

    /// The next `size` comments on any task, in the order they were made.
    pub async fn next_comments(&mut self, size: usize) -> Result<Vec<Comment>> {
        self.with(move |r| r.next_comments(size)).await
    }

    /// The next `size` events of the log, oldest first.
    pub async fn next_events(&mut self, size: usize) -> Result<Vec<Event>> {
        self.with(move |r| r.next_events(size)).await
    }

    /// The board's unexpired tokens (digests only) and remembered revocations: what the
    /// command line's export carries so that tokens keep working on the board it moves to.
    pub(crate) async fn credentials(
        &mut self,
        now: i64,
    ) -> Result<(Vec<TokenRecord>, Vec<RevokedToken>)> {
        self.with(move |r| {
            Ok((
                tokens::all_live(&r.conn, now)?,
                tokens::all_revoked(&r.conn, now)?,
            ))
        })
        .await
    }

    /// [`Snapshot::next_page`], here and now: blocks (call it where blocking is allowed).
    pub fn next_page_now(&mut self, size: usize) -> Result<Vec<Task>> {
        self.reading()?.next_page(size)
    }

    /// [`Snapshot::next_agents`], here and now: blocks.
    pub fn next_agents_now(&mut self) -> Result<Vec<Agent>> {
        self.reading()?.next_agents()
    }

    /// [`Snapshot::next_comments`], here and now: blocks.
    pub fn next_comments_now(&mut self, size: usize) -> Result<Vec<Comment>> {
        self.reading()?.next_comments(size)
    }

    /// [`Snapshot::next_events`], here and now: blocks.
    pub fn next_events_now(&mut self, size: usize) -> Result<Vec<Event>> {
        self.reading()?.next_events(size)
    }

    /// Ends the read transaction here and now (blocks), rather than on the blocking pool when
    /// the snapshot is dropped.
    pub fn finish_now(mut self) {
        if let Some(reading) = self.reading.take() {
            let _ = reading.conn.batch("ROLLBACK");
            self.pool.checkin(reading.conn);
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let Some(reading) = self.reading.take() else {
            return;
        };
        let pool = self.pool.clone();
        let end = move || {
            let _ = reading.conn.batch("ROLLBACK");
            pool.checkin(reading.conn);
        };
        // Ending the transaction is a round trip to the database: never on an async thread.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(end)),
            Err(_) => end(),
        }
    }
}
