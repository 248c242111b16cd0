//! `mission-control-server mcp --url <board> --token <token>`: the board's MCP tools over
//! stdio, for clients that only launch local processes.
//!
//! An MCP server on stdin/stdout (the official SDK's stdio transport) that forwards every
//! request about tools and resources to a running board's `POST /mcp`, with the agent's
//! token. The remote endpoint is stateless, so each request goes on its own; the bridge
//! keeps no state and opens no database. Nothing but protocol messages is written to stdout.
//!
//! Two conversations, each in its own protocol revision: the stdio client negotiates any
//! revision the SDK speaks (the 2025 ones with `initialize`, 2026-07-28 without), while the
//! bridge always asks the board in one 2025 revision (`REMOTE_PROTOCOL`). The board's results
//! are made explicit about what that revision leaves implicit (`complete_result`), and the
//! SDK's server handler then shapes them for the stdio client's revision, as it does for the
//! results a server builds itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
    Implementation, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, ServiceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The protocol revision the bridge speaks to the board (any the board supports would do).
const REMOTE_PROTOCOL: &str = "2025-06-18";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A tool call is one database transaction on the board; this is a generous bound.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer read from the board.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Where the board's MCP endpoint is, and the agent's token.
#[derive(Clone)]
pub struct Remote {
    endpoint: String,
    token: String,
    client: reqwest::Client,
    next_id: std::sync::Arc<AtomicU64>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// `--url` as given: the board (`http://host:3002`) or its MCP endpoint (`.../mcp`).
pub fn endpoint_of(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("--url {url:?} must be an http:// or https:// URL"));
    }
    let after_scheme = &url[url.find("://").map_or(0, |i| i + 3)..];
    Ok(if after_scheme.contains('/') {
        url.to_owned()
    } else {
        format!("{url}{}", super::endpoint::PATH)
    })
}

impl Remote {
    pub fn new(url: &str, token: &str) -> Result<Self, String> {
        let token = token.trim();
        if token.is_empty() {
            return Err("a token is required: --token <token> or MISSION_CONTROL_TOKEN".into());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Remote {
            endpoint: endpoint_of(url)?,
            token: token.to_owned(),
            client,
            next_id: Default::default(),
        })
    }

    /// Sends one JSON-RPC request to the board; its `result`.
    async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, McpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let unreachable = |e: &dyn std::fmt::Display| {
            McpError::internal_error(
                format!("cannot reach Mission Control at {}: {e}", self.endpoint),
                None,
            )
        };
        let mut response = self
            .client
            .post(&self.endpoint)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", REMOTE_PROTOCOL)
            .json(&message)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(unreachable(&"the answer is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            let reason = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(300).collect());
            return Err(McpError::new(
                ErrorCode::INTERNAL_ERROR,
                format!("Mission Control answered {status}: {reason}"),
                Some(json!({ "status": status.as_u16() })),
            ));
        }
        let answer = json_rpc_answer(&text, id)
            .ok_or_else(|| unreachable(&"the answer is not a JSON-RPC response"))?;
        if let Some(error) = answer.get("error") {
            return Err(McpError::new(
                ErrorCode(error["code"].as_i64().unwrap_or(-32603) as i32),
                error["message"].as_str().unwrap_or("error").to_owned(),
                error.get("data").cloned(),
            ));
        }
        serde_json::from_value(complete_result(answer["result"].clone()))
            .map_err(|e| unreachable(&format!("unexpected answer: {e}")))
    }

    /// Checks that the board answers and takes the token, before serving anything; the
    /// board's instructions for agents, which the bridge hands on to its own client.
    pub async fn introduce(&self) -> Result<Option<String>, String> {
        let params = json!({
            "protocolVersion": REMOTE_PROTOCOL,
            "capabilities": {},
            "clientInfo": { "name": "mission-control-bridge", "version": env!("CARGO_PKG_VERSION") },
        });
        let answer: Value = self
            .request("initialize", params)
            .await
            .map_err(|e| e.message.to_string())?;
        Ok(answer["instructions"].as_str().map(str::to_owned))
    }
}

