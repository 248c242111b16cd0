//! Parses the tool's parameters as the model sends them into a checked [`Call`].

use mission_control_actions::{ArgError, Call};
use serde_json::Value;

use crate::action::invalid;
use crate::bindings::mission_control::tool::types::ToolError;

/// The model's call, `{"action": "...", ...arguments}`, checked against the catalogue.
pub fn parse(params_json: &str) -> Result<Call, ToolError> {
    let value: Value = serde_json::from_str(params_json)
        .map_err(|e| invalid("action", format!("the parameters are not valid JSON: {e}")))?;
    Call::parse_flat(&value).map_err(from_arg_error)
}

pub fn from_arg_error(e: ArgError) -> ToolError {
    invalid(&e.field, e.message)
}
