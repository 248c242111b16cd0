//! MCP at `POST /mcp` against the real binary: every catalogue action is a tool that reaches
//! its REST endpoint, a tool call is the same request as its REST twin (one idempotency rule
//! whichever door a retry takes), answers are read up to a cap, pages of other sites are
//! refused, and JSON-RPC ids keep to the published bounds.

use super::support::*;
use mission_control_actions::{ACTIONS, Call, Effect, schema};
use mission_control_testkit::actions::{reached_its_handler, sample_arguments};
use mission_control_testkit::mcp::McpClient;
use serde_json::{Value, json};

/// A fresh `todo` task, by REST: its id.
async fn todo_task(session: &Session, title: &str) -> String {
    let r = session
        .create_task(json!({"title": title, "status": "todo"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.task_id()
}

/// Every action of the catalogue is listed as a tool and, called with arguments its rules
/// accept, is answered by its endpoint's handler: an action the server cannot carry out fails
/// here, not in front of a user. A read answers exactly what its REST request answers.
#[tokio::test]
async fn every_catalogue_action_is_a_tool_that_reaches_its_endpoint() {
    let s = App::start().await;
    let admin = s.login().await;
    let mcp = McpClient::new(&s.url, admin.token());
    let mut listed = mcp.tool_names().await.unwrap();
    listed.sort();
    let mut names: Vec<_> = ACTIONS.iter().map(|a| a.name.to_owned()).collect();
    names.sort();
    assert_eq!(listed, names);

    for action in ACTIONS {
        let task = todo_task(&admin, &format!("For {}", action.name)).await;
        let args = sample_arguments(action, &task, ADMIN_AGENT);
        let result = mcp
            .call_tool(action.name, Value::Object(args.clone()))
            .await
            .unwrap();
        if result.is_error {
            assert!(
                reached_its_handler(&result.error_code()),
                "{}({}): {:?}",
                action.name,
                Value::Object(args),
                result.text
            );
            continue;
        }
        let output = schema::output_schema(action);
        for key in output["required"].as_array().unwrap() {
            let key = key.as_str().unwrap();
            assert!(
                result.structured.get(key).is_some(),
                "{}: no {key} in {}",
                action.name,
                result.structured
            );
        }
        if action.effect == Effect::Read {
            let call = Call::parse(action, &args).unwrap();
            let rest = admin.get(&call.path_and_query()).await;
            assert_eq!(rest.status, 200, "{}", rest.body);
            assert_eq!(result.structured, rest.body, "{}", action.name);
        }
    }
}

/// The same `Idempotency-Key` with the same request answers the first answer, whether the
/// retry comes over REST or MCP and however its JSON is written; with another request it is
/// refused (422 `idempotency_key_reused`), whichever door each came through.
#[tokio::test]
async fn one_idempotency_key_means_one_request_through_rest_and_mcp() {
    let s = App::start().await;
    let admin = s.login().await;
    let mcp = McpClient::new(&s.url, admin.token());

    // REST first, with its own spacing and key order; then MCP.
    let body = br#"{ "tags" : ["b", "a"], "priority":"high",  "title": "Cross-door" }"#;
    let rest = admin
        .idempotency_key("door-1")
        .send_bytes("POST", "/api/tasks", body)
        .await;
    assert_eq!(rest.status, 201);
    let first = rest.body;
    let task_id = first["task"]["id"].as_str().unwrap().to_owned();
    let create = json!({
        "title": "Cross-door", "priority": "high", "tags": ["b", "a"], "idempotencyKey": "door-1"
    });
    let again = mcp.call_tool("create_task", create.clone()).await.unwrap();
    assert!(!again.is_error, "{:?}", again.text);
    assert_eq!(again.structured, first);
    let mut other = create.clone();
    other["title"] = json!("Another card");
    let refused = mcp.call_tool("create_task", other).await.unwrap();
    assert_eq!(refused.error_code(), "idempotency_key_reused");
    assert_eq!(
        refused.error_body()["error"]["details"][0]["field"],
        "idempotencyKey"
    );
    let tasks = admin.list_tasks("").await;
    assert_eq!(tasks.list("tasks").len(), 1);

    // MCP first, then REST: a claim without a lease sends `{}` over MCP and nothing over
    // REST, which every handler reads alike.
    let claimed = mcp
        .call_tool(
            "claim",
            json!({"taskId": task_id, "idempotencyKey": "door-2"}),
        )
        .await
        .unwrap();
    assert!(!claimed.is_error, "{:?}", claimed.text);
    let retry = admin.idempotency_key("door-2").claim(&task_id).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body, claimed.structured);
    let refused = admin
        .idempotency_key("door-2")
        .claim_with(&task_id, json!({"leaseSeconds": 60}))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "idempotency_key_reused");

    // A comment: one, whichever door repeats it.
    let comment = json!({"taskId": task_id, "text": "Found it", "idempotencyKey": "door-3"});
    let noted = mcp.call_tool("comment", comment).await.unwrap();
    let repeated = admin
        .idempotency_key("door-3")
        .comment(&task_id, "Found it")
        .await;
    assert_eq!(repeated.status, 201, "{}", repeated.body);
    assert_eq!(repeated.body, noted.structured);
    let comments = admin.comments(&task_id, "").await;
    assert_eq!(comments.list("comments").len(), 1);
}

/// However large the tasks, a list answers a page of about a megabyte with `nextCursor`, and
/// carries it once (as structured content, with a summary naming its first tasks, not the JSON
/// a second time as text); the pages walk the whole board. (A page of 500 such tasks was 20 MB,
/// carried twice.)
#[tokio::test]
async fn a_list_of_large_tasks_is_paged_by_bytes_and_carried_once() {
    let s = App::start().await;
    let admin = s.login().await;
    // 80 tasks of 40 kB (10,000 four-byte characters each): 3.2 MB in all.
    let description = "𝄞".repeat(10_000);
    for i in 0..80 {
        let r = admin
            .create_task(json!({"title": format!("Large {i}"), "description": description}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let mcp = McpClient::new(&s.url, admin.token());
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({"limit": 500});
        if let Some(c) = &cursor {
            args["cursor"] = c.clone().into();
        }
        let page = mcp.call_tool("list_tasks", args).await.unwrap();
        assert!(!page.is_error, "{:?}", page.text);
        assert_eq!(
            page.text.len(),
            1,
            "the summary alone: the list is carried once"
        );
        let tasks = page.structured["tasks"].as_array().unwrap();
        assert!(
            !tasks.is_empty() && tasks.len() <= 30,
            "{} tasks",
            tasks.len()
        );
        let bytes = page.structured.to_string().len();
        assert!(bytes < 1_200_000, "a page of {bytes} bytes");
        for t in tasks {
            assert!(seen.insert(t["id"].as_str().unwrap().to_owned()));
        }
        pages += 1;
        match page.structured["nextCursor"].as_str() {
            Some(c) => {
                assert!(page.text[0].contains("nextCursor"), "{}", page.text[0]);
                cursor = Some(c.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 80);
    assert!(pages >= 3, "{pages} pages");
    // One task is still carried as text too, for clients that read text only.
    let id = seen.iter().next().unwrap();
    let one = mcp
        .call_tool("get_task", json!({"taskId": id}))
        .await
        .unwrap();
    assert_eq!(one.text.len(), 2);
    let text: serde_json::Value = serde_json::from_str(&one.text[1]).unwrap();
    assert_eq!(text, one.structured);
}

/// The resources read what the REST API answers.
#[tokio::test]
async fn the_resources_read_what_rest_answers() {
    let s = App::start().await;
    let admin = s.login().await;
    let task = todo_task(&admin, "Read me").await;
    let mcp = McpClient::new(&s.url, admin.token());
    let board = mcp.read_resource("mission-control://board").await.unwrap();
    let tasks = admin.list_tasks("limit=500").await;
    let agents = admin.list_agents().await;
    assert_eq!(board["tasks"], tasks.body["tasks"]);
    assert_eq!(board["agents"], agents.body["agents"]);
    assert_eq!(board["truncated"], false);
    let one = mcp
        .read_resource(&format!("mission-control://tasks/{task}"))
        .await
        .unwrap();
    let rest = admin.get_task(&task).await;
    assert_eq!(one["task"], rest.body["task"]);
    assert_eq!(one["comments"], json!([]));
    let missing = mcp
        .request(
            "resources/read",
            json!({"uri": "mission-control://tasks/task-none"}),
        )
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("no task with id"), "{missing}");
}

/// `set_agent_status` takes `me` for the caller's own agent, as the REST path does: an agent
/// need not know its id to say it is busy.
#[tokio::test]
async fn set_agent_status_takes_me_for_the_caller() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Research")
        .await;
    let mcp = McpClient::new(&s.url, nova.token());
    let result = mcp
        .call_tool(
            "set_agent_status",
            json!({"agentId": "me", "agentStatus": "busy"}),
        )
        .await
        .unwrap();
    assert!(!result.is_error, "{:?}", result.text);
    assert_eq!(result.structured["agent"]["id"], "agent-nova");
    assert_eq!(result.structured["agent"]["status"], "busy");
    let rest = admin.get_agent("agent-nova").await;
    assert_eq!(rest.body["agent"]["status"], "busy");
}

/// A page of another site may not call `/mcp` (403), token or not; no `Origin`, the server's
/// own and a `FRONTEND_URL` may. The REST API is not affected.
#[tokio::test]
async fn pages_of_other_sites_are_refused() {
    let frontend = "http://localhost:9000";
    let s = App::start_with(&[("FRONTEND_URL", frontend)]).await;
    let admin = s.login().await;
    let mcp = McpClient::new(&s.url, admin.token());
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    for origin in ["http://evil.example", "null", "http://localhost:9001"] {
        let (status, body) = mcp.post(&ping, &[("origin", origin)]).await.unwrap();
        assert_eq!(status, 403, "{origin}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let anonymous = s
        .http
        .post(format!("{}/mcp", s.url))
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);
    for origin in [None, Some(s.url.as_str()), Some(frontend)] {
        let headers: Vec<_> = origin.iter().map(|o| ("origin", *o)).collect();
        let (status, body) = mcp.post(&ping, &headers).await.unwrap();
        assert_eq!(status, 200, "{origin:?}: {body}");
    }
    let login = s
        .http
        .post(format!("{}/api/auth/login", s.url))
        .header("origin", "http://evil.example")
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

/// JSON-RPC ids are strings or 64-bit integers, as the document publishes them.
#[tokio::test]
async fn request_ids_keep_to_the_published_bounds() {
    let s = App::start().await;
    let admin = s.login().await;
    let mcp = McpClient::new(&s.url, admin.token());
    let doc = s.openapi().await;
    let id = &doc.body["components"]["schemas"]["JsonRpcMessage"]["properties"]["id"];
    assert_eq!(id["maximum"], json!(i64::MAX));
    assert_eq!(id["minimum"], json!(i64::MIN));
    // A whole number is an integer however it is written (JSON Schema counts `7.0` as one):
    // answered with the same number.
    for (id, answered) in [
        ("9223372036854775807", Some("9223372036854775807")),
        ("-9223372036854775808", Some("-9223372036854775808")),
        ("-81083517.0", Some("-81083517")),
        ("1e3", Some("1000")),
        ("9223372036854775808", None),
        ("18446744073709551616", None),
        ("1.5", None),
    ] {
        let message: Value =
            serde_json::from_str(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#))
                .unwrap();
        let (got, body) = mcp.post(&message, &[]).await.unwrap();
        match answered {
            Some(answer) => {
                assert_eq!(got, 200, "{id}: {body}");
                assert_eq!(body["id"].to_string(), answer);
            }
            None => assert_eq!(got, 400, "{id}: {body}"),
        }
    }
}
