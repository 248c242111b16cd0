//! The action catalogue against the OpenAPI document (`GET /api/openapi.json`): every
//! action's REST call is documented, every argument lands on a documented path parameter,
//! query parameter, header or body property of the right JSON type, with the same enum and
//! bounds wherever the document states them, and every answer's wrapper keys are the
//! documented response's properties.

use mission_control_actions::{ACTIONS, Action, Arg, Kind, Place, schema};
use serde_json::Value;

struct Doc(Value);

impl Doc {
    /// Follows a `$ref` (and a `oneOf`/`anyOf` of one schema and null) to the schema.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        if let Some(r) = schema["$ref"].as_str() {
            let name = r.rsplit('/').next().unwrap_or("");
            return self.resolve(&self.0["components"]["schemas"][name]);
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(options) = schema[key].as_array() {
                let real: Vec<&Value> = options.iter().filter(|o| o["type"] != "null").collect();
                if real.len() == 1 {
                    return self.resolve(real[0]);
                }
            }
        }
        schema
    }

    fn operation(&self, action: &Action) -> Option<&Value> {
        let op = &self.0["paths"][action.path][action.method.to_ascii_lowercase()];
        op.is_object().then_some(op)
    }
}

fn json_type(kind: Kind) -> &'static str {
    match kind {
        Kind::String | Kind::Enum(_) => "string",
        Kind::Integer => "integer",
        Kind::StringList => "array",
    }
}

/// The document's types for a schema, without `null`.
fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

struct Findings {
    contradictions: Vec<String>,
    omissions: Vec<String>,
}

fn compare(doc: &Doc, at: &str, arg: &Arg, schema: &Value, f: &mut Findings) {
    let schema = doc.resolve(schema);
    let ts = types(schema);
    if !ts.iter().any(|t| t == json_type(arg.kind)) {
        f.contradictions.push(format!(
            "{at}: type {ts:?}, the catalogue says {}",
            json_type(arg.kind)
        ));
    }
    if let Kind::Enum(values) = arg.kind {
        match schema["enum"].as_array() {
            None => f.omissions.push(format!("{at}: enum")),
            Some(documented) => {
                let mut documented: Vec<&str> =
                    documented.iter().filter_map(Value::as_str).collect();
                let mut ours = values.to_vec();
                documented.sort();
                ours.sort();
                if documented != ours {
                    f.contradictions.push(format!("{at}: enum"));
                }
            }
        }
    }
    let lengths = match arg.kind {
        Kind::StringList => doc.resolve(&schema["items"]),
        _ => schema,
    };
    let mut bound =
        |key: &str, target: &Value, ours: Option<i64>| match (target[key].as_i64(), ours) {
            (Some(theirs), Some(ours)) if theirs != ours => f
                .contradictions
                .push(format!("{at}: {key} {theirs}, the catalogue says {ours}")),
            (None, Some(_)) => f.omissions.push(format!("{at}: {key}")),
            (Some(theirs), None) => f
                .contradictions
                .push(format!("{at}: {key} {theirs}, the catalogue has none")),
            _ => {}
        };
    let as_i64 = |n: Option<usize>| n.map(|n| n as i64);
    if matches!(arg.kind, Kind::String | Kind::StringList) {
        bound("maxLength", lengths, as_i64(arg.max_chars));
    }
    if arg.kind == Kind::StringList {
        bound("maxItems", schema, as_i64(arg.max_items));
    }
    if arg.kind == Kind::Integer {
        // A documented minimum of 0 on an unsigned query parameter says nothing.
        if schema["minimum"].as_i64() != Some(0) || arg.minimum.is_none() {
            bound("minimum", schema, arg.minimum);
        }
        bound("maximum", schema, arg.maximum);
    }
}

fn parameter<'a>(op: &'a Value, location: &str, name: &str) -> Option<&'a Value> {
    op["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["in"] == location && p["name"].as_str() == Some(name))
}

#[test]
fn every_action_maps_onto_the_documented_rest_call() {
    let doc = Doc(serde_json::to_value(crate::api::openapi::document()).unwrap());
    let mut f = Findings {
        contradictions: Vec::new(),
        omissions: Vec::new(),
    };
    for action in ACTIONS {
        let Some(op) = doc.operation(action) else {
            f.contradictions.push(format!(
                "{}: {} {} is not documented",
                action.name, action.method, action.path
            ));
            continue;
        };
        let body = doc.resolve(&op["requestBody"]["content"]["application/json"]["schema"]);
        for arg in action.args {
            let at = format!("{}.{}", action.name, arg.name);
            let found = match arg.place {
                Place::Path => parameter(op, "path", "id").map(|p| &p["schema"]),
                Place::Query(name) => parameter(op, "query", name).map(|p| &p["schema"]),
                Place::IfMatch => parameter(op, "header", "If-Match").map(|_| &Value::Null),
                Place::IdempotencyKey => {
                    parameter(op, "header", "Idempotency-Key").map(|_| &Value::Null)
                }
                Place::Body(name) => body["properties"].get(name),
            };
            match found {
                None => f
                    .contradictions
                    .push(format!("{at}: no {:?} in the document", arg.place)),
                // The headers carry text; what is in it is the catalogue's to say.
                Some(Value::Null) => {}
                Some(schema) => compare(&doc, &at, arg, schema, &mut f),
            }
        }
        // The answer: the wrapper keys are the documented response's properties.
        let responses = &op["responses"];
        let ok = ["200", "201"]
            .iter()
            .map(|code| &responses[*code]["content"]["application/json"]["schema"])
            .find(|s| !s.is_null());
        let output = schema::output_schema(action);
        match ok.map(|s| doc.resolve(s)) {
            Some(documented) => {
                for key in output["required"].as_array().unwrap() {
                    let key = key.as_str().unwrap();
                    // `{"deleted": id}` is the tools' own answer to a deletion.
                    if key != "deleted" && documented["properties"].get(key).is_none() {
                        f.contradictions.push(format!(
                            "{}: answer key {key} is not documented",
                            action.name
                        ));
                    }
                }
            }
            None => f.contradictions.push(format!(
                "{}: no JSON success answer documented",
                action.name
            )),
        }
    }
    // The task every answer carries has the documented fields.
    let task = doc.resolve(&doc.0["components"]["schemas"]["Task"]);
    for field in schema::TASK_FIELDS {
        if task["properties"].get(field).is_none() {
            f.contradictions
                .push(format!("Task.{field} is not documented"));
        }
    }
    assert!(
        f.omissions.is_empty(),
        "the OpenAPI document does not state what the catalogue does: {}",
        f.omissions.join(", ")
    );
    assert!(
        f.contradictions.is_empty(),
        "the catalogue and the OpenAPI document disagree:\n{}",
        f.contradictions.join("\n")
    );
}
