//! The query parameters of the three lists (tasks, comments, events), parsed once for every
//! front end that reads them: the REST handlers and the MCP tools hand their parameters here,
//! so a bound or an error message cannot differ between the two.

use mission_control_actions::limits::{
    AGENT_ID_MAX_CHARS, COMMENTS_PAGE_DEFAULT, CURSOR_MAX_CHARS, PAGE_MAX, TASK_ID_MAX_CHARS,
};
use mission_control_core::{EventQuery, FieldError, TaskCursor, TaskFilter};

use crate::web::error::ApiError;
use crate::web::query::Query;

/// `status`, `agent`, `limit` and `cursor` of a task list.
pub struct TaskListing {
    pub filter: TaskFilter,
    /// The page size asked for, if any (the REST list streams every match without one).
    pub limit: Option<usize>,
    pub cursor: Option<TaskCursor>,
}

impl TaskListing {
    pub fn parse(query: &Query) -> Result<Self, ApiError> {
        let filter = TaskFilter {
            status: query.parse("status")?,
            agent: query.text("agent", AGENT_ID_MAX_CHARS)?.map(str::to_owned),
        };
        let limit = query.integer("limit", 1, PAGE_MAX)?.map(|n| n as usize);
        let cursor = match query.text("cursor", CURSOR_MAX_CHARS)? {
            None => None,
            Some(raw) => Some(TaskCursor::decode(raw).ok_or_else(|| {
                ApiError::InvalidQuery(FieldError::new(
                    "cursor",
                    "must be a nextCursor from an earlier page",
                ))
            })?),
        };
        Ok(TaskListing {
            filter,
            limit,
            cursor,
        })
    }
}

/// `limit` and `after` of a task's comments.
pub struct CommentListing {
    pub limit: u32,
    pub after: Option<String>,
}

impl CommentListing {
    pub fn parse(query: &Query) -> Result<Self, ApiError> {
        Ok(CommentListing {
            limit: query
                .integer("limit", 1, PAGE_MAX)?
                .unwrap_or(COMMENTS_PAGE_DEFAULT) as u32,
            // Comment ids are task-shaped (`comment-<uuid>`).
            after: query.text("after", TASK_ID_MAX_CHARS)?.map(str::to_owned),
        })
    }
}

/// `limit`, `since` and `after` of the event log.
pub fn event_query(query: &Query) -> Result<EventQuery, ApiError> {
    Ok(EventQuery {
        since: query.integer("since", 0, i64::MAX)?,
        after: query.integer("after", 0, i64::MAX)?,
        limit: query
            .integer("limit", 1, i64::from(EventQuery::MAX_LIMIT))?
            .map_or(EventQuery::DEFAULT_LIMIT, |n| n as u32),
    })
}
