//! Query-string parameters, parsed into typed values with the parameter named on error.

use std::str::FromStr;

use mission_control_core::FieldError;

use super::error::ApiError;

pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn of(uri: &http::Uri) -> Self {
        Query(
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Parameters given as pairs, as an MCP tool call's arguments arrive.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Query(pairs.into_iter().collect())
    }

    /// The last value given for `name`. An empty value is a value (`?status=` names no
    /// column and is refused as such), as the published document says.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses `name` with `T::from_str`, reporting its error against the parameter.
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>()
                    .map_err(|e| ApiError::InvalidQuery(FieldError::new(name, e.to_string())))
            })
            .transpose()
    }

    /// A text parameter of at most `max_chars` characters.
    pub fn text(&self, name: &str, max_chars: usize) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            Some(raw) if raw.chars().count() > max_chars => Err(ApiError::InvalidQuery(
                FieldError::new(name, format!("must be at most {max_chars} characters")),
            )),
            value => Ok(value),
        }
    }

    /// An integer parameter within `min..=max`.
    pub fn integer(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let invalid = || {
            ApiError::InvalidQuery(FieldError::new(
                name,
                format!("must be a whole number from {min} to {max}"),
            ))
        };
        match self.get(name) {
            None => Ok(None),
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(invalid()),
            },
        }
    }
}
