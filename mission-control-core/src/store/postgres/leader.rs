//! Which of several processes on one PostgreSQL database runs the board's clock (returning
//! expired claims, marking silent agents offline, forgetting what has expired): the one that
//! holds a session advisory lock on a connection of its own. PostgreSQL releases the lock when
//! that connection ends, so when the leader's process dies another takes over at its next
//! attempt, within a couple of seconds. Every process tries each round; the holder checks its
//! connection each round, and stops leading the moment it is lost.

use super::{LEADER_LOCK, PgConnection, PgTarget};
use crate::store::{Sql, params};

/// A process's claim on leading the board.
pub(crate) struct Leadership {
    target: PgTarget,
    conn: Option<PgConnection>,
    held: bool,
}

impl Leadership {
    pub fn new(target: PgTarget) -> Self {
        Leadership {
            target,
            conn: None,
            held: false,
        }
    }

    /// Whether this process leads now; takes the lead when nobody holds it. Blocking: call it
    /// off any async runtime.
    pub fn check(&mut self) -> bool {
        const TRY: Sql = Sql::new("SELECT pg_try_advisory_lock(hashtext(current_schema()), ?1)");
        const ALIVE: Sql = Sql::new("SELECT 1");
        if self.held {
            let alive = self.conn.as_ref().is_some_and(|c| {
                !c.is_closed() && c.query_opt(&ALIVE, params![], &mut |_| Ok(())).is_ok()
            });
            if alive {
                return true;
            }
            tracing::warn!(
                "lost the connection that leads the board's clock; another process takes over"
            );
            self.held = false;
            self.conn = None;
        }
        if self.conn.as_ref().is_none_or(PgConnection::is_closed) {
            self.conn = self.target.connect_as("mission-control-leader").ok();
        }
        let Some(conn) = &self.conn else {
            return false;
        };
        match conn.query_opt(&TRY, params![LEADER_LOCK], &mut |r| r.get::<bool>(0)) {
            Ok(Some(true)) => {
                tracing::info!("this process now runs the board's clock");
                self.held = true;
                true
            }
            Ok(_) => false,
            Err(_) => {
                self.conn = None;
                false
            }
        }
    }
}

/// Whether some process leads the board now, that is, serves it (blocking).
pub(crate) fn led(target: &PgTarget) -> crate::error::Result<bool> {
    const TRY: Sql = Sql::new("SELECT pg_try_advisory_lock(hashtext(current_schema()), ?1)");
    const UNLOCK: Sql = Sql::new("SELECT pg_advisory_unlock(hashtext(current_schema()), ?1)");
    let conn = target.connect()?;
    let free = conn
        .query_opt(&TRY, params![LEADER_LOCK], &mut |r| r.get::<bool>(0))?
        .unwrap_or(false);
    if free {
        conn.query_opt(&UNLOCK, params![LEADER_LOCK], &mut |_| Ok(()))?;
    }
    Ok(!free)
}
