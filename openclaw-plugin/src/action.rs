//! Carries out a checked [`Call`] as the REST call the catalogue names for its action, and
//! shapes the answer the way the tool hands it back.

use mission_control_actions::{Call, action};
use serde_json::{Map, Value};

use crate::bindings::mission_control::tool::types::{FieldError, ToolError};
use crate::http::{Connection, Method};
use crate::params::from_arg_error;

pub fn invalid(field: &str, message: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments(FieldError {
        field: field.to_string(),
        message: message.into(),
    })
}

/// Checks `args` (built by a typed entry point) for the action called `name`.
pub fn call(name: &str, args: Map<String, Value>) -> Result<Call, ToolError> {
    let action = action(name).ok_or_else(|| invalid("action", format!("unknown action {name}")))?;
    Call::parse(action, &args).map_err(from_arg_error)
}

fn method(name: &str) -> Method {
    match name {
        "POST" => Method::Post,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        _ => Method::Get,
    }
}

/// Carries out the call; the action's answer ([`Call::answer`]).
pub async fn run(call: &Call, conn: &Connection) -> Result<Value, ToolError> {
    let answer = conn
        .call(
            method(call.action.method),
            &call.path_and_query(),
            call.body(),
            &call.headers(),
        )
        .await
        .map_err(|e| match e {
            // The server names its own fields; the model knows them by the argument names.
            ToolError::InvalidArguments(FieldError { field, message }) => {
                ToolError::InvalidArguments(FieldError {
                    field: call
                        .action
                        .arg_name_for(&field)
                        .map_or(field, str::to_owned),
                    message,
                })
            }
            other => other,
        })?;
    Ok(call.answer(answer))
}
