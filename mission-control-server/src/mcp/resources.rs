//! The resources an MCP client can read into a model's context: the board
//! (`mission-control://board`: the agents and the first tasks, oldest first) and one task
//! with its comments (`mission-control://tasks/{id}`, a resource template). Each is read with
//! the REST requests a client would make, in process.

use http::StatusCode;
use mission_control_actions::encode_component;
use mission_control_actions::limits::{COMMENTS_PAGE_DEFAULT, PAGE_MAX};
use rmcp::ErrorData as McpError;
use rmcp::model::{Resource, ResourceContents, ResourceTemplate};
use serde_json::json;

use super::rest::{Refusal, Rest};

pub const BOARD_URI: &str = "mission-control://board";
const TASK_PREFIX: &str = "mission-control://tasks/";
pub const TASK_TEMPLATE: &str = "mission-control://tasks/{id}";
const JSON: &str = "application/json";

pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(BOARD_URI, "board")
            .with_title("The Mission Control board")
            .with_description(format!(
                "Every agent with its status, and the board's first tasks, oldest first (up to \
                 {PAGE_MAX} and about 1 MiB of them; `truncated` says more follow, and \
                 list_tasks pages through the rest)."
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

/// Reads the resource at `uri`, through the REST API as the caller reaches it.
pub async fn read(rest: &Rest, uri: &str) -> Result<ResourceContents, McpError> {
    let value = if uri == BOARD_URI {
        let page = rest
            .get(&format!("/api/tasks?limit={PAGE_MAX}"))
            .await
            .map_err(failed)?;
        let agents = rest.get("/api/agents").await.map_err(failed)?;
        json!({
            "agents": agents["agents"],
            "tasks": page["tasks"],
            "seq": page["seq"],
            "truncated": page["nextCursor"].is_string(),
        })
    } else if let Some(id) = uri.strip_prefix(TASK_PREFIX).filter(|id| !id.is_empty()) {
        let path = format!("/api/tasks/{}", encode_component(id));
        let task = match rest.get(&path).await {
            Ok(answer) => answer,
            Err(refusal) if refusal.status == StatusCode::NOT_FOUND => {
                return Err(McpError::resource_not_found(
                    format!("no task with id {id}"),
                    Some(json!({ "uri": uri })),
                ));
            }
            Err(refusal) => return Err(failed(refusal)),
        };
        let comments = rest
            .get(&format!("{path}/comments?limit={COMMENTS_PAGE_DEFAULT}"))
            .await
            .map_err(failed)?;
        json!({
            "task": task["task"],
            "comments": comments["comments"],
            "moreComments": comments["hasMore"],
        })
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

/// A read the REST API refused, in its words.
fn failed(refusal: Refusal) -> McpError {
    let message = refusal.body["error"]["message"]
        .as_str()
        .unwrap_or("the read failed")
        .to_owned();
    if refusal.status.is_server_error() {
        McpError::internal_error(message, None)
    } else {
        McpError::invalid_params(message, Some(refusal.body))
    }
}
