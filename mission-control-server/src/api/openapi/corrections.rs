//! Corrections to what utoipa writes, where it differs from what OpenAPI 3.1 says and tools
//! read.

use serde_json::Value;

use super::operations_mut;

/// utoipa 5 writes a Link's fields in snake case (`operation_id`); OpenAPI names them in camel
/// case, and tools that follow links (schemathesis' stateful phase) read only those.
pub(super) fn camel_case_links(doc: &mut Value) {
    let responses = operations_mut(doc)
        .filter_map(|op| op["responses"].as_object_mut())
        .flat_map(|responses| responses.values_mut());
    for response in responses {
        let Some(links) = response.get_mut("links").and_then(Value::as_object_mut) else {
            continue;
        };
        for link in links.values_mut().filter_map(Value::as_object_mut) {
            for (snake, camel) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(value) = link.remove(snake) {
                    link.insert(camel.to_owned(), value);
                }
            }
        }
    }
}

/// utoipa writes an optional parameter as "string or null"; a header or query value is text
/// and never JSON `null`, so absence is `required: false` alone.
pub(super) fn parameters_are_never_null(doc: &mut Value) {
    let parameters = operations_mut(doc)
        .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
        .flatten();
    for parameter in parameters {
        let Some(schema) = parameter.get_mut("schema") else {
            continue;
        };
        if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                schema["type"] = only.clone();
            }
        }
        let one_of = schema
            .get("oneOf")
            .and_then(Value::as_array)
            .map(|options| {
                options
                    .iter()
                    .filter(|o| o["type"] != "null")
                    .cloned()
                    .collect::<Vec<_>>()
            });
        if let Some([only]) = one_of.as_deref() {
            *schema = only.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::document;
    use super::super::tests::operation_ids;

    /// The links a client (or schemathesis) follows from a created task or agent.
    #[test]
    fn links_name_their_operations() {
        let doc = document();
        let ids = operation_ids(doc);
        let created = &doc["paths"]["/api/tasks"]["post"]["responses"]["201"]["links"];
        assert_eq!(created["GetTask"]["operationId"], "getTask");
        assert_eq!(
            created["GetTask"]["parameters"]["id"],
            "$response.body#/task/id"
        );
        let registered = &doc["paths"]["/api/agents"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            registered["AssignATask"]["requestBody"]["assignedAgent"],
            "$response.body#/agent/id"
        );
        for links in [created, registered] {
            for (name, link) in links.as_object().unwrap() {
                let target = link["operationId"].as_str().unwrap_or_default();
                assert!(ids.contains(&target), "{name} -> {target}");
                assert!(link.get("operation_id").is_none());
            }
        }
    }
}
