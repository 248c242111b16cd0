//! The tool's name, description and the JSON Schema of its parameters.
//!
//! One flat object discriminated by `action`: model providers differ in what they accept at the
//! top of a tool schema (several reject `oneOf`/`anyOf` there), so every argument is a plain
//! optional property and `execute` checks which ones each action needs.

use serde_json::{Value, json};

use crate::convert::{AGENT_STATUSES, PRIORITIES, TASK_STATUSES};

pub const TOOL_NAME: &str = "mission_control";

pub const DESCRIPTION: &str = "Mission Control task board shared by the agents and their humans. \
Actions: create_task (title; optional description, status, assignedAgent, priority, tags), \
update_task (taskId plus the fields to change; null clears description, assignedAgent or \
priority), move_task (taskId, newStatus), list_tasks (optional status, agent), get_task (taskId), \
delete_task (taskId), list_agents, set_agent_status (agentId, agentStatus), list_events (optional \
since, limit). Task statuses: backlog, todo, in-progress, done. Create a task when you start \
non-trivial work, move it to in-progress while you work and to done when finished.";

/// Every action the tool accepts.
pub const ACTIONS: [&str; 9] = [
    "create_task",
    "update_task",
    "move_task",
    "list_tasks",
    "get_task",
    "delete_task",
    "list_agents",
    "set_agent_status",
    "list_events",
];

pub fn parameters_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "action": {
                "type": "string",
                "enum": ACTIONS,
                "description": "What to do."
            },
            "taskId": {
                "type": "string",
                "description": "Task id such as task-0192…; for update_task, move_task, get_task, delete_task."
            },
            "title": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "Task title; required for create_task, optional for update_task."
            },
            "description": {
                "type": ["string", "null"],
                "maxLength": 10000,
                "description": "Task details (create_task, update_task; null clears it)."
            },
            "status": {
                "type": "string",
                "enum": TASK_STATUSES,
                "description": "Task status: for create_task and update_task, or the list_tasks filter."
            },
            "newStatus": {
                "type": "string",
                "enum": TASK_STATUSES,
                "description": "Target column for move_task."
            },
            "assignedAgent": {
                "type": ["string", "null"],
                "description": "Agent id such as agent-nova (create_task, update_task; null unassigns)."
            },
            "priority": {
                "type": ["string", "null"],
                "enum": [PRIORITIES[0], PRIORITIES[1], PRIORITIES[2], PRIORITIES[3], null],
                "description": "Task priority (create_task, update_task; null clears it)."
            },
            "tags": {
                "type": "array",
                "items": { "type": "string", "minLength": 1, "maxLength": 50 },
                "maxItems": 20,
                "description": "Tags (create_task, update_task replaces them all)."
            },
            "agent": {
                "type": "string",
                "description": "list_tasks filter: only tasks assigned to this agent id."
            },
            "agentId": {
                "type": "string",
                "description": "Agent id for set_agent_status, e.g. your own agent id."
            },
            "agentStatus": {
                "type": "string",
                "enum": AGENT_STATUSES,
                "description": "New agent status for set_agent_status."
            },
            "since": {
                "type": "integer",
                "minimum": 0,
                "description": "list_events: only events after this time (epoch milliseconds)."
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": 500,
                "description": "list_events: how many events, newest first (default 50)."
            }
        },
        "required": ["action"],
        "additionalProperties": false
    })
}

/// The properties each action takes: (name, required).
pub fn action_fields(action: &str) -> &'static [(&'static str, bool)] {
    match action {
        "create_task" => &[
            ("title", true),
            ("description", false),
            ("status", false),
            ("assignedAgent", false),
            ("priority", false),
            ("tags", false),
        ],
        "update_task" => &[
            ("taskId", true),
            ("title", false),
            ("description", false),
            ("status", false),
            ("assignedAgent", false),
            ("priority", false),
            ("tags", false),
        ],
        "move_task" => &[("taskId", true), ("newStatus", true)],
        "list_tasks" => &[("status", false), ("agent", false)],
        "get_task" | "delete_task" => &[("taskId", true)],
        "set_agent_status" => &[("agentId", true), ("agentStatus", true)],
        "list_events" => &[("since", false), ("limit", false)],
        _ => &[],
    }
}
