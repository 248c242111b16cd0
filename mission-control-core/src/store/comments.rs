//! SQL for the `comments` table: notes on tasks, oldest first.

use super::{Connection, Row, Sql, params};
use crate::domain::Comment;
use crate::error::Result;

fn from_row(row: &Row<'_>) -> Result<Comment> {
    Ok(Comment {
        id: row.get(0)?,
        task_id: row.get(1)?,
        author: row.get(2)?,
        text: row.get(3)?,
        created_at: row.get(4)?,
    })
}

pub(crate) fn insert(conn: &Connection, comment: &Comment) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO comments (id, task_id, author, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    );
    conn.execute(
        &SQL,
        params![
            comment.id,
            comment.task_id,
            comment.author,
            comment.text,
            comment.created_at
        ],
    )?;
    Ok(())
}

/// Up to `limit` comments on a task after the comment `after` (ids sort by time).
pub(crate) fn list(
    conn: &Connection,
    task_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Comment>> {
    const SQL: Sql = Sql::new(
        "SELECT id, task_id, author, text, created_at FROM comments \
         WHERE task_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    );
    conn.query(&SQL, params![task_id, after.unwrap_or(""), limit], from_row)
}

/// Up to `limit` comments on any task after the comment `after`, in the order they were made.
pub(crate) fn page_all(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Comment>> {
    const SQL: Sql = Sql::new(
        "SELECT id, task_id, author, text, created_at FROM comments WHERE id > ?1 \
         ORDER BY id LIMIT ?2",
    );
    conn.query(&SQL, params![after.unwrap_or(""), limit], from_row)
}

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM comments WHERE id = ?1");
    conn.exists(&SQL, params![id])
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Comment>> {
    const SQL: Sql =
        Sql::new("SELECT id, task_id, author, text, created_at FROM comments WHERE id = ?1");
    conn.query_opt(&SQL, params![id], from_row)
}
