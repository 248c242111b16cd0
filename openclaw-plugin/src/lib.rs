//! The `mission_control` agent tool as a WebAssembly component (`wit/tool.wit`).
//!
//! Every action is one call to Mission Control's REST API over `wasi:http`. The actions, their
//! arguments, rules and descriptions come from the `mission-control-actions` catalogue (which
//! the MCP server's tools share): `execute` checks the model's JSON against it, and each typed
//! entry point builds the same arguments and goes the same way. The server URL and the token
//! come from the host through the imported `config` interface; the component has no other
//! capability. Errors come back as the WIT `tool-error` variant, never as a trap.

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "mission-control-tool",
    });
}

mod action;
mod convert;
mod http;
mod params;
mod schema;

use bindings::exports::mission_control::tool::actions::Guest;
use bindings::mission_control::tool::types::{
    Agent, AgentStatus, ClaimNextQuery, ClaimOptions, Comment, CommentPage, CommentQuery,
    Completed, Completion, Event, EventQuery, NewTask, PriorityChange, Task, TaskChanges,
    TaskFilter, TaskStatus, TextChange, ToolDescription, ToolError, Work,
};
use convert::{agent_status_name, priority_name, task_status_name};
use mission_control_actions::Call;
use serde_json::{Map, Value};

struct Component;

fn run(call: &Call) -> Result<Value, ToolError> {
    wstd::runtime::block_on(action::run(call, &http::Connection::from_host()))
}

/// The arguments a typed entry point passes, under the names the model would use.
#[derive(Default)]
struct Args(Map<String, Value>);

impl Args {
    /// Adds `value` when there is one (absent stays absent; `null` means "clear").
    fn put(mut self, name: &str, value: Option<impl Into<Value>>) -> Self {
        if let Some(value) = value {
            self.0.insert(name.to_owned(), value.into());
        }
        self
    }

    fn text_change(self, name: &str, change: Option<TextChange>) -> Self {
        self.put(
            name,
            change.map(|c| match c {
                TextChange::Set(s) => Value::from(s),
                TextChange::Clear => Value::Null,
            }),
        )
    }

    /// Checks the arguments for `action` and carries it out.
    fn run(self, action: &str) -> Result<Value, ToolError> {
        run(&action::call(action, self.0)?)
    }
}

impl Guest for Component {
    fn describe() -> ToolDescription {
        ToolDescription {
            name: schema::TOOL_NAME.to_string(),
            description: schema::description(),
            parameters_schema: schema::parameters_schema().to_string(),
        }
    }

    fn execute(params_json: String) -> Result<String, ToolError> {
        let call = params::parse(&params_json)?;
        Ok(run(&call)?.to_string())
    }

    fn create_task(task: NewTask) -> Result<Task, ToolError> {
        let answer = Args::default()
            .put("title", Some(task.title))
            .put("description", task.description)
            .put("status", task.status.map(task_status_name))
            .put("assignedAgent", task.assigned_agent)
            .put("priority", task.priority.map(priority_name))
            .put("tags", task.tags)
            .put("blockedBy", task.blocked_by)
            .put("idempotencyKey", task.idempotency_key)
            .run("create_task")?;
        convert::task_from(&answer["task"])
    }

