//! Agents: the AI workers (and the people) who own tasks, with a role and a live status.

use serde::{Deserialize, Serialize};

use mission_control_actions::limits;

use super::fields::{Patch, Problems, parse_patch};
#[cfg(feature = "openapi")]
use super::openapi;
use super::string_enum;
use super::text;
use crate::error::Result;

string_enum! {
    AgentRole { Main => "Main", Dev => "Dev", Research => "Research", Ops => "Ops" }
}

string_enum! {
    AgentStatus { Online => "online", Offline => "offline", Busy => "busy" }
}

/// An agent id such as `agent-patch`: 1 to 64 lowercase letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AgentId(String);

impl AgentId {
    pub const MAX_CHARS: usize = limits::AGENT_ID_MAX_CHARS;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_');
        if !ok {
            return Err(format!(
                "must be 1 to {} lowercase letters, digits, '-' or '_' (like agent-patch)",
                Self::MAX_CHARS
            ));
        }
        Ok(AgentId(raw.to_owned()))
    }

    /// The id an operator who signs in as `username` acts under: `agent-<username>`.
    pub fn for_username(username: &str) -> Result<Self, String> {
        Self::parse(&format!("agent-{}", username.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AgentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AgentName(String);

impl AgentName {
    pub const MAX_CHARS: usize = limits::AGENT_NAME_MAX_CHARS;

    pub fn parse(raw: &str) -> Result<Self, String> {
        text::line(raw, Self::MAX_CHARS).map(AgentName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CSS hex colour, `#rgb` or `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AvatarColor(String);

impl AvatarColor {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let hex = raw.strip_prefix('#').unwrap_or("");
        if (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(AvatarColor(raw.to_ascii_lowercase()))
        } else {
            Err("must be a hex colour like #3b82f6".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An agent as stored and as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    #[cfg_attr(feature = "openapi", schema(example = "agent-patch"))]
    pub id: String,
    pub name: String,
    pub role: AgentRole,
    pub status: AgentStatus,
    /// Epoch milliseconds of the agent's last write.
    pub last_active: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub avatar_color: Option<String>,
}

/// The body of `POST /api/agents`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAgentRequest {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = openapi::new_agent_id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = openapi::agent_name))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = openapi::agent_role))]
    pub role: Option<String>,
    /// Defaults to `online`.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_agent_status))]
    pub status: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::new_agent_avatar_color))]
    pub avatar_color: Option<String>,
}

/// An agent ready to be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgent {
    pub id: AgentId,
    pub name: AgentName,
    pub role: AgentRole,
    pub status: AgentStatus,
    pub avatar_color: Option<AvatarColor>,
}

impl NewAgent {
    pub fn parse(req: NewAgentRequest) -> Result<Self> {
        let mut p = Problems::default();
        let id = p.required("id", req.id, |s| AgentId::parse(&s));
        let name = p.required("name", req.name, |s| AgentName::parse(&s));
        let role = p.required("role", req.role, |s| s.parse());
        let status = match req.status {
            Some(s) => p.check("status", s.parse()),
            None => Some(AgentStatus::Online),
        };
        let avatar_color = req
            .avatar_color
            .and_then(|c| p.check("avatarColor", AvatarColor::parse(&c)));
        p.finish()?;
        match (id, name, role, status) {
            (Some(id), Some(name), Some(role), Some(status)) => Ok(NewAgent {
                id,
                name,
                role,
                status,
                avatar_color,
            }),
            _ => Err(crate::Error::Internal(
                "validation passed with a missing field".into(),
            )),
        }
    }
}

/// The body of `PATCH /api/agents/:id`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAgentRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::agent_status_change))]
    pub status: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::agent_name))]
    pub name: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::agent_role))]
    pub role: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::agent_avatar_color_change))]
    pub avatar_color: Patch<String>,
}

/// A checked set of changes to one agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentChanges {
    pub status: Option<AgentStatus>,
    pub name: Option<AgentName>,
    pub role: Option<AgentRole>,
    /// `Some(None)` clears the colour.
    pub avatar_color: Option<Option<AvatarColor>>,
}

impl AgentChanges {
    pub fn status(status: AgentStatus) -> Self {
        AgentChanges {
            status: Some(status),
            ..Default::default()
        }
    }

    pub fn parse(req: UpdateAgentRequest) -> Result<Self> {
        let mut p = Problems::default();
        let status = parse_patch(&mut p, "status", req.status, false, |s| s.parse());
        let name = parse_patch(&mut p, "name", req.name, false, |s| AgentName::parse(&s));
        let role = parse_patch(&mut p, "role", req.role, false, |s| s.parse());
        let color = parse_patch(&mut p, "avatarColor", req.avatar_color, true, |c| {
            AvatarColor::parse(&c)
        });
        p.finish()?;
        Ok(AgentChanges {
            status: value(status),
            name: value(name),
            role: value(role),
            avatar_color: match color {
                Patch::Absent => None,
                Patch::Null => Some(None),
                Patch::Value(c) => Some(Some(c)),
            },
        })
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
    fn agent_ids_are_slugs() {
        assert!(AgentId::parse("agent-patch").is_ok());
        assert!(AgentId::parse("agent_nova2").is_ok());
        assert!(AgentId::parse("").is_err());
        assert!(AgentId::parse("Agent Patch").is_err());
        assert!(AgentId::parse(&"a".repeat(65)).is_err());
        assert_eq!(
            AgentId::for_username("Patch").unwrap().as_str(),
            "agent-patch"
        );
    }

    #[test]
    fn roles_statuses_and_colours() {
        assert_eq!("Research".parse::<AgentRole>(), Ok(AgentRole::Research));
        assert!(
            "dev".parse::<AgentRole>().is_err(),
            "roles are capitalised on the wire"
        );
        assert_eq!("busy".parse::<AgentStatus>(), Ok(AgentStatus::Busy));
        assert!("away".parse::<AgentStatus>().is_err());
        assert_eq!(AvatarColor::parse("#3B82F6").unwrap().as_str(), "#3b82f6");
        assert!(AvatarColor::parse("#fff").is_ok());
        assert!(AvatarColor::parse("blue").is_err());
        assert!(AvatarColor::parse("#12345g").is_err());
        assert!(AgentName::parse(" ").is_err());
    }

    #[test]
    fn new_agent_requires_id_name_and_role() {
        let err = NewAgent::parse(NewAgentRequest::default()).unwrap_err();
        let crate::Error::Validation(fields) = err else {
            panic!()
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["id", "name", "role"]);

        let agent = NewAgent::parse(NewAgentRequest {
            id: Some("agent-nova".into()),
            name: Some("Nova".into()),
            role: Some("Research".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(agent.status, AgentStatus::Online);
    }

    #[test]
    fn agent_changes_parse() {
        let req: UpdateAgentRequest = serde_json::from_str(r#"{"status":"busy"}"#).unwrap();
        assert_eq!(
            AgentChanges::parse(req).unwrap(),
            AgentChanges::status(AgentStatus::Busy)
        );
        let req: UpdateAgentRequest = serde_json::from_str(r#"{"status":null}"#).unwrap();
        assert!(AgentChanges::parse(req).is_err());
    }
}
