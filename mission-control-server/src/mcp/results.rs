//! Tool results: the answer as structured content (the REST answer, shaped by the catalogue,
//! which the tool's output schema describes), a short sentence for the model, and, for one
//! task, agent or comment, the same JSON as text for clients that read text only. A list (of
//! tasks, agents, events, comments, or a heartbeat's held tasks) is carried once, as structured
//! content, with a summary naming its first items: a page can be a megabyte, and carrying it
//! twice doubled what every call held. A failure is a tool error (`isError: true`): a sentence
//! naming the fields at fault, then the REST API's error body as JSON text, with field names as
//! the model sent them.

use mission_control_actions::{Action, ArgError, Output};
use mission_control_core::{Error as CoreError, FieldError};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use super::rest::Refusal;
use crate::web::error::ApiError;

/// At most this many items are named in a list's summary; the structured content holds them
/// all.
const NAMED_IN_SUMMARY: usize = 10;

pub fn success(action: &Action, answer: Value) -> CallToolResult {
    let mut content = vec![ContentBlock::text(summary(action, &answer))];
    if !is_list(action.output) {
        content.push(ContentBlock::text(answer.to_string()));
    }
    let mut result = CallToolResult::structured(Value::Null);
    result.content = content;
    result.structured_content = Some(answer);
    result
}

/// Whether the action answers a list, which a result carries once.
fn is_list(output: Output) -> bool {
    matches!(
        output,
        Output::Tasks | Output::Agents | Output::Events | Output::Work | Output::Comments
    )
}

/// The tool error for a REST refusal.
pub fn failure(action: &Action, refusal: Refusal) -> CallToolResult {
    let Refusal { status, mut body } = refusal;
    let error = &mut body["error"];
    if let Some(details) = error["details"].as_array_mut() {
        for detail in details {
            let name = detail["field"]
                .as_str()
                .and_then(|field| action.arg_name_for(field));
            if let Some(name) = name {
                detail["field"] = name.into();
            }
        }
    }
    let text_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut text = format!(
        "{} failed ({} {}): {}",
        action.name,
        status.as_u16(),
        text_of(&error["code"]),
        text_of(&error["message"])
    );
    for detail in error["details"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "; {}: {}",
            text_of(&detail["field"]),
            text_of(&detail["message"])
        ));
    }
    // The error body goes as text, not as structured content: clients check structured
    // content against the tool's output schema, which describes the success answer.
    CallToolResult::error(vec![
        ContentBlock::text(text),
        ContentBlock::text(body.to_string()),
    ])
}

/// The tool error for arguments the catalogue refused: a `400 validation_failed` as REST
/// would answer it.
pub fn invalid_arguments(action: &Action, error: ArgError) -> CallToolResult {
    let core = CoreError::Validation(vec![FieldError::new(error.field, error.message)]);
    failure(action, ApiError::Core(core).into())
}

fn title(task: &Value) -> String {
    format!(
        "“{}” ({})",
        task["title"].as_str().unwrap_or(""),
        task["id"].as_str().unwrap_or("")
    )
}

/// "“Fix auth bug” (task-…): in-progress, assigned to agent-nova, claimed until …, version 3".
fn describe_task(task: &Value) -> String {
    let mut out = format!(
        "{}: {}",
        title(task),
        task["status"].as_str().unwrap_or("?")
    );
    if let Some(agent) = task["assignedAgent"].as_str() {
        out.push_str(&format!(", assigned to {agent}"));
    }
    if let Some(lease) = task["leaseExpiresAt"].as_i64() {
        let left = (lease - mission_control_core::now_millis()).max(0) as u64 / 1000;
        out.push_str(&format!(", claimed for {} more min", left.div_ceil(60)));
    }
    if task["blocked"].as_bool() == Some(true) {
        out.push_str(", blocked");
    }
    out.push_str(&format!(", version {}", task["version"]));
    out
}

