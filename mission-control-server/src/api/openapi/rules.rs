//! What follows from the endpoint table and from how the server works, written into every
//! operation by rule, so that the document says what the router does and no operation can
//! forget an answer.
//!
//! What the endpoint table says of a route:
//!
//! | the table says | the operation gets |
//! | --- | --- |
//! | authenticated | the `bearer` security requirement |
//! | idempotent | the `Idempotency-Key` header, and 422 for a key used for another request |
//! | own origins only | 403 for a page of another site |
//!
//! The answers every operation of a kind shares:
//!
//! | status | on | why |
//! | --- | --- | --- |
//! | 400 | operations with a body or query parameters | bad JSON, a field or parameter breaks a rule |
//! | 401 | operations that need a token, and sign-in | no token, one that is forged, expired or revoked, or wrong credentials (`WWW-Authenticate`) |
//! | 408 | operations with a body | the body did not arrive in time |
//! | 413 | operations with a body | the body is larger than 1 MiB |
//! | 429 | operations that need a token, and sign-in | a rate limit: per token, per address for failed authentications and sign-in attempts (`Retry-After`) |
//! | 431 | every operation | a header (or the header section) is too large |
//! | 503 | every operation | the database cannot take the request, or the server is at a capacity limit (`Retry-After`) |
//!
//! An operation that declares one of these statuses itself keeps its own (`/health` its 503).

use mission_control_core::IdempotencyKey;
use serde_json::{Value, json};

use super::operations_mut;
use crate::api::router;
use crate::web::body::MAX_BODY_BYTES;

/// An answer with the API's error body.
fn error_answer(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

/// What the endpoint table says of each route, written into its operation.
pub(super) fn add_table_rules(doc: &mut Value) {
    for route in router::table() {
        let op = &mut doc["paths"][&route.path][route.method.as_str().to_ascii_lowercase()];
        if !op.is_object() {
            continue; // the router's tests name the route the document lacks
        }
        if route.needs_token() {
            op["security"] = json!([{"bearer": []}]);
        }
        if route.idempotent {
            let parameter = json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Makes a retry safe: the same key with the same request within 24 \
                    hours answers the first answer again, and does nothing twice",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IdempotencyKey::MAX_CHARS,
                    "pattern": "^[!-~]+$",
                },
            });
            match op["parameters"].as_array_mut() {
                Some(parameters) => parameters.push(parameter),
                None => op["parameters"] = json!([parameter]),
            }
            op["responses"]["422"] =
                error_answer("The Idempotency-Key was used for another request");
        }
        if route.own_origins_only {
            op["responses"]["403"] = error_answer(
                "A page of another site: its `Origin` is neither this server nor a \
                 `FRONTEND_URL`",
            );
        }
    }
}

/// Public operations that check credentials, under per-address rate limits.
const SIGN_IN_OPERATIONS: &[&str] = &["login", "acceptInvite"];

/// The shared answers, as `components/responses` entries.
fn shared_responses() -> Value {
    let with_header = |mut response: Value, name: &str, header: Value| {
        response["headers"] = json!({ name: header });
        response
    };
    let retry_after = json!({
        "description": "Whole seconds to wait before trying again.",
        "required": true,
        "schema": {"type": "integer", "minimum": 1},
    });
    json!({
        "BadRequest": error_answer(
            "The body is not JSON, or a field or query parameter breaks a rule; \
             `error.details` names each one (code `invalid_json` or `validation_failed`)."
        ),
        "Unauthorized": with_header(
            error_answer(
                "No bearer token, or one that is forged, expired or revoked; signing in, a \
                 wrong username or password."
            ),
            "WWW-Authenticate",
            json!({"required": true, "schema": {"type": "string", "const": "Bearer"}}),
        ),
        "RequestTimeout": error_answer("The request's body did not arrive in time."),
        "PayloadTooLarge": error_answer(&format!(
            "The body is larger than {MAX_BODY_BYTES} bytes."
        )),
        "RateLimited": with_header(
            error_answer(
                "Too many requests with this token, or too many failed authentications or \
                 sign-in attempts from this address."
            ),
            "Retry-After",
            retry_after.clone(),
        ),
        "HeaderTooLarge": error_answer("A header, the header section or the URI is too large."),
        "Unavailable": with_header(
            error_answer(
                "The database cannot take the request right now (disk full, file gone), or the \
                 server is at a capacity limit (connections, password checks)."
            ),
            "Retry-After",
            retry_after,
        ),
    })
}

/// Adds the shared answers to every operation, by the rules of the module's second table.
pub(super) fn add_shared_responses(doc: &mut Value) {
    for op in operations_mut(doc) {
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        let signs_in = op["operationId"]
            .as_str()
            .is_some_and(|id| SIGN_IN_OPERATIONS.contains(&id));
        let has_body = op.get("requestBody").is_some();
        let has_query = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
        let mut shared = Vec::new();
        if has_body || has_query {
            shared.push(("400", "BadRequest"));
        }
        if secured || signs_in {
            shared.extend([("401", "Unauthorized"), ("429", "RateLimited")]);
        }
        if has_body {
            shared.extend([("408", "RequestTimeout"), ("413", "PayloadTooLarge")]);
        }
        shared.extend([("431", "HeaderTooLarge"), ("503", "Unavailable")]);
        let Some(responses) = op["responses"].as_object_mut() else {
            continue;
        };
        for (status, name) in shared {
            responses
                .entry(status)
                .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
        }
        responses.sort_keys();
    }
    doc["components"]["responses"] = shared_responses();
}

#[cfg(test)]
mod tests {
    use super::super::document;

    fn sign_in(path: &str) -> bool {
        path == "/api/auth/login" || path == "/api/auth/invite"
    }

    #[test]
    fn every_operation_has_the_shared_answers() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                let has = |s: &str| responses.contains_key(s);
                let secured = op.get("security").is_some();
                assert!(has("431") && has("503"), "{method} {path}");
                assert_eq!(has("401"), secured || sign_in(path), "{method} {path}");
                assert_eq!(has("429"), secured || sign_in(path), "{method} {path}");
                if op.get("requestBody").is_some() {
                    assert!(has("400") && has("413"), "{method} {path}");
                }
                for response in responses.values() {
                    if let Some(r) = response["$ref"].as_str() {
                        let name = r.trim_start_matches("#/components/responses/");
                        assert!(doc["components"]["responses"].get(name).is_some(), "{r}");
                    }
                }
            }
        }
        let unauthorized = &doc["components"]["responses"]["Unauthorized"];
        assert_eq!(
            unauthorized["headers"]["WWW-Authenticate"]["required"],
            true
        );
    }
}
