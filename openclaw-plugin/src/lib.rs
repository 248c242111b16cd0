//! The `mission_control` agent tool as a WebAssembly component (`wit/tool.wit`).
//!
//! Every action is one call to Mission Control's REST API over `wasi:http`. The server URL and
//! the token come from the host through the imported `config` interface; the component has no
//! other capability. Errors come back as the WIT `tool-error` variant, never as a trap.

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

use action::Action;
use bindings::exports::mission_control::tool::actions::Guest;
use bindings::mission_control::tool::types::{
    Agent, AgentStatus, Event, EventQuery, NewTask, Task, TaskChanges, TaskFilter, TaskStatus,
    ToolDescription, ToolError,
};

struct Component;

fn run(action: Action) -> Result<serde_json::Value, ToolError> {
    wstd::runtime::block_on(action.run(&http::Connection::from_host()))
}

impl Guest for Component {
    fn describe() -> ToolDescription {
        ToolDescription {
            name: schema::TOOL_NAME.to_string(),
            description: schema::DESCRIPTION.to_string(),
            parameters_schema: schema::parameters_schema().to_string(),
        }
    }

    fn execute(params_json: String) -> Result<String, ToolError> {
        let action = params::parse(&params_json)?;
        let output = action.output(run(action.clone())?);
        Ok(output.to_string())
    }

    fn create_task(task: NewTask) -> Result<Task, ToolError> {
        convert::task_from(&run(Action::CreateTask(task))?["task"])
    }

    fn update_task(task_id: String, changes: TaskChanges) -> Result<Task, ToolError> {
        convert::task_from(&run(Action::UpdateTask { task_id, changes })?["task"])
    }

    fn move_task(task_id: String, new_status: TaskStatus) -> Result<Task, ToolError> {
        convert::task_from(
            &run(Action::MoveTask {
                task_id,
                new_status,
            })?["task"],
        )
    }

    fn list_tasks(filter: TaskFilter) -> Result<Vec<Task>, ToolError> {
        convert::list(
            &run(Action::ListTasks(filter))?["tasks"],
            convert::task_from,
        )
    }

    fn get_task(task_id: String) -> Result<Task, ToolError> {
        convert::task_from(&run(Action::GetTask { task_id })?["task"])
    }

    fn delete_task(task_id: String) -> Result<(), ToolError> {
        run(Action::DeleteTask { task_id }).map(|_| ())
    }

    fn list_agents() -> Result<Vec<Agent>, ToolError> {
        convert::list(&run(Action::ListAgents)?["agents"], convert::agent_from)
    }

    fn set_agent_status(agent_id: String, status: AgentStatus) -> Result<Agent, ToolError> {
        convert::agent_from(&run(Action::SetAgentStatus { agent_id, status })?["agent"])
    }

    fn list_events(query: EventQuery) -> Result<Vec<Event>, ToolError> {
        convert::list(
            &run(Action::ListEvents(query))?["events"],
            convert::event_from,
        )
    }
}

bindings::export!(Component with_types_in bindings);
