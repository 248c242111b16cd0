//! SQL for the `comments` table: notes on tasks, oldest first.

use rusqlite::{Connection, Row, params};

use super::sql;
use crate::domain::Comment;
use crate::error::Result;

fn from_row(row: &Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: row.get(0)?,
        task_id: row.get(1)?,
        author: row.get(2)?,
        text: row.get(3)?,
        created_at: row.get(4)?,
    })
}

pub(crate) fn insert(conn: &Connection, comment: &Comment) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "INSERT INTO comments (id, task_id, author, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    ))?;
    sql(stmt.execute(params![
        comment.id,
        comment.task_id,
        comment.author,
        comment.text,
        comment.created_at
    ]))?;
    Ok(())
}

/// Up to `limit` comments on a task after the comment `after` (ids sort by time).
pub(crate) fn list(
    conn: &Connection,
    task_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Comment>> {
    let mut stmt = sql(conn.prepare_cached(
        "SELECT id, task_id, author, text, created_at FROM comments \
         WHERE task_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    ))?;
    let rows = sql(stmt.query_map(params![task_id, after.unwrap_or(""), limit], from_row))?;
    sql(rows.collect())
}

/// Up to `limit` comments on any task after the comment `after`, in the order they were made.
pub(crate) fn page_all(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Comment>> {
    let mut stmt = sql(conn.prepare_cached(
        "SELECT id, task_id, author, text, created_at FROM comments WHERE id > ?1 ORDER BY id LIMIT ?2",
    ))?;
    let rows = sql(stmt.query_map(params![after.unwrap_or(""), limit as i64], from_row))?;
    sql(rows.collect())
}

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    let mut stmt = sql(conn.prepare_cached("SELECT 1 FROM comments WHERE id = ?1"))?;
    sql(stmt.exists([id]))
}