/// The board's `result`, with the `resultType` the stdio client may require made explicit.
///
/// The board answers in [`REMOTE_PROTOCOL`], whose results carry no `resultType`; an absent one
/// means `"complete"`. A stdio client of the 2026-07-28 revision requires it on every result,
/// so the bridge writes it out. The SDK's server handler then shapes the result for the
/// revision the stdio client negotiated: it drops `"complete"` again for an older one, and adds
/// the caching hints (`ttlMs`, `cacheScope`) the newest one requires of list and read results.
fn complete_result(mut result: Value) -> Value {
    if let Value::Object(fields) = &mut result {
        fields
            .entry("resultType")
            .or_insert_with(|| Value::from("complete"));
    }
    result
}

/// The response with id `id` in a JSON answer, or in the events of an SSE answer.
fn json_rpc_answer(text: &str, id: u64) -> Option<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message["id"] == json!(id))
}

/// The stdio server: every tools and resources request goes to the board.
#[derive(Clone)]
pub struct Bridge {
    remote: Remote,
    /// The board's own instructions (`initialize`), when it gave some.
    instructions: Option<String>,
}

impl ServerHandler for Bridge {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("mission-control", env!("CARGO_PKG_VERSION"))
                .with_title("Mission Control (stdio bridge)"),
        )
        .with_instructions(self.instructions.clone().unwrap_or_else(|| {
            format!(
                "The Mission Control board at {}: the same tools as its MCP endpoint.",
                self.remote.endpoint
            )
        }))
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.remote.request("tools/list", params(&request)).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let params = json!({ "name": request.name, "arguments": request.arguments });
        match self
            .remote
            .request::<CallToolResult>("tools/call", params)
            .await
        {
            Ok(result) => Ok(result.into()),
            // The board could not be asked: the model should see why, as a tool error.
            Err(e) if e.code == ErrorCode::INTERNAL_ERROR => {
                Ok(CallToolResult::error(vec![ContentBlock::text(e.message.to_string())]).into())
            }
            Err(e) => Err(e),
        }
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.remote
            .request("resources/list", params(&request))
            .await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.remote
            .request("resources/templates/list", params(&request))
            .await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let result: ReadResourceResult = self
            .remote
            .request("resources/read", json!({ "uri": request.uri }))
            .await?;
        Ok(result.into())
    }
}

/// A list request's parameters as the board gets them: the cursor only. The stdio client's
/// request metadata belongs to its own revision, not to the bridge's conversation.
fn params(request: &Option<PaginatedRequestParams>) -> Value {
    match request.as_ref().and_then(|r| r.cursor.as_deref()) {
        Some(cursor) => json!({ "cursor": cursor }),
        None => json!({}),
    }
}

/// Serves the bridge on stdin/stdout until the client closes it.
pub async fn run(url: &str, token: &str) -> Result<(), String> {
    let remote = Remote::new(url, token)?;
    let instructions = remote.introduce().await?;
    let service = Bridge {
        remote,
        instructions,
    }
    .serve(rmcp::transport::stdio())
    .await
    .map_err(|e| format!("cannot start the stdio server: {e}"))?;
    service
        .waiting()
        .await
        .map_err(|e| format!("the stdio server stopped: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_may_name_the_board_or_its_endpoint() {
        assert_eq!(
            endpoint_of("http://127.0.0.1:3002").unwrap(),
            "http://127.0.0.1:3002/mcp"
        );
        assert_eq!(
            endpoint_of("https://board.example.com/").unwrap(),
            "https://board.example.com/mcp"
        );
        assert_eq!(
            endpoint_of("https://example.com/team/mcp").unwrap(),
            "https://example.com/team/mcp"
        );
        assert!(endpoint_of("board.example.com").is_err());
    }

    #[test]
    fn a_result_without_result_type_is_complete() {
        assert_eq!(
            complete_result(json!({ "tools": [] })),
            json!({ "resultType": "complete", "tools": [] })
        );
        let pending = json!({ "resultType": "input_required", "inputRequests": {} });
        assert_eq!(complete_result(pending.clone()), pending);
    }

    #[test]
    fn only_the_cursor_of_a_list_request_is_forwarded() {
        let request: PaginatedRequestParams = serde_json::from_value(json!({
            "cursor": "page-2",
            "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28" },
        }))
        .unwrap();
        assert_eq!(params(&Some(request)), json!({ "cursor": "page-2" }));
        assert_eq!(params(&None), json!({}));
    }

    #[test]
    fn sse_answers_are_read_too() {
        let sse = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n\
                   data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n";
        assert_eq!(json_rpc_answer(sse, 7).unwrap()["id"], 7);
        assert!(json_rpc_answer("nonsense", 1).is_none());
    }
}
