//! MCP over Streamable HTTP as the transport writes it: one JSON-RPC request per `POST /mcp`
//! with the agent's bearer token, answered as JSON. The Node and Python tests drive the
//! endpoint with the official SDKs; this is for the Rust tests that compare the server's doors
//! (REST, MCP, the WebAssembly tool) with one another.

use serde_json::{Value, json};

use crate::Result;

/// The protocol revision the requests name.
pub const PROTOCOL: &str = "2025-06-18";

/// The MCP endpoint of one server, as one agent.
pub struct McpClient {
    endpoint: String,
    token: String,
    http: reqwest::Client,
}

/// A `tools/call` result.
#[derive(Debug, Clone)]
pub struct ToolResult {
    pub is_error: bool,
    /// The answer, as the tool's output schema describes it (`null` for a tool error).
    pub structured: Value,
    /// The text blocks: a sentence, then the JSON (the REST error body, or an answer that is
    /// not a list: a list is carried once, as structured content).
    pub text: Vec<String>,
}

impl ToolResult {
    /// The REST error body a tool error carries (`{"error": {"code", ...}}`).
    pub fn error_body(&self) -> Value {
        self.text
            .last()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null)
    }

    /// The error's code, `""` for a success.
    pub fn error_code(&self) -> String {
        self.error_body()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl McpClient {
    /// `base_url` is the server's (`http://127.0.0.1:3002`).
    pub fn new(base_url: &str, token: &str) -> Self {
        McpClient {
            endpoint: format!("{}/mcp", base_url.trim_end_matches('/')),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// Sends one JSON-RPC request: the HTTP status and the answer's JSON.
    pub async fn post(&self, message: &Value, headers: &[(&str, &str)]) -> Result<(u16, Value)> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .body(message.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// A request's `result`; a JSON-RPC error or an HTTP failure is an `Err`.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value> {
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, answer) = self.post(&message, &[]).await?;
        if status != 200 || answer.get("error").is_some() {
            return Err(format!("{method}: HTTP {status}: {answer}").into());
        }
        Ok(answer["result"].clone())
    }

    /// The names of the tools the server lists.
    pub async fn tool_names(&self) -> Result<Vec<String>> {
        let result = self.request("tools/list", json!({})).await?;
        Ok(result["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect())
    }

    /// Calls the tool `name` with `arguments`.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<ToolResult> {
        let result = self
            .request("tools/call", json!({"name": name, "arguments": arguments}))
            .await?;
        Ok(ToolResult {
            is_error: result["isError"].as_bool().unwrap_or(false),
            structured: result["structuredContent"].clone(),
            text: result["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["text"].as_str().map(str::to_owned))
                .collect(),
        })
    }

    /// Reads the resource at `uri`: its text parsed as JSON.
    pub async fn read_resource(&self, uri: &str) -> Result<Value> {
        let result = self.request("resources/read", json!({"uri": uri})).await?;
        let text = result["contents"][0]["text"]
            .as_str()
            .ok_or("the resource has no text")?;
        Ok(serde_json::from_str(text)?)
    }
}
