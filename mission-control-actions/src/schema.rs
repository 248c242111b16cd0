//! JSON Schemas generated from the catalogue: each action's input (an MCP tool's
//! `inputSchema`), its output (`outputSchema`), and the WebAssembly tool's one flat schema.

use serde_json::{Map, Value, json};

use crate::catalogue::{ACTIONS, AGENT_ROLES, AGENT_STATUSES, PRIORITIES, TASK_STATUSES};
use crate::model::{Action, Arg, Kind, Output};

/// The schema of one argument.
pub fn arg_schema(arg: &Arg) -> Value {
    let mut s = Map::new();
    let json_type = match arg.kind {
        Kind::String | Kind::Enum(_) => "string",
        Kind::Integer => "integer",
        Kind::StringList => "array",
    };
    s.insert(
        "type".into(),
        if arg.nullable {
            json!([json_type, "null"])
        } else {
            json!(json_type)
        },
    );
    if let Kind::Enum(values) = arg.kind {
        let mut all: Vec<Value> = values.iter().map(|v| json!(v)).collect();
        if arg.nullable {
            all.push(Value::Null);
        }
        s.insert("enum".into(), Value::Array(all));
    }
    let lengths = |target: &mut Map<String, Value>| {
        if let Some(min) = arg.min_chars {
            target.insert("minLength".into(), json!(min));
        }
        if let Some(max) = arg.max_chars {
            target.insert("maxLength".into(), json!(max));
        }
    };
    match arg.kind {
        Kind::String => lengths(&mut s),
        Kind::StringList => {
            let mut items = Map::new();
            items.insert("type".into(), json!("string"));
            lengths(&mut items);
            s.insert("items".into(), Value::Object(items));
            if let Some(max) = arg.max_items {
                s.insert("maxItems".into(), json!(max));
            }
        }
        Kind::Integer => {
            if let Some(min) = arg.minimum {
                s.insert("minimum".into(), json!(min));
            }
            if let Some(max) = arg.maximum {
                s.insert("maximum".into(), json!(max));
            }
        }
        Kind::Enum(_) => {}
    }
    let mut description = arg.description.to_owned();
    if let Some(default) = arg.default {
        description.push_str(&format!(" Default: {default}."));
    }
    s.insert("description".into(), json!(description));
    Value::Object(s)
}

/// An action's arguments as one JSON object schema.
pub fn input_schema(action: &Action) -> Value {
    let properties: Map<String, Value> = action
        .args
        .iter()
        .map(|a| (a.name.to_owned(), arg_schema(a)))
        .collect();
    let required: Vec<&str> = action
        .args
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name)
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The WebAssembly tool's parameters: one flat object discriminated by `action`. Model
/// providers differ in what they accept at the top of a tool schema (several reject
/// `oneOf`/`anyOf` there), so every argument is a plain optional property; each property's
/// description says which actions use it, and the tool checks which ones each action needs.
pub fn flat_schema() -> Value {
    let mut properties = Map::new();
    properties.insert(
        "action".into(),
        json!({
            "type": "string",
            "enum": ACTIONS.iter().map(|a| a.name).collect::<Vec<_>>(),
            "description": "What to do.",
        }),
    );
    for (name, uses) in flat_args() {
        let mut schema = merged_schema(&uses);
        let used_by: Vec<&str> = uses.iter().map(|(action, _)| action.name).collect();
        if let Some(Value::String(d)) = schema.get_mut("description") {
            d.push_str(&format!(" For {}.", used_by.join(", ")));
        }
        properties.insert(name.to_owned(), schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": ["action"],
        "additionalProperties": false,
    })
}

/// Every argument name of every action, in first-use order, with the actions using it.
pub fn flat_args() -> Vec<(&'static str, Vec<(&'static Action, &'static Arg)>)> {
    let mut out: Vec<(&'static str, Vec<(&'static Action, &'static Arg)>)> = Vec::new();
    for action in ACTIONS {
        for arg in action.args {
            match out.iter_mut().find(|(name, _)| *name == arg.name) {
                Some((_, uses)) => uses.push((action, arg)),
                None => out.push((arg.name, vec![(action, arg)])),
            }
        }
    }
    out
}

/// One property for an argument several actions share: the first use's schema, with the
/// union of the enums and the widest bounds, so that no action's valid value is refused by
/// the flat schema (each action's own bounds are checked by the tool).
fn merged_schema(uses: &[(&Action, &Arg)]) -> Value {
    let first = uses[0].1;
    let mut merged = *first;
    let mut values: Vec<&'static str> = match first.kind {
        Kind::Enum(v) => v.to_vec(),
        _ => vec![],
    };
    for (_, arg) in &uses[1..] {
        merged.nullable |= arg.nullable;
        merged.min_chars = widest(merged.min_chars, arg.min_chars, usize::min);
        merged.max_chars = widest(merged.max_chars, arg.max_chars, usize::max);
        merged.minimum = widest(merged.minimum, arg.minimum, i64::min);
        merged.maximum = widest(merged.maximum, arg.maximum, i64::max);
        merged.max_items = widest(merged.max_items, arg.max_items, usize::max);
        if merged.default != arg.default {
            merged.default = None;
        }
        if let Kind::Enum(v) = arg.kind {
            for value in v {
                if !values.contains(value) {
                    values.push(value);
                }
            }
        }
    }
    let mut schema = arg_schema(&merged);
    if !values.is_empty() {
        let mut all: Vec<Value> = values.iter().map(|v| json!(v)).collect();
        if merged.nullable {
            all.push(Value::Null);
        }
        schema["enum"] = Value::Array(all);
    }
    schema
}

