//! The resources an MCP client can read into a model's context: the board
//! (`mission-control://board`: the agents and the first tasks, oldest first) and one task
//! with its comments (`mission-control://tasks/{id}`, a resource template).

use mission_control_actions::limits::{COMMENTS_PAGE_DEFAULT, PAGE_MAX};
use mission_control_core::{MissionControl, TaskFilter};
use rmcp::ErrorData as McpError;
use rmcp::model::{Resource, ResourceContents, ResourceTemplate};
use serde_json::json;

use crate::http::error::ApiError;

pub const BOARD_URI: &str = "mission-control://board";
const TASK_PREFIX: &str = "mission-control://tasks/";
pub const TASK_TEMPLATE: &str = "mission-control://tasks/{id}";
const JSON: &str = "application/json";

pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(BOARD_URI, "board")
            .with_title("The Mission Control board")
            .with_description(format!(
                "Every agent with its status, and the board's tasks (the first {PAGE_MAX}, oldest \
                 first; list_tasks pages through the rest)."
            ))
            .with_mime_type(JSON),
    ]
}

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(TASK_TEMPLATE, "task")
            .with_title("A task and its comments")
            .with_description(format!(
                "One task with all its fields, and its first {COMMENTS_PAGE_DEFAULT} comments."
            ))
            .with_mime_type(JSON),
    ]
}

/// Reads the resource at `uri`.
pub async fn read(mc: &MissionControl, uri: &str) -> Result<ResourceContents, McpError> {
    let value = if uri == BOARD_URI {
        let page = mc
            .list_tasks_page(TaskFilter::default(), None, PAGE_MAX as usize)
            .await
            .map_err(internal)?;
        let (agents, _) = mc.list_agents_at().await.map_err(internal)?;
        json!({
            "agents": agents,
            "tasks": page.tasks,
            "seq": page.seq,
            "truncated": page.next.is_some(),
        })
    } else if let Some(id) = uri.strip_prefix(TASK_PREFIX).filter(|id| !id.is_empty()) {
        let task = match mc.get_task(id).await {
            Ok(task) => task,
            Err(mission_control_core::Error::NotFound { .. }) => {
                return Err(McpError::resource_not_found(
                    format!("no task with id {id}"),
                    Some(json!({ "uri": uri })),
                ));
            }
            Err(e) => return Err(internal(e)),
        };
        let comments = mc
            .list_comments(id, None, COMMENTS_PAGE_DEFAULT as u32)
            .await
            .map_err(internal)?;
        json!({ "task": task, "comments": comments.comments, "moreComments": comments.has_more })
    } else {
        return Err(McpError::resource_not_found(
            format!("no resource {uri}: try {BOARD_URI} or {TASK_TEMPLATE}"),
            Some(json!({ "uri": uri })),
        ));
    };
    Ok(ResourceContents::TextResourceContents {
        uri: uri.to_owned(),
        mime_type: Some(JSON.into()),
        text: value.to_string(),
        meta: None,
    })
}

/// A failure of the store, worded as the REST API words it (details go to the log).
fn internal(e: mission_control_core::Error) -> McpError {
    let error = ApiError::Core(e);
    let (status, body) = error.body();
    if status.is_server_error() {
        tracing::error!(%error, "reading an MCP resource failed");
    }
    McpError::internal_error(body.error.message, None)
}
