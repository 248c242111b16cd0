//! Small helpers shared by the request parsers: collecting field errors, and telling an absent
//! JSON field from an explicit `null` in a PATCH body.

use serde::{Deserialize, Deserializer};

use crate::error::{Error, FieldError};

/// A PATCH field: absent (leave as is), `null` (clear), or a value.
///
/// Serde maps both absent and `null` to `None` for a plain `Option`, which would make "clear the
/// assignee" impossible to say; this keeps the two apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only called when the field is present; `#[serde(default)]` covers absence.
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Null,
            Some(v) => Patch::Value(v),
        })
    }
}

/// Gathers field errors so that one response names every invalid field, not just the first.
#[derive(Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    /// Keeps the value when `result` is Ok, records the error against `field` otherwise.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// A required field: parsed when present, else noted as missing.
    pub fn required<T>(
        &mut self,
        field: &str,
        value: Option<String>,
        parse: impl FnOnce(String) -> Result<T, String>,
    ) -> Option<T> {
        match value {
            Some(v) => self.check(field, parse(v)),
            None => {
                self.0.push(FieldError::new(field, "is required"));
                None
            }
        }
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Ok when nothing was recorded; the caller then unwraps its `Option`s with `expect_valid`.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

/// Parses an optional PATCH field: absent stays absent, a value is parsed, and `null` is either
/// accepted (`nullable`) or reported.
pub(crate) fn parse_patch<T, U>(
    problems: &mut Problems,
    field: &str,
    patch: Patch<T>,
    nullable: bool,
    parse: impl FnOnce(T) -> Result<U, String>,
) -> Patch<U> {
    match patch {
        Patch::Absent => Patch::Absent,
        Patch::Null if nullable => Patch::Null,
        Patch::Null => {
            problems.push(field, "must not be null");
            Patch::Absent
        }
        Patch::Value(v) => match problems.check(field, parse(v)) {
            Some(u) => Patch::Value(u),
            None => Patch::Absent,
        },
    }
}

/// A whole number as JSON may write it: `30` or `30.0` (JSON does not tell the two apart, and
/// neither does the `integer` of JSON Schema). For `#[serde(deserialize_with = ...)]` on an
/// `Option<i64>` field.
pub fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("must be a whole number"))
}
