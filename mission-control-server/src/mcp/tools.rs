//! The MCP tools: one per action of the catalogue, with its input and output schemas and
//! hints, so an MCP client sees exactly the actions, arguments and rules the WebAssembly tool
//! and the skill describe.

use std::sync::{Arc, LazyLock};

use mission_control_actions::{ACTIONS, Action, Effect, schema};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::Value;

fn object(value: Value) -> Arc<JsonObject> {
    Arc::new(match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    })
}

/// The MCP tool of one action.
pub fn tool(action: &Action) -> Tool {
    let annotations = ToolAnnotations::with_title(action.title)
        .read_only(action.effect == Effect::Read)
        .destructive(action.effect == Effect::Destructive)
        .idempotent(matches!(action.effect, Effect::Read | Effect::Idempotent))
        // The board is a closed world: nothing outside it is touched.
        .open_world(false);
    Tool::new(
        action.name,
        action.description,
        object(schema::input_schema(action)),
    )
    .with_title(action.title)
    .with_raw_output_schema(object(schema::output_schema(action)))
    .with_annotations(annotations)
}

/// Every tool, built once.
pub fn all() -> &'static [Tool] {
    static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| ACTIONS.iter().map(tool).collect());
    &TOOLS
}

/// The tool called `name`.
pub fn find(name: &str) -> Option<&'static Tool> {
    all().iter().find(|t| t.name == name)
}
