//! Consistent reads of a whole board, page by page: one read transaction on a connection of
//! its own, held while the pages are taken, so that a large board or an export is never in
//! memory at once and still shows one moment. The change log's position at that moment comes
//! with it (`seq`). Dropping the snapshot ends the transaction.

use crate::store::Connection;

use super::MissionControl;
use crate::domain::{Agent, Comment, Event, Task};
use crate::error::{Error, Result};
use crate::store::{self, TaskCursor, TaskFilter, agents, changes, comments, events, tasks};

/// A consistent view of the board, read in pages; see [`MissionControl::read_board`].
pub struct Snapshot {
    conn: Option<Connection>,
    pool: store::ReadPool,
    filter: TaskFilter,
    seq: i64,
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
            conn: Some(conn),
            pool: self.inner.readers.clone(),
            filter,
            seq,
            tasks_after: None,
            tasks_done: false,
            agents_read: false,
            comments_after: None,
            events_after: None,
        })
    }
}

impl Snapshot {
    /// The change log's position the snapshot was taken at.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Runs one read on the snapshot's connection, off the async threads.
    async fn with<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self
            .conn
            .take()
            .ok_or_else(|| Error::Internal("the snapshot was lost".into()))?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = f(&conn);
            (conn, result)
        })
        .await
        .map_err(|e| Error::Internal(format!("read task failed: {e}")))?;
        self.conn = Some(conn);
        result
    }

    /// The next `size` tasks, oldest first; empty once all have been read.
    pub async fn next_page(&mut self, size: usize) -> Result<Vec<Task>> {
        if self.tasks_done {
            return Ok(Vec::new());
        }
        let filter = self.filter.clone();
        let after = self.tasks_after.clone();
        let page = self
            .with(move |conn| tasks::page(conn, &filter, after.as_ref(), size))
            .await?;
        self.tasks_done = page.len() < size;
        self.tasks_after = page.last().map(TaskCursor::after);
        Ok(page)
    }

    /// Every agent, by name.
    pub async fn agents(&mut self) -> Result<Vec<Agent>> {
        self.with(agents::list).await
    }

    /// Every agent the first time (agents are few), nothing after: the agents as a section
    /// read in pages like the others.
    pub async fn next_agents(&mut self) -> Result<Vec<Agent>> {
        if std::mem::replace(&mut self.agents_read, true) {
            return Ok(Vec::new());
        }
        self.agents().await
    }

    /// The next `size` comments on any task, in the order they were made.
    pub async fn next_comments(&mut self, size: usize) -> Result<Vec<Comment>> {
        let after = self.comments_after.clone();
        let page = self
            .with(move |conn| comments::page_all(conn, after.as_deref(), size))
            .await?;
        if let Some(last) = page.last() {
            self.comments_after = Some(last.id.clone());
        }
        Ok(page)
    }

    /// The next `size` events of the log, oldest first.
    pub async fn next_events(&mut self, size: usize) -> Result<Vec<Event>> {
        let after = self.events_after.clone();
        let page = self
            .with(move |conn| events::page_all(conn, after.as_ref(), size))
            .await?;
        if let Some(last) = page.last() {
            self.events_after = Some((last.timestamp, last.id.clone()));
        }
        Ok(page)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let pool = self.pool.clone();
        let end = move || {
            let _ = conn.batch("ROLLBACK");
            pool.checkin(conn);
        };
        // Ending the transaction is a round trip to the database: never on an async thread.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(end)),
            Err(_) => end(),
        }
    }
}