/// The wider of two bounds, where `None` is no bound at all.
fn widest<T>(a: Option<T>, b: Option<T>, pick: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        _ => None,
    }
}

fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

/// A task as the server sends it.
pub fn task_schema() -> Value {
    let mut priorities: Vec<Value> = PRIORITIES.iter().map(|p| json!(p)).collect();
    priorities.push(Value::Null);
    object(
        json!({
            "id": { "type": "string" },
            "title": { "type": "string" },
            "description": { "type": ["string", "null"] },
            "status": { "type": "string", "enum": TASK_STATUSES },
            "assignedAgent": { "type": ["string", "null"] },
            "priority": { "type": ["string", "null"], "enum": priorities },
            "createdAt": { "type": "integer", "description": "Epoch milliseconds." },
            "updatedAt": { "type": "integer", "description": "Epoch milliseconds." },
            "createdBy": { "type": ["string", "null"] },
            "tags": { "type": "array", "items": { "type": "string" } },
            "version": { "type": "integer", "description": "Incremented by every change." },
            "updatedBy": { "type": ["string", "null"] },
            "leaseExpiresAt": {
                "type": ["integer", "null"],
                "description": "While claimed: when the holder's lease ends (epoch ms)."
            },
            "blockedBy": { "type": "array", "items": { "type": "string" } },
            "blocked": { "type": "boolean" },
        }),
        &TASK_FIELDS,
    )
}

/// The fields every task answer carries.
pub const TASK_FIELDS: [&str; 15] = [
    "id",
    "title",
    "description",
    "status",
    "assignedAgent",
    "priority",
    "createdAt",
    "updatedAt",
    "createdBy",
    "tags",
    "version",
    "updatedBy",
    "leaseExpiresAt",
    "blockedBy",
    "blocked",
];

pub fn agent_schema() -> Value {
    object(
        json!({
            "id": { "type": "string" },
            "name": { "type": "string" },
            "role": { "type": "string", "enum": AGENT_ROLES },
            "status": { "type": "string", "enum": AGENT_STATUSES },
            "lastActive": { "type": "integer" },
            "avatarColor": { "type": ["string", "null"] },
        }),
        &["id", "name", "role", "status", "lastActive", "avatarColor"],
    )
}

pub fn event_schema() -> Value {
    object(
        json!({
            "id": { "type": "string" },
            "type": { "type": "string" },
            "message": { "type": "string" },
            "agentId": { "type": ["string", "null"] },
            "taskId": { "type": ["string", "null"] },
            "timestamp": { "type": "integer" },
            "seq": { "type": ["integer", "null"] },
        }),
        &["id", "type", "message", "agentId", "taskId", "timestamp"],
    )
}

pub fn comment_schema() -> Value {
    object(
        json!({
            "id": { "type": "string" },
            "taskId": { "type": "string" },
            "author": { "type": "string" },
            "text": { "type": "string" },
            "createdAt": { "type": "integer" },
        }),
        &["id", "taskId", "author", "text", "createdAt"],
    )
}

fn list(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// What the action answers, as a JSON object schema (an MCP tool's `outputSchema`).
pub fn output_schema(action: &Action) -> Value {
    match action.output {
        Output::Task => object(json!({ "task": task_schema() }), &["task"]),
        Output::MaybeTask => object(json!({ "task": nullable(task_schema()) }), &["task"]),
        Output::Tasks => object(
            json!({
                "tasks": list(task_schema()),
                "seq": { "type": "integer" },
                "nextCursor": { "type": "string", "description": "Where the next page starts." },
            }),
            &["tasks"],
        ),
        Output::Deleted => object(
            json!({ "deleted": { "type": "string", "description": "The deleted task's id." } }),
            &["deleted"],
        ),
        Output::Agents => object(
            json!({ "agents": list(agent_schema()), "seq": { "type": "integer" } }),
            &["agents"],
        ),
        Output::Agent => object(json!({ "agent": agent_schema() }), &["agent"]),
        Output::Events => object(
            json!({ "events": list(event_schema()), "hasMore": { "type": "boolean" } }),
            &["events", "hasMore"],
        ),
        Output::Work => object(
            json!({
                "agent": agent_schema(),
                "held": list(task_schema()),
                "heldMore": {
                    "type": "boolean",
                    "description": "Whether you hold more tasks than held lists."
                },
                "next": nullable(task_schema()),
            }),
            &["agent", "held", "next"],
        ),
        Output::Completed => object(
            json!({ "task": task_schema(), "comment": nullable(comment_schema()) }),
            &["task", "comment"],
        ),
        Output::Comment => object(json!({ "comment": comment_schema() }), &["comment"]),
        Output::Comments => object(
            json!({ "comments": list(comment_schema()), "hasMore": { "type": "boolean" } }),
            &["comments", "hasMore"],
        ),
    }
}
