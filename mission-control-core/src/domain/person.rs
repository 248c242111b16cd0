//! People: who signs in with a username and a password, with an access role that says what
//! they may do ([`Access`]). A person acts on the board as their own agent card, whose id is
//! `agent-<username>`, so that their tasks, claims and comments carry their name.

use serde::{Deserialize, Serialize};

use super::agent::{AgentId, AgentName};
use super::fields::{Patch, Problems, parse_patch};
use super::string_enum;
use crate::error::Result;

string_enum! {
    /// What a person may do: `admin` everything (people, agents, tokens); `member` work on the
    /// board (tasks, claims, comments); `viewer` read it and watch it live.
    Access { Admin => "admin", Member => "member", Viewer => "viewer" }
}

/// A username: 1 to 32 lowercase letters, digits, `-` or `_`, starting with a letter or a
/// digit. The person's card is `agent-<username>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_');
        if ok {
            Ok(Username(raw.to_owned()))
        } else {
            Err(format!(
                "must be 1 to {} lowercase letters, digits, '-' or '_', starting with a letter \
                 or a digit (like nova)",
                Self::MAX_CHARS
            ))
        }
    }

    /// The id of the person's card.
    pub fn agent_id(&self) -> AgentId {
        // A valid username makes a valid agent id: `agent-` and at most 32 slug characters.
        AgentId::for_username(&self.0).unwrap_or_else(|_| unreachable_id())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn unreachable_id() -> AgentId {
    AgentId::parse("agent-invalid").unwrap_or_else(|_| unreachable!("a literal slug"))
}

/// A password a person chooses: 8 to 256 characters. Long enough to resist guessing, short
/// enough that hashing it costs what hashing any password costs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&len) {
            Ok(Password(raw.to_owned()))
        } else {
            Err(format!(
                "must be {} to {} characters (got {len})",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            ))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A person, as `/api/users` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// The person's card: `agent-<username>`.
    #[cfg_attr(feature = "openapi", schema(example = "agent-nova"))]
    pub id: String,
    pub username: String,
    /// Their card's display name.
    pub name: String,
    /// Their access role.
    pub role: Access,
    /// A disabled person cannot sign in; their sessions ended when they were disabled.
    pub disabled: bool,
    /// Whether they have yet to choose a password (an invitation is pending).
    pub invited: bool,
    /// Epoch milliseconds.
    pub created_at: i64,
}

/// The body of `POST /api/users`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPersonRequest {
    /// 1 to 32 lowercase letters, digits, `-` or `_`.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, schema_with = super::openapi::username, example = "nova")
    )]
    pub username: Option<String>,
    /// Display name, 1 to 100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, schema_with = super::openapi::agent_name, example = "Nova")
    )]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = super::openapi::access))]
    pub role: Option<String>,
    /// 8 to 256 characters. Without it the answer carries an invitation, valid 7 days, where
    /// the person chooses one.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: Option<String>,
}

/// A person ready to be added.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub username: Username,
    pub name: AgentName,
    pub access: Access,
    /// `None`: invite them to choose one.
    pub password: Option<Password>,
}

impl NewPerson {
    pub fn parse(req: NewPersonRequest) -> Result<Self> {
        let mut p = Problems::default();
        let username = p.required("username", req.username, |s| Username::parse(&s));
        let name = p.required("name", req.name, |s| AgentName::parse(&s));
        let access = p.required("role", req.role, |s| s.parse());
        let password = req
            .password
            .and_then(|s| p.check("password", Password::parse(&s)));
        p.finish()?;
        match (username, name, access) {
            (Some(username), Some(name), Some(access)) => Ok(NewPerson {
                username,
                name,
                access,
                password,
            }),
            _ => Err(crate::Error::Internal(
                "validation passed with a missing field".into(),
            )),
        }
    }
}

/// The body of `PATCH /api/users/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePersonRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::agent_name))]
    pub name: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::access))]
    pub role: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = bool))]
    pub disabled: Patch<bool>,
}

/// A checked set of changes to one person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonChanges {
    pub name: Option<AgentName>,
    pub access: Option<Access>,
    pub disabled: Option<bool>,
}

impl PersonChanges {
    pub fn parse(req: UpdatePersonRequest) -> Result<Self> {
        let mut p = Problems::default();
        let name = parse_patch(&mut p, "name", req.name, false, |s| AgentName::parse(&s));
        let access = parse_patch(&mut p, "role", req.role, false, |s| s.parse());
        let disabled = parse_patch(&mut p, "disabled", req.disabled, false, Ok);
        p.finish()?;
        Ok(PersonChanges {
            name: value(name),
            access: value(access),
            disabled: value(disabled),
        })
    }

    /// Whether the changes touch what the person may do (their role, or whether they may sign
    /// in at all): such a change ends their sessions.
    pub fn changes_access(&self) -> bool {
        self.access.is_some() || self.disabled.is_some()
    }
}

fn value<T>(patch: Patch<T>) -> Option<T> {
    match patch {
        Patch::Value(v) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_slugs_that_make_card_ids() {
        let nova = Username::parse("nova").unwrap();
        assert_eq!(nova.agent_id().as_str(), "agent-nova");
        for bad in ["", "Nova", "-nova", "no va", "nova!", &"n".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"n".repeat(32)).is_ok());
    }

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough").is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-secret")),
            "Ok(Password(..))"
        );
    }

    #[test]
    fn a_new_person_names_every_bad_field() {
        let err = NewPerson::parse(NewPersonRequest {
            username: Some("Bad Name".into()),
            name: None,
            role: Some("owner".into()),
            password: Some("x".into()),
        })
        .unwrap_err();
        let crate::Error::Validation(fields) = err else {
            panic!("a validation error")
        };
        let named: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["username", "name", "role", "password"]);
    }
}
