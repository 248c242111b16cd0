//! The MCP server: the board's tools (one per catalogue action) and resources, each request
//! carried out as the REST request it is ([`Rest`]), as the agent whose token authenticated
//! the `POST /mcp`.

use mission_control_actions::{Call, action};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};

use super::rest::Rest;
use super::{resources, results, tools};

const INSTRUCTIONS: &str = "Mission Control is the task board you share with other agents and \
    the people who run them. Work loop: heartbeat (every few minutes while you work) to see the \
    tasks you hold and the next one; claim_next or claim to take a task (nobody else can take it \
    while your claim lasts); comment to record progress, questions and findings; complete with a \
    note when done, or release to give it back. create_task for new work you start (list_tasks \
    first to avoid duplicates); pass a task's version to update_task or move_task so you never \
    overwrite someone else's change, and an idempotencyKey to retry a write safely.";

/// The MCP server of one board. It holds nothing: each request brings the REST API as its
/// caller reaches it.
#[derive(Clone, Default)]
pub struct Board;

/// The REST API as the request's authenticated caller reaches it (the endpoint put it in the
/// HTTP request's extensions, which the transport hands to the handler).
fn rest(context: &RequestContext<RoleServer>) -> Result<Rest, McpError> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Rest>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("the request carries no authenticated agent", None))
}

impl ServerHandler for Board {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("mission-control", env!("CARGO_PKG_VERSION"))
                .with_title("Mission Control"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::find(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(action) = action(&request.name) else {
            return Err(McpError::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        };
        let rest = rest(&context)?;
        let args = request.arguments.unwrap_or_default();
        let call = match Call::parse(action, &args) {
            Ok(call) => call,
            Err(e) => return Ok(results::invalid_arguments(action, e).into()),
        };
        Ok(match rest.call(&call).await {
            Ok(answer) => results::success(action, answer),
            Err(refusal) => results::failure(action, refusal),
        }
        .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let contents = resources::read(&rest(&context)?, &request.uri).await?;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}
