//! Checking a call's arguments against the catalogue, and the REST call they make.
//!
//! [`Call::parse`] checks what the schema says (types, enums, bounds, required arguments)
//! and names the argument at fault as the model spelled it; the rules that need the board
//! (does the task exist, is the title visible) are the core's, which names fields the same
//! way once [`Action::arg_name_for`] has mapped them back.

use serde_json::{Map, Value};

use crate::catalogue::{ACTIONS, action};
use crate::model::{Action, Arg, Kind, ME, Output, Place};

/// An argument that is missing or wrong: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub field: String,
    pub message: String,
}

impl ArgError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ArgError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A checked call of one action: every argument given is of the right type and within its
/// bounds. A `null` is kept only for a nullable argument (it means "clear it"); for any
/// other it counts as absent, as several models send `null` for "not given".
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub action: &'static Action,
    args: Map<String, Value>,
}

impl Call {
    /// Checks `args` for `action`; arguments the action does not take are refused.
    pub fn parse(action: &'static Action, args: &Map<String, Value>) -> Result<Self, ArgError> {
        for key in args.keys() {
            if action.arg(key).is_none() {
                let known: Vec<&str> = action.args.iter().map(|a| a.name).collect();
                return Err(ArgError::new(
                    key.as_str(),
                    if known.is_empty() {
                        format!("unknown argument: {} takes none", action.name)
                    } else {
                        format!(
                            "unknown argument: {} takes {}",
                            action.name,
                            known.join(", ")
                        )
                    },
                ));
            }
        }
        let mut checked = Map::new();
        for arg in action.args {
            match args.get(arg.name) {
                None => {}
                Some(Value::Null) if arg.nullable => {
                    checked.insert(arg.name.into(), Value::Null);
                }
                Some(Value::Null) => {}
                Some(value) => {
                    checked.insert(arg.name.into(), check(arg, value)?);
                }
            }
            if arg.required && !checked.contains_key(arg.name) {
                return Err(ArgError::new(
                    arg.name,
                    format!("is required for {}", action.name),
                ));
            }
        }
        if !action.needs_one_of.is_empty()
            && !action.needs_one_of.iter().any(|n| checked.contains_key(*n))
        {
            return Err(ArgError::new(
                action.needs_one_of[0],
                format!(
                    "{} needs at least one field to change: {}",
                    action.name,
                    action.needs_one_of.join(", ")
                ),
            ));
        }
        Ok(Call {
            action,
            args: checked,
        })
    }

    /// Checks a call to the one flat tool: `{"action": "...", ...arguments}`. An argument of
    /// another action is refused, unless it is `null` (models send null for absent).
    pub fn parse_flat(params: &Value) -> Result<Self, ArgError> {
        let Value::Object(params) = params else {
            return Err(ArgError::new(
                "action",
                "the parameters must be a JSON object",
            ));
        };
        let names = || {
            ACTIONS
                .iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let action = match params.get("action") {
            Some(Value::String(name)) => action(name).ok_or_else(|| {
                ArgError::new(
                    "action",
                    format!("unknown action {name:?}; one of {}", names()),
                )
            })?,
            _ => {
                return Err(ArgError::new(
                    "action",
                    format!("is required: one of {}", names()),
                ));
            }
        };
        let mut args = Map::new();
        for (key, value) in params {
            if key == "action" {
                continue;
            }
            if action.arg(key).is_some() {
                args.insert(key.clone(), value.clone());
            } else if !ACTIONS.iter().any(|a| a.arg(key).is_some()) {
                return Err(ArgError::new(key.as_str(), "unknown parameter"));
            } else if !value.is_null() {
                return Err(ArgError::new(
                    key.as_str(),
                    format!("not used by {}", action.name),
                ));
            }
        }
        Self::parse(action, &args)
    }

    /// The argument's value; `Some(Value::Null)` for a nullable argument sent as null.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.args.get(name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(Value::as_str)
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        self.args.get(name).and_then(Value::as_i64)
    }

    /// The `{id}` of the path: the `Path` argument (trimmed), or [`ME`] when there is none.
    pub fn path_id(&self) -> String {
        self.action
            .args
            .iter()
            .find(|a| a.place == Place::Path)
            .and_then(|a| self.str(a.name))
            .map_or_else(|| ME.to_owned(), |id| id.trim().to_owned())
    }

    /// The task version `If-Match` should name, when given.
    pub fn if_match(&self) -> Option<i64> {
        self.by_place(Place::IfMatch).and_then(Value::as_i64)
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.by_place(Place::IdempotencyKey).and_then(Value::as_str)
    }

    fn by_place(&self, place: Place) -> Option<&Value> {
        self.action
            .args
            .iter()
            .find(|a| a.place == place)
            .and_then(|a| self.args.get(a.name))
    }

