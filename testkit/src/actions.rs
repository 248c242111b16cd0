//! Arguments for a valid call of any catalogue action, made from the catalogue's description
//! of its arguments alone, so a test can call every action, one added later included.

use mission_control_actions::{Action, Kind, Place};
use serde_json::{Map, Value};

/// Every required argument (and the first of those the action needs one of), with a value
/// its rules accept: `task_id` or `agent_id` for the path's id (as the action's path names a
/// task or an agent), the first value of an enum, the least integer, a short text, no items.
pub fn sample_arguments(action: &Action, task_id: &str, agent_id: &str) -> Map<String, Value> {
    let mut args = Map::new();
    for arg in action.args {
        if !(arg.required || action.needs_one_of.first() == Some(&arg.name)) {
            continue;
        }
        let value = match (arg.place, arg.kind) {
            (Place::Path, _) if action.path.starts_with("/api/agents") => agent_id.into(),
            (Place::Path, _) => task_id.into(),
            (_, Kind::Enum(values)) => values[0].into(),
            (_, Kind::Integer) => arg.minimum.unwrap_or(1).into(),
            (_, Kind::StringList) => Value::Array(vec![]),
            (_, Kind::String) => "sample".into(),
        };
        args.insert(arg.name.to_owned(), value);
    }
    args
}

/// Whether a refusal is one the action's own handler gave (the task is not held, is held by
/// another agent, is done or blocked): the call reached its endpoint. Anything else (no such
/// endpoint, a method the path does not take, a server failure, bad arguments) is not.
pub fn reached_its_handler(code: &str) -> bool {
    matches!(code, "not_held" | "held" | "done" | "blocked" | "assigned")
}
