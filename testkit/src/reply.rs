//! An answer of the REST API as a test reads it: status, JSON body, headers, and the checks
//! every test makes of them (a success's task, the one error shape).

use serde_json::Value;

/// An answer: its status, its body (JSON, or the text as a JSON string), its headers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("the answer's body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            headers,
        }
    }

    /// The body of a success (any 2xx; panics with the answer otherwise).
    pub fn ok(&self) -> &Value {
        assert!(
            (200..300).contains(&self.status),
            "{}: {}",
            self.status,
            self.body
        );
        &self.body
    }

    /// The `task` of a success.
    pub fn task(&self) -> Value {
        self.ok()["task"].clone()
    }

    /// The id of the `task` of a success.
    pub fn task_id(&self) -> String {
        self.ok()["task"]["id"]
            .as_str()
            .expect("a task id")
            .to_owned()
    }

    /// The list under `key` (`tasks`, `agents`, `events`, `comments`, `tokens`).
    pub fn list(&self, key: &str) -> &Vec<Value> {
        self.ok()[key]
            .as_array()
            .unwrap_or_else(|| panic!("no list {key} in {}", self.body))
    }

    /// Asserts the one error shape (this status and code, a message, details) and returns the
    /// fields its details name.
    pub fn error_fields(&self, status: u16, code: &str) -> Vec<String> {
        assert_eq!(self.status, status, "{}", self.body);
        let error = &self.body["error"];
        assert_eq!(error["code"], code, "{}", self.body);
        assert!(error["message"].is_string(), "{}", self.body);
        error["details"]
            .as_array()
            .expect("details is an array")
            .iter()
            .map(|d| d["field"].as_str().expect("a field").to_owned())
            .collect()
    }

    /// The header's value, as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("a text header")
    }
}