    fn update_task(task_id: String, changes: TaskChanges) -> Result<Task, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .put("title", changes.title)
            .text_change("description", changes.description)
            .put("status", changes.status.map(task_status_name))
            .text_change("assignedAgent", changes.assigned_agent)
            .put(
                "priority",
                changes.priority.map(|p| match p {
                    PriorityChange::Set(p) => Value::from(priority_name(p)),
                    PriorityChange::Clear => Value::Null,
                }),
            )
            .put("tags", changes.tags)
            .put("blockedBy", changes.blocked_by)
            .put("version", changes.version)
            .run("update_task")?;
        convert::task_from(&answer["task"])
    }

    fn move_task(
        task_id: String,
        new_status: TaskStatus,
        version: Option<u64>,
    ) -> Result<Task, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .put("newStatus", Some(task_status_name(new_status)))
            .put("version", version)
            .run("move_task")?;
        convert::task_from(&answer["task"])
    }

    /// Every matching task (the typed entry reads the whole list; `execute` pages it).
    fn list_tasks(filter: TaskFilter) -> Result<Vec<Task>, ToolError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let answer = Args::default()
                .put("status", filter.status.map(task_status_name))
                .put("agent", filter.agent.clone())
                .put("limit", Some(mission_control_actions::limits::PAGE_MAX))
                .put("cursor", cursor.take())
                .run("list_tasks")?;
            all.extend(convert::list(&answer["tasks"], convert::task_from)?);
            match answer["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(all),
            }
        }
    }

    fn get_task(task_id: String) -> Result<Task, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .run("get_task")?;
        convert::task_from(&answer["task"])
    }

    fn delete_task(task_id: String) -> Result<(), ToolError> {
        Args::default()
            .put("taskId", Some(task_id))
            .run("delete_task")
            .map(|_| ())
    }

    fn list_agents() -> Result<Vec<Agent>, ToolError> {
        let answer = Args::default().run("list_agents")?;
        convert::list(&answer["agents"], convert::agent_from)
    }

    fn set_agent_status(agent_id: String, status: AgentStatus) -> Result<Agent, ToolError> {
        let answer = Args::default()
            .put("agentId", Some(agent_id))
            .put("agentStatus", Some(agent_status_name(status)))
            .run("set_agent_status")?;
        convert::agent_from(&answer["agent"])
    }

    fn list_events(query: EventQuery) -> Result<Vec<Event>, ToolError> {
        let answer = Args::default()
            .put("since", query.since)
            .put("after", query.after)
            .put("limit", query.limit)
            .run("list_events")?;
        convert::list(&answer["events"], convert::event_from)
    }

    fn heartbeat(status: Option<AgentStatus>) -> Result<Work, ToolError> {
        let answer = Args::default()
            .put("agentStatus", status.map(agent_status_name))
            .run("heartbeat")?;
        convert::work_from(&answer)
    }

    fn claim(task_id: String, options: ClaimOptions) -> Result<Task, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .put("leaseSeconds", options.lease_seconds)
            .put("idempotencyKey", options.idempotency_key)
            .run("claim")?;
        convert::task_from(&answer["task"])
    }

    fn claim_next(query: ClaimNextQuery) -> Result<Option<Task>, ToolError> {
        let answer = Args::default()
            .put("tag", query.tag)
            .put("priority", query.priority.map(priority_name))
            .put("leaseSeconds", query.lease_seconds)
            .put("idempotencyKey", query.idempotency_key)
            .run("claim_next")?;
        convert::maybe_task_from(&answer["task"])
    }

    fn release(task_id: String) -> Result<Task, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .run("release")?;
        convert::task_from(&answer["task"])
    }

    fn complete(task_id: String, completion: Completion) -> Result<Completed, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .put("note", completion.note)
            .put("idempotencyKey", completion.idempotency_key)
            .run("complete")?;
        convert::completed_from(&answer)
    }

    fn add_comment(
        task_id: String,
        text: String,
        idempotency_key: Option<String>,
    ) -> Result<Comment, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .put("text", Some(text))
            .put("idempotencyKey", idempotency_key)
            .run("comment")?;
        convert::comment_from(&answer["comment"])
    }

    fn list_comments(task_id: String, query: CommentQuery) -> Result<CommentPage, ToolError> {
        let answer = Args::default()
            .put("taskId", Some(task_id))
            .put("limit", query.limit)
            .put("afterComment", query.after)
            .run("list_comments")?;
        convert::comment_page_from(&answer)
    }
}

bindings::export!(Component with_types_in bindings);
