//! Board-wide settings: values that every process serving the board must share, kept in the
//! database rather than beside one process (the operator's password hash when the environment
//! sets none, for boards on PostgreSQL served by several processes).

use super::MissionControl;
use crate::domain::now_millis;
use crate::error::Result;
use crate::store::settings;

/// A board-wide setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The operator's password, as an Argon2 PHC string: where a PostgreSQL board kept it before
    /// there were accounts, and where a first start still puts a generated one. Start-up moves
    /// it into the operator's account, which sign-in reads.
    OperatorPasswordHash,
}

impl Setting {
    fn name(self) -> &'static str {
        match self {
            Setting::OperatorPasswordHash => "operator_password_hash",
        }
    }
}

impl MissionControl {
    /// The setting's value, if one is stored.
    pub async fn setting(&self, setting: Setting) -> Result<Option<String>> {
        self.read(move |conn| settings::get(conn, setting.name()))
            .await
    }

    /// Stores the setting's value, replacing any.
    pub async fn put_setting(&self, setting: Setting, value: String) -> Result<()> {
        self.write(move |conn| {
            Ok((
                settings::put(conn, setting.name(), &value, now_millis())?,
                vec![],
            ))
        })
        .await
    }

    /// Stores `value` unless a value is stored already; the value in force, and whether it
    /// is this one. Two processes starting at once agree on one value.
    pub async fn setting_or_insert(
        &self,
        setting: Setting,
        value: String,
    ) -> Result<(String, bool)> {
        self.write(move |conn| {
            if let Some(stored) = settings::get(conn, setting.name())? {
                return Ok(((stored, false), vec![]));
            }
            settings::put(conn, setting.name(), &value, now_millis())?;
            Ok(((value, true), vec![]))
        })
        .await
    }
}
