//! The tokens of an import: each record checked like any row, revocations applied first, and
//! no token added that is revoked here or in the file, has expired, or is here already.

use super::{ImportReport, Problems, Row, agent_id, time};
use crate::credentials::is_sha256_hex;
use crate::domain::{RevokedToken, TokenRecord};
use crate::error::Result;
use crate::store::{Connection, agents, tokens};

pub(super) fn sha256_hex(text: &str) -> Result<String, String> {
    if is_sha256_hex(text) {
        Ok(text.to_owned())
    } else {
        Err("must be 64 lowercase hex digits (a SHA-256)".into())
    }
}

/// Adds the file's revocations (revoking here what they name) and then its tokens, but none
/// that is revoked, expired, or already here; the hashes of the tokens revoked here.
pub(super) fn add_credentials(
    conn: &Connection,
    records: Vec<TokenRecord>,
    revocations: Vec<RevokedToken>,
    now: i64,
    report: &mut ImportReport,
) -> Result<Vec<String>> {
    let mut revoked = Vec::new();
    for revocation in &revocations {
        if tokens::remember_revoked(conn, revocation)? {
            report.revoked_tokens += 1;
        }
        if let Some(hash) = tokens::delete(conn, &revocation.id)? {
            revoked.push(hash);
        }
    }
    let mut p = Problems::default();
    for (index, token) in records.iter().enumerate() {
        if token.expires_at <= now
            || tokens::exists(conn, &token.id)?
            || tokens::is_revoked(conn, &token.id)?
        {
            report.skipped += 1;
            continue;
        }
        if !agents::exists(conn, &token.agent_id)? {
            let at = Row {
                section: "tokens",
                index,
            };
            p.push(
                at.field("agentId"),
                "names no agent of the board or the file",
            );
            continue;
        }
        tokens::insert_record(conn, token)?;
        report.tokens += 1;
    }
    p.finish()?;
    Ok(revoked)
}

pub(super) fn check_token(p: &mut Problems, at: &Row, token: TokenRecord) -> Option<TokenRecord> {
    let checked = (
        p.check(at, "id", sha256_hex(&token.id)),
        p.check(at, "agentId", agent_id(&token.agent_id)),
        p.check(at, "tokenHash", sha256_hex(&token.token_hash)),
        p.check(at, "createdAt", time(token.created_at)),
        p.check(at, "expiresAt", time(token.expires_at)),
        p.check(at, "lastUsedAt", token.last_used_at.map(time).transpose()),
    );
    let (
        Some(id),
        Some(agent_id),
        Some(token_hash),
        Some(created_at),
        Some(expires_at),
        Some(last_used_at),
    ) = checked
    else {
        return None;
    };
    Some(TokenRecord {
        id,
        agent_id,
        token_hash,
        created_at,
        expires_at,
        last_used_at,
    })
}
