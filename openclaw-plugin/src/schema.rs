//! The tool's name, description and the JSON Schema of its parameters, all generated from the
//! action catalogue (`mission-control-actions`), which the MCP server's tools share.

use serde_json::Value;

pub const TOOL_NAME: &str = "mission_control";

pub fn description() -> String {
    mission_control_actions::skill::tool_description()
}

/// One flat object discriminated by `action` (see [`mission_control_actions::schema::flat_schema`]).
pub fn parameters_schema() -> Value {
    mission_control_actions::schema::flat_schema()
}
