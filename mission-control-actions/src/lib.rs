//! # mission-control-actions
//!
//! The one catalogue of what an agent can do on a Mission Control board. Each [`Action`] has
//! a name, a description, its arguments (JSON type, required, enum values, bounds,
//! description) and the REST call that carries it out. From it come:
//! - the `mission_control` WebAssembly tool's flat JSON Schema and its argument checks
//!   ([`schema::flat_schema`], [`Call::parse_flat`]);
//! - the MCP server's tools, their input and output schemas ([`schema::input_schema`],
//!   [`schema::output_schema`]) and their argument checks ([`Call::parse`]);
//! - the action table of the `mission-control` skill ([`skill::action_table`]).
//!
//! The bounds are the constants of [`limits`], which the core validates with. This crate
//! depends on `serde_json` alone, so the WebAssembly component can use it.

pub mod args;
pub mod catalogue;
pub mod limits;
pub mod model;
pub mod schema;
pub mod skill;

pub use args::{ArgError, Call, encode_component};
pub use catalogue::{ACTIONS, action};
pub use model::{Action, Arg, Effect, Kind, ME, Output, Place};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(action_name: &str, args: serde_json::Value) -> Result<Call, ArgError> {
        Call::parse(action(action_name).unwrap(), args.as_object().unwrap())
    }

    #[test]
    fn names_are_unique_and_shared_names_agree_on_their_type() {
        let mut names: Vec<_> = ACTIONS.iter().map(|a| a.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len());
        for action in ACTIONS {
            let mut args: Vec<_> = action.args.iter().map(|a| a.name).collect();
            args.sort();
            args.dedup();
            assert_eq!(args.len(), action.args.len(), "{}", action.name);
            assert!(
                action
                    .args
                    .iter()
                    .filter(|a| a.place == Place::Path)
                    .count()
                    <= 1,
                "{}",
                action.name
            );
            for one in action.needs_one_of {
                assert!(action.arg(one).is_some(), "{}: {one}", action.name);
            }
        }
        for (name, uses) in schema::flat_args() {
            let json_type = |k: Kind| match k {
                Kind::String | Kind::Enum(_) => "string",
                Kind::Integer => "integer",
                Kind::StringList => "array",
            };
            let first = json_type(uses[0].1.kind);
            for (action, arg) in &uses {
                assert_eq!(json_type(arg.kind), first, "{name} in {}", action.name);
            }
        }
    }

    #[test]
    fn schemas_are_objects_with_every_argument() {
        for action in ACTIONS {
            let input = schema::input_schema(action);
            assert_eq!(input["type"], "object");
            assert_eq!(
                input["properties"].as_object().unwrap().len(),
                action.args.len()
            );
            assert_eq!(schema::output_schema(action)["type"], "object");
        }
        let flat = schema::flat_schema();
        assert_eq!(flat["required"], json!(["action"]));
        assert_eq!(
            flat["properties"]["priority"]["enum"],
            json!(["low", "medium", "high", "critical", null])
        );
        assert_eq!(
            flat["properties"]["agentStatus"]["enum"],
            json!(["online", "offline", "busy"])
        );
        assert_eq!(flat["properties"]["title"]["maxLength"], 200);
        assert!(
            flat["properties"]["taskId"]["description"]
                .as_str()
                .unwrap()
                .contains("claim, ")
        );
    }

    #[test]
    fn calls_are_checked_and_name_the_argument() {
        let call = parse(
            "move_task",
            json!({"taskId": " task-1 ", "newStatus": "done", "version": 3.0}),
        )
        .unwrap();
        assert_eq!(call.path_and_query(), "/api/tasks/task-1");
        assert_eq!(call.body(), Some(json!({"status": "done"})));
        assert_eq!(call.if_match(), Some(3));

        let cases = [
            ("move_task", json!({"taskId": "t"}), "newStatus"),
            (
                "move_task",
                json!({"taskId": "t", "newStatus": "archived"}),
                "newStatus",
            ),
            ("move_task", json!({"newStatus": "done"}), "taskId"),
            (
                "move_task",
                json!({"taskId": "  ", "newStatus": "done"}),
                "taskId",
            ),
            ("create_task", json!({}), "title"),
            ("create_task", json!({"title": "x".repeat(201)}), "title"),
            ("create_task", json!({"title": "x", "tags": "bug"}), "tags"),
            (
                "create_task",
                json!({"title": "x", "tags": vec!["t"; 21]}),
                "tags",
            ),
            (
                "create_task",
                json!({"title": "x", "colour": "red"}),
                "colour",
            ),
            ("update_task", json!({"taskId": "t"}), "title"),
            (
                "update_task",
                json!({"taskId": "t", "version": 0, "title": "x"}),
                "version",
            ),
            (
                "claim",
                json!({"taskId": "t", "leaseSeconds": 4}),
                "leaseSeconds",
            ),
            (
                "heartbeat",
                json!({"agentStatus": "offline"}),
                "agentStatus",
            ),
            ("list_events", json!({"limit": 0}), "limit"),
            ("comment", json!({"taskId": "t", "text": ""}), "text"),
        ];
        for (name, args, field) in cases {
            let err = parse(name, args.clone()).unwrap_err();
            assert_eq!(err.field, field, "{name} {args}: {err}");
        }
    }

    #[test]
    fn null_clears_what_may_be_cleared_and_is_absent_otherwise() {
        let call = parse(
            "update_task",
            json!({"taskId": "t", "description": null, "title": null, "priority": null}),
        )
        .unwrap();
        assert_eq!(
            call.body(),
            Some(json!({"description": null, "priority": null}))
        );
        let err = parse("create_task", json!({"title": null})).unwrap_err();
        assert_eq!(err.field, "title");
    }

    #[test]
    fn the_flat_tool_takes_the_action_and_its_arguments() {
        let call = Call::parse_flat(&json!({
            "action": "list_tasks", "status": "todo", "agent": "agent-nova", "newStatus": null
        }))
        .unwrap();
        assert_eq!(
            call.path_and_query(),
            "/api/tasks?status=todo&agent=agent-nova&limit=100"
        );
        for (params, field) in [
            (
                json!({"action": "list_tasks", "newStatus": "done"}),
                "newStatus",
            ),
            (json!({"action": "archive_task"}), "action"),
            (json!({"title": "x"}), "action"),
            (json!(["create_task"]), "action"),
            (
                json!({"action": "get_task", "taskId": "t", "colour": 1}),
                "colour",
            ),
        ] {
            assert_eq!(
                Call::parse_flat(&params).unwrap_err().field,
                field,
                "{params}"
            );
        }
        let beat = Call::parse_flat(&json!({"action": "heartbeat"})).unwrap();
        assert_eq!(beat.path_and_query(), "/api/agents/me/heartbeat");
        assert_eq!(beat.body(), Some(json!({})));
        let key = Call::parse_flat(&json!({
            "action": "comment", "taskId": "a b", "text": "hi", "idempotencyKey": "k-1"
        }))
        .unwrap();
        assert_eq!(key.path_and_query(), "/api/tasks/a%20b/comments");
        assert_eq!(key.idempotency_key(), Some("k-1"));
    }

    #[test]
    fn a_call_is_a_rest_request_and_its_answer_the_rest_answer() {
        let call = parse(
            "update_task",
            json!({"taskId": "t", "title": "x", "version": 4}),
        )
        .unwrap();
        assert_eq!(call.headers(), [("if-match", "\"4\"".to_owned())]);
        let answer = json!({"task": {"id": "t"}});
        assert_eq!(call.answer(answer.clone()), answer);
        let comment = parse(
            "comment",
            json!({"taskId": "t", "text": "hi", "idempotencyKey": "k"}),
        )
        .unwrap();
        assert_eq!(comment.headers(), [("idempotency-key", "k".to_owned())]);
        let delete = parse("delete_task", json!({"taskId": " t "})).unwrap();
        assert!(delete.headers().is_empty());
        assert_eq!(
            delete.answer(json!({"success": true})),
            json!({"deleted": "t"})
        );
    }

    #[test]
    fn errors_name_what_the_model_sent() {
        let m = action("move_task").unwrap();
        assert_eq!(m.arg_name_for("status"), Some("newStatus"));
        assert_eq!(m.arg_name_for("id"), Some("taskId"));
        assert_eq!(m.arg_name_for("If-Match"), Some("version"));
        let c = action("create_task").unwrap();
        assert_eq!(c.arg_name_for("tags[2]"), Some("tags"));
        assert_eq!(c.arg_name_for("Idempotency-Key"), Some("idempotencyKey"));
        let s = action("set_agent_status").unwrap();
        assert_eq!(s.arg_name_for("status"), Some("agentStatus"));
        assert_eq!(s.arg_name_for("id"), Some("agentId"));
    }

    /// The skill's table is generated from the catalogue; this fails when the file is stale
    /// (and rewrites it when `REGENERATE=1`).
    #[test]
    fn the_skill_lists_every_action_as_the_catalogue_defines_it() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../skills/mission-control/SKILL.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let fresh = skill::splice(&text, &skill::action_table())
            .expect("SKILL.md has the generated-table markers");
        if fresh != text {
            if std::env::var_os("REGENERATE").is_some() {
                std::fs::write(&path, &fresh).unwrap();
            } else {
                panic!(
                    "{} is stale: run REGENERATE=1 cargo test -p mission-control-actions",
                    path.display()
                );
            }
        }
        for action in ACTIONS {
            assert!(text.contains(&format!("| `{}` |", action.name)) || fresh != text);
        }
    }
}
