//! Parses the tool's parameters as the model sends them into an [`Action`].

use serde_json::{Map, Value};

use crate::action::{Action, invalid};
use crate::bindings::mission_control::tool::types::{
    EventQuery, NewTask, Priority, PriorityChange, TaskChanges, TaskFilter, TaskStatus, TextChange,
    ToolError,
};
use crate::convert::{
    AGENT_STATUSES, PRIORITIES, TASK_STATUSES, parse_agent_status, parse_priority,
    parse_task_status,
};
use crate::schema::{ACTIONS, action_fields, parameters_schema};

pub fn parse(params_json: &str) -> Result<Action, ToolError> {
    let value: Value = serde_json::from_str(params_json)
        .map_err(|e| invalid("action", format!("the parameters are not valid JSON: {e}")))?;
    let Value::Object(params) = value else {
        return Err(invalid("action", "the parameters must be a JSON object"));
    };
    let action = match params.get("action") {
        Some(Value::String(a)) if ACTIONS.contains(&a.as_str()) => a.clone(),
        Some(Value::String(a)) => {
            return Err(invalid(
                "action",
                format!("unknown action {a:?}; one of {}", ACTIONS.join(", ")),
            ));
        }
        _ => {
            return Err(invalid(
                "action",
                format!("required, one of {}", ACTIONS.join(", ")),
            ));
        }
    };
    let fields = action_fields(&action);
    let schema = parameters_schema();
    for (key, value) in &params {
        if key == "action" {
            continue;
        }
        if schema["properties"].get(key).is_none() {
            return Err(invalid(key, "unknown parameter"));
        }
        // A null for a field the action does not use is what some models send for "absent".
        if !fields.iter().any(|(name, _)| name == key) && !value.is_null() {
            return Err(invalid(key, format!("not used by {action}")));
        }
    }
    for (name, required) in fields {
        if *required && params.get(*name).is_none_or(Value::is_null) {
            return Err(invalid(name, format!("required for {action}")));
        }
    }
    let p = Params(&params);
    Ok(match action.as_str() {
        "create_task" => Action::CreateTask(NewTask {
            title: p.string("title")?.unwrap_or_default(),
            description: p.string("description")?,
            status: p.task_status("status")?,
            assigned_agent: p.string("assignedAgent")?,
            priority: p.priority("priority")?,
            tags: p.tags("tags")?,
        }),
        "update_task" => Action::UpdateTask {
            task_id: p.string("taskId")?.unwrap_or_default(),
            changes: TaskChanges {
                title: p.string("title")?,
                description: p.text_change("description")?,
                status: p.task_status("status")?,
                assigned_agent: p.text_change("assignedAgent")?,
                priority: match params.get("priority") {
                    None => None,
                    Some(Value::Null) => Some(PriorityChange::Clear),
                    Some(_) => p.priority("priority")?.map(PriorityChange::Set),
                },
                tags: p.tags("tags")?,
            },
        },
        "move_task" => Action::MoveTask {
            task_id: p.string("taskId")?.unwrap_or_default(),
            new_status: p
                .task_status("newStatus")?
                .ok_or_else(|| invalid("newStatus", "required for move_task"))?,
        },
        "list_tasks" => Action::ListTasks(TaskFilter {
            status: p.task_status("status")?,
            agent: p.string("agent")?,
        }),
        "get_task" => Action::GetTask {
            task_id: p.string("taskId")?.unwrap_or_default(),
        },
        "delete_task" => Action::DeleteTask {
            task_id: p.string("taskId")?.unwrap_or_default(),
        },
        "list_agents" => Action::ListAgents,
        "set_agent_status" => Action::SetAgentStatus {
            agent_id: p.string("agentId")?.unwrap_or_default(),
            status: match p.string("agentStatus")? {
                Some(s) => parse_agent_status(&s).ok_or_else(|| {
                    invalid(
                        "agentStatus",
                        format!("must be one of {}", AGENT_STATUSES.join(", ")),
                    )
                })?,
                None => return Err(invalid("agentStatus", "required for set_agent_status")),
            },
        },
        "list_events" => Action::ListEvents(EventQuery {
            since: p.integer("since", u64::MAX)?,
            limit: p
                .integer("limit", 500)?
                .map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
        }),
        _ => unreachable!("checked against ACTIONS"),
    })
}

struct Params<'a>(&'a Map<String, Value>);

impl Params<'_> {
    /// A string field; JSON null counts as absent.
    fn string(&self, key: &str) -> Result<Option<String>, ToolError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(key, "must be a string")),
        }
    }

    fn text_change(&self, key: &str) -> Result<Option<TextChange>, ToolError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(TextChange::Clear)),
            Some(Value::String(s)) => Ok(Some(TextChange::Set(s.clone()))),
            Some(_) => Err(invalid(key, "must be a string, or null to clear it")),
        }
    }

    fn task_status(&self, key: &str) -> Result<Option<TaskStatus>, ToolError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => parse_task_status(&s).map(Some).ok_or_else(|| {
                invalid(
                    key,
                    format!("must be one of {}, not {s:?}", TASK_STATUSES.join(", ")),
                )
            }),
        }
    }

    fn priority(&self, key: &str) -> Result<Option<Priority>, ToolError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => parse_priority(&s).map(Some).ok_or_else(|| {
                invalid(
                    key,
                    format!("must be one of {}, not {s:?}", PRIORITIES.join(", ")),
                )
            }),
        }
    }

    fn tags(&self, key: &str) -> Result<Option<Vec<String>>, ToolError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| invalid(key, "must be a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(invalid(key, "must be a list of strings")),
        }
    }

    fn integer(&self, key: &str, max: u64) -> Result<Option<u64>, ToolError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n <= max => Ok(Some(n)),
                _ => Err(invalid(
                    key,
                    format!("must be a whole number between 0 and {max}"),
                )),
            },
        }
    }
}