    /// The headers of the REST call: `If-Match` with the version as an entity tag, and
    /// `Idempotency-Key`, when given.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let Some(version) = self.if_match() {
            headers.push(("if-match", format!("\"{version}\"")));
        }
        if let Some(key) = self.idempotency_key() {
            headers.push(("idempotency-key", key.to_owned()));
        }
        headers
    }

    /// The action's answer, from the REST call's JSON answer: the same, except where the
    /// catalogue's [`Output`] words it otherwise (a deletion answers `{"deleted": id}`, REST
    /// `{"success": true}`).
    pub fn answer(&self, rest: Value) -> Value {
        match self.action.output {
            Output::Deleted => {
                let mut answer = Map::new();
                answer.insert("deleted".into(), Value::String(self.path_id()));
                Value::Object(answer)
            }
            _ => rest,
        }
    }

    /// The JSON body of the REST call: the `Body` arguments under their REST names. `None`
    /// for an action whose call has no body.
    pub fn body(&self) -> Option<Value> {
        let mut body = Map::new();
        let mut has_body = false;
        for arg in self.action.args {
            if let Place::Body(field) = arg.place {
                has_body = true;
                if let Some(value) = self.args.get(arg.name) {
                    body.insert(field.into(), value.clone());
                }
            }
        }
        has_body.then_some(Value::Object(body))
    }

    /// The query parameters of the REST call, defaults included, unencoded.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        for arg in self.action.args {
            if let Place::Query(name) = arg.place {
                match self.args.get(arg.name) {
                    Some(Value::String(s)) => query.push((name, s.trim().to_owned())),
                    Some(Value::Number(n)) => query.push((name, n.to_string())),
                    _ => {
                        if let Some(default) = arg.default {
                            query.push((name, default.to_owned()));
                        }
                    }
                }
            }
        }
        query
    }

    /// The REST call's path with its query, every component percent-encoded.
    pub fn path_and_query(&self) -> String {
        let mut path = self
            .action
            .path
            .replace("{id}", &encode_component(&self.path_id()));
        let query = self.query();
        for (i, (name, value)) in query.iter().enumerate() {
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(name);
            path.push('=');
            path.push_str(&encode_component(value));
        }
        path
    }
}

/// Checks one non-null value against its argument; the value to keep (integers written as
/// `5.0` become `5`).
fn check(arg: &Arg, value: &Value) -> Result<Value, ArgError> {
    let err = |message: String| ArgError::new(arg.name, message);
    match arg.kind {
        Kind::String => {
            let s = value.as_str().ok_or_else(|| err(string_expected(arg)))?;
            if arg.place == Place::Path && s.trim().is_empty() {
                return Err(err("must be a non-empty id".into()));
            }
            check_chars(arg, s, "")?;
            Ok(value.clone())
        }
        Kind::Enum(values) => match value.as_str() {
            Some(s) if values.contains(&s) => Ok(value.clone()),
            other => Err(err(format!(
                "must be one of {}{}",
                values.join(", "),
                other.map(|s| format!(", not {s:?}")).unwrap_or_default()
            ))),
        },
        Kind::Integer => {
            let n = value
                .as_i64()
                .or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .filter(|n| arg.minimum.is_none_or(|m| *n >= m))
                .filter(|n| arg.maximum.is_none_or(|m| *n <= m));
            match n {
                Some(n) => Ok(Value::from(n)),
                None => Err(err(match (arg.minimum, arg.maximum) {
                    (Some(min), Some(max)) => format!("must be a whole number from {min} to {max}"),
                    (Some(min), None) => format!("must be a whole number of at least {min}"),
                    _ => "must be a whole number".into(),
                })),
            }
        }
        Kind::StringList => {
            let items = value
                .as_array()
                .ok_or_else(|| err("must be a list of strings".into()))?;
            if let Some(max) = arg.max_items
                && items.len() > max
            {
                return Err(err(format!(
                    "must hold at most {max} items (got {})",
                    items.len()
                )));
            }
            for (i, item) in items.iter().enumerate() {
                let s = item
                    .as_str()
                    .ok_or_else(|| err("must be a list of strings".into()))?;
                check_chars(arg, s, &format!("item {i} "))?;
            }
            Ok(value.clone())
        }
    }
}

fn string_expected(arg: &Arg) -> String {
    if arg.nullable {
        "must be a string, or null to clear it".into()
    } else {
        "must be a string".into()
    }
}

fn check_chars(arg: &Arg, s: &str, what: &str) -> Result<(), ArgError> {
    let max = arg.max_chars.unwrap_or(usize::MAX);
    // Counting stops past the bound, so a huge string costs no more than a long one.
    let len = s.chars().take(max.saturating_add(1)).count();
    if arg.min_chars.is_some_and(|min| len < min) {
        return Err(ArgError::new(arg.name, format!("{what}must not be empty")));
    }
    if len > max {
        return Err(ArgError::new(
            arg.name,
            format!("{what}must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters pass).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
