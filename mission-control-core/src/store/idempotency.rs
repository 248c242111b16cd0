//! SQL for the `idempotency_keys` table: the first answer to a keyed request, per actor; and
//! `idempotency_usage`, the bytes each actor's keys take in all, kept up to date by every
//! insert and every forgetting, so that an actor's quota is checked without adding them up.

use super::{Connection, Sql, params};
use crate::error::Result;

/// A key as stored: the request's fingerprint, and its answer (JSON): the answer itself when
/// `whole`, else the ids to read it again by.
pub(crate) struct Stored {
    pub fingerprint: String,
    pub answer: String,
    pub whole: bool,
}

/// What the actor stored for a key, if it used it.
pub(crate) fn get(conn: &Connection, actor: &str, key: &str) -> Result<Option<Stored>> {
    const SQL: Sql = Sql::new(
        "SELECT fingerprint, answer, whole FROM idempotency_keys WHERE actor = ?1 AND key = ?2",
    );
    conn.query_opt(&SQL, params![actor, key], |r| {
        Ok(Stored {
            fingerprint: r.get(0)?,
            answer: r.get(1)?,
            whole: r.get(2)?,
        })
    })
}

/// Stores a key, first forgetting the actor's oldest keys when its keys would take more than
/// `quota` bytes in all.
pub(crate) fn insert(
    conn: &Connection,
    actor: &str,
    key: &str,
    stored: &Stored,
    now: i64,
    quota: u64,
) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO idempotency_keys (actor, key, fingerprint, answer, created_at, bytes, whole) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    );
    const USE: Sql = Sql::new(
        "INSERT INTO idempotency_usage (actor, bytes) VALUES (?1, ?2) \
         ON CONFLICT (actor) DO UPDATE SET bytes = idempotency_usage.bytes + excluded.bytes",
    );
    let bytes = key.len() + stored.fingerprint.len() + stored.answer.len();
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    make_room(conn, actor, bytes, i64::try_from(quota).unwrap_or(i64::MAX))?;
    conn.execute(
        &SQL,
        params![
            actor,
            key,
            stored.fingerprint,
            stored.answer,
            now,
            bytes,
            i64::from(stored.whole)
        ],
    )?;
    conn.execute(&USE, params![actor, bytes])?;
    Ok(())
}

/// The bytes `actor`'s keys take in all.
pub(crate) fn usage(conn: &Connection, actor: &str) -> Result<i64> {
    const SQL: Sql = Sql::new("SELECT bytes FROM idempotency_usage WHERE actor = ?1");
    Ok(conn.value(&SQL, params![actor])?.unwrap_or(0))
}

/// Forgets `actor`'s oldest keys until `incoming` more bytes fit in `quota`.
fn make_room(conn: &Connection, actor: &str, incoming: i64, quota: i64) -> Result<()> {
    const OLDEST_AFTER: Sql = Sql::new(
        "SELECT created_at, bytes FROM idempotency_keys WHERE actor = ?1 AND created_at > ?2 \
         ORDER BY created_at LIMIT ?3",
    );
    const BYTES_UP_TO: Sql = Sql::new(
        "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM idempotency_keys \
         WHERE actor = ?1 AND created_at <= ?2",
    );
    const FORGET: Sql =
        Sql::new("DELETE FROM idempotency_keys WHERE actor = ?1 AND created_at <= ?2");
    const SHRINK: Sql =
        Sql::new("UPDATE idempotency_usage SET bytes = bytes - ?2 WHERE actor = ?1");
    /// Keys read per step while looking for how many to forget.
    const STEP: usize = 256;
    let excess = usage(conn, actor)?.saturating_add(incoming) - quota;
    if excess <= 0 {
        return Ok(());
    }
    // Whole milliseconds go together: the cut is a time, every key up to it is forgotten.
    let (mut cut, mut freed) = (i64::MIN, 0i64);
    'walk: loop {
        let oldest: Vec<(i64, i64)> =
            conn.query(&OLDEST_AFTER, params![actor, cut, STEP], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if oldest.is_empty() {
            break;
        }
        for (at, bytes) in oldest {
            cut = at;
            freed += bytes;
            if freed >= excess {
                break 'walk;
            }
        }
    }
    if cut == i64::MIN {
        return Ok(());
    }
    let freed: i64 = conn.value(&BYTES_UP_TO, params![actor, cut])?.unwrap_or(0);
    conn.execute(&FORGET, params![actor, cut])?;
    conn.execute(&SHRINK, params![actor, freed])?;
    Ok(())
}

/// Forgets keys used before `before` (epoch ms); how many.
pub(crate) fn sweep(conn: &Connection, before: i64) -> Result<usize> {
    const SHRINK: Sql = Sql::new(
        "UPDATE idempotency_usage SET bytes = bytes - ( \
           SELECT CAST(COALESCE(SUM(k.bytes), 0) AS BIGINT) FROM idempotency_keys k \
           WHERE k.actor = idempotency_usage.actor AND k.created_at < ?1)",
    );
    const FORGET: Sql = Sql::new("DELETE FROM idempotency_keys WHERE created_at < ?1");
    const EMPTY: Sql = Sql::new("DELETE FROM idempotency_usage WHERE bytes <= 0");
    conn.execute(&SHRINK, params![before])?;
    let forgotten = conn.execute(&FORGET, params![before])?;
    conn.execute(&EMPTY, params![])?;
    Ok(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> Connection {
        let conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        super::super::migrate::apply(&conn).unwrap();
        conn
    }

    fn stored(answer: &str) -> Stored {
        Stored {
            fingerprint: "f".repeat(64),
            answer: answer.to_owned(),
            whole: true,
        }
    }

    fn summed(conn: &Connection, actor: &str) -> i64 {
        const SQL: Sql = Sql::new(
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM idempotency_keys WHERE actor = ?1",
        );
        conn.value(&SQL, params![actor]).unwrap().unwrap_or(0)
    }

    #[test]
    fn what_each_actor_keeps_stays_what_its_keys_add_up_to() {
        let conn = board();
        let answer = "x".repeat(100);
        // 167 bytes a key: ten fit in 1,700, and the oldest go first past that.
        for n in 0..20 {
            let key = format!("k{n:02}");
            insert(&conn, "agent-a", &key, &stored(&answer), n, 1_700).unwrap();
            insert(&conn, "agent-b", &key, &stored(&answer), n, 1_000_000).unwrap();
        }
        assert_eq!(usage(&conn, "agent-a").unwrap(), summed(&conn, "agent-a"));
        assert!(usage(&conn, "agent-a").unwrap() <= 1_700);
        assert!(get(&conn, "agent-a", "k19").unwrap().is_some());
        assert!(get(&conn, "agent-a", "k00").unwrap().is_none());
        assert_eq!(usage(&conn, "agent-b").unwrap(), 20 * 167);
        // Forgetting by age takes what it forgets off each actor's use, and drops the empty.
        assert_eq!(sweep(&conn, 15).unwrap(), 15 + 5);
        for actor in ["agent-a", "agent-b"] {
            assert_eq!(usage(&conn, actor).unwrap(), summed(&conn, actor));
        }
        assert_eq!(sweep(&conn, 100).unwrap(), 10);
        assert_eq!(usage(&conn, "agent-b").unwrap(), 0);
    }
}