fn named<'a>(items: &'a [Value], name: impl Fn(&'a Value) -> String) -> String {
    let mut out: Vec<String> = items.iter().take(NAMED_IN_SUMMARY).map(name).collect();
    if items.len() > NAMED_IN_SUMMARY {
        out.push(format!("and {} more", items.len() - NAMED_IN_SUMMARY));
    }
    out.join("; ")
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One or two sentences an agent can act on without reading the JSON.
pub fn summary(action: &Action, answer: &Value) -> String {
    let empty = Vec::new();
    let list = |key: &str| answer[key].as_array().unwrap_or(&empty);
    match action.name {
        "create_task" => format!("Created {}.", describe_task(&answer["task"])),
        "update_task" => format!("Updated {}.", describe_task(&answer["task"])),
        "move_task" => format!("Moved {}.", describe_task(&answer["task"])),
        "get_task" => format!("{}.", describe_task(&answer["task"])),
        "claim" => format!("Claimed {}.", describe_task(&answer["task"])),
        "release" => format!("Released {}.", describe_task(&answer["task"])),
        "claim_next" if answer["task"].is_null() => {
            "Nothing to claim: no free todo task matches.".into()
        }
        "claim_next" => format!("Claimed {}.", describe_task(&answer["task"])),
        "complete" => format!(
            "Completed {}{}.",
            title(&answer["task"]),
            if answer["comment"].is_null() {
                ""
            } else {
                ", with the note added as a comment"
            }
        ),
        "delete_task" => format!("Deleted {}.", answer["deleted"].as_str().unwrap_or("")),
        "list_tasks" => {
            let tasks = list("tasks");
            let mut out = count(tasks.len(), "task", "tasks");
            if !tasks.is_empty() {
                out.push_str(": ");
                out.push_str(&named(tasks, |t| {
                    format!("{} {}", title(t), t["status"].as_str().unwrap_or(""))
                }));
            }
            if answer["nextCursor"].is_string() {
                out.push_str(". More follow: pass nextCursor as cursor");
            }
            out + "."
        }
        "list_agents" => {
            let agents = list("agents");
            format!(
                "{}: {}.",
                count(agents.len(), "agent", "agents"),
                named(agents, |a| format!(
                    "{} ({}, {})",
                    a["name"].as_str().unwrap_or(""),
                    a["id"].as_str().unwrap_or(""),
                    a["status"].as_str().unwrap_or("")
                ))
            )
        }
        "set_agent_status" => format!(
            "{} ({}) is {}.",
            answer["agent"]["name"].as_str().unwrap_or(""),
            answer["agent"]["id"].as_str().unwrap_or(""),
            answer["agent"]["status"].as_str().unwrap_or("")
        ),
        "list_events" => {
            let events = list("events");
            let mut out = count(events.len(), "event", "events");
            if !events.is_empty() {
                out.push_str(": ");
                out.push_str(&named(events, |e| {
                    e["message"].as_str().unwrap_or("").to_owned()
                }));
            }
            out + "."
        }
        "heartbeat" => {
            let held = list("held");
            let mut out = format!(
                "{} is {}; holding {}{}",
                answer["agent"]["name"].as_str().unwrap_or(""),
                answer["agent"]["status"].as_str().unwrap_or(""),
                if answer["heldMore"].as_bool() == Some(true) {
                    "more than "
                } else {
                    ""
                },
                count(held.len(), "task", "tasks")
            );
            if !held.is_empty() {
                out.push_str(&format!(" ({})", named(held, title)));
            }
            match &answer["next"] {
                Value::Null => out.push_str("; nothing to claim next."),
                next => out.push_str(&format!("; next to claim: {}.", title(next))),
            }
            out
        }
        "comment" => format!(
            "Commented on {} ({}).",
            answer["comment"]["taskId"].as_str().unwrap_or(""),
            answer["comment"]["id"].as_str().unwrap_or("")
        ),
        "list_comments" => {
            let comments = list("comments");
            let mut out = count(comments.len(), "comment", "comments");
            if answer["hasMore"].as_bool() == Some(true)
                && let Some(last) = comments.last().and_then(|c| c["id"].as_str())
            {
                out.push_str(&format!("; more after {last} (pass it as afterComment)"));
            }
            out + "."
        }
        _ => "Done.".into(),
    }
}
