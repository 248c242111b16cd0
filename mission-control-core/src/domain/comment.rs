//! Notes on a task: progress, questions, and the result when an agent finishes.

use serde::{Deserialize, Serialize};

use mission_control_actions::limits;

use super::text;

/// A comment as stored and as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    /// `cmt-` followed by a time-ordered UUID (v7).
    pub id: String,
    pub task_id: String,
    /// The agent id of who wrote it.
    pub author: String,
    pub text: String,
    /// Epoch milliseconds.
    pub created_at: i64,
}

/// The text of a comment: 1 to 10,000 characters, line breaks allowed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentText(String);

impl CommentText {
    pub const MAX_CHARS: usize = limits::COMMENT_MAX_CHARS;

    pub fn parse(raw: &str) -> Result<Self, String> {
        match text::free_text(raw, Self::MAX_CHARS)? {
            Some(t) => Ok(CommentText(t)),
            None => Err("must not be empty".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The body of `POST /api/tasks/{id}/comments`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCommentRequest {
    /// 1 to 10,000 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, schema_with = super::openapi::comment_text)
    )]
    pub text: Option<String>,
}

impl NewCommentRequest {
    pub fn parse(self) -> crate::Result<CommentText> {
        let raw = self
            .text
            .ok_or_else(|| crate::Error::field("text", "is required"))?;
        CommentText::parse(&raw).map_err(|e| crate::Error::field("text", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_text_is_required_bounded_and_clean() {
        assert!(CommentText::parse("Done: see PR #12\nAll tests pass.").is_ok());
        assert!(CommentText::parse("   ").is_err());
        assert!(CommentText::parse(&"x".repeat(10_001)).is_err());
        assert!(CommentText::parse("\u{1b}[2J").is_err());
        assert!(NewCommentRequest::default().parse().is_err());
    }
}
