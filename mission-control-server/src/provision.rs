//! Provisioning: the secrets the operator did not set in the environment (the token signing
//! key and the admin password).
//!
//! On an SQLite board they are kept in the data folder beside the database. The server
//! provisions once it holds its port ([`provision`]): what is missing is generated and stored
//! (files only their owner can read), and the returned [`Generated`] says what was, so that
//! start-up can report it (the password is shown that one time). Every other command only
//! reads ([`existing`]) and refuses to run where no server has ever started, rather than
//! generating secrets a server would not know.
//!
//! On PostgreSQL several processes, perhaps on several machines, serve one board, so nothing is
//! kept in files: the signing key must be set (`JWT_SECRET`, the same in every process; the
//! configuration refuses to start without it), and a generated admin password's hash is kept
//! in the database itself ([`provision_in_database`]), where the first process to start puts it
//! and every other finds it.

use std::path::{Path, PathBuf};

use mission_control_core::credentials::{MIN_SECRET_BYTES, generate_secret};
use mission_control_core::{Database, MissionControl, PasswordHash, Setting};

use crate::config::Config;
use crate::secret::Secret;

const SIGNING_KEY_FILE: &str = "jwt-secret";
const ADMIN_PASSWORD_FILE: &str = "admin-password.argon2";

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no database at {path}; start the server once (scripts/run.sh or mission-control-server), or set DATABASE_PATH"
    )]
    NotProvisioned { path: PathBuf },
    #[error("{0}")]
    Other(String),
}

/// What a server needs that may have been generated.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub jwt_secret: Secret,
}

/// What [`provision`] generated on this run.
#[derive(Debug, Default)]
pub struct Generated {
    /// Where a new signing key was stored.
    pub signing_key: Option<PathBuf>,
    /// A new admin password (shown once) and where its hash was stored.
    pub admin_password: Option<(Secret, String)>,
}

/// Finds every secret, generating and storing the missing ones (on PostgreSQL the admin
/// password is [`provision_in_database`]'s, once the board is open).
pub fn provision(config: &Config) -> Result<(Secrets, Generated), ProvisionError> {
    if config.database.is_postgres() {
        return Ok((existing(config)?, Generated::default()));
    }
    create_private_dir(&config.data_dir)?;
    let mut generated = Generated::default();
    let jwt_secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => {
            let path = config.data_dir.join(SIGNING_KEY_FILE);
            match read_signing_key(&path) {
                Some(secret) => secret,
                None => {
                    let secret = Secret::new(random()?);
                    write_private(&path, secret.expose())?;
                    generated.signing_key = Some(path);
                    secret
                }
            }
        }
    };
    if config.admin.password.is_none() && read_admin_password(config).is_none() {
        let (password, path) = reset_admin_password_file(config)?;
        generated.admin_password = Some((password, path.display().to_string()));
    }
    Ok((Secrets { jwt_secret }, generated))
}

/// On PostgreSQL, when `ADMIN_PASSWORD` is not set: generates the admin password unless the
/// database holds one already (another process may have put it there a moment ago); the new
/// password, to be shown once.
pub async fn provision_in_database(
    config: &Config,
    mc: &MissionControl,
) -> Result<Option<(Secret, String)>, ProvisionError> {
    if !config.database.is_postgres() || config.admin.password.is_some() {
        return Ok(None);
    }
    if mc
        .setting(Setting::OperatorPasswordHash)
        .await
        .map_err(other)?
        .is_some()
    {
        return Ok(None);
    }
    let (password, hash) = new_password()?;
    let (_, stored) = mc
        .setting_or_insert(Setting::OperatorPasswordHash, hash.as_phc().to_owned())
        .await
        .map_err(other)?;
    Ok(stored.then(|| (password, "the database".to_owned())))
}

/// Finds every secret without generating any: for commands other than the server.
pub fn existing(config: &Config) -> Result<Secrets, ProvisionError> {
    let path = match &config.database {
        Database::Sqlite(path) => path,
        Database::Postgres(_) => {
            return config
                .jwt_secret
                .clone()
                .map(|jwt_secret| Secrets { jwt_secret })
                .ok_or_else(|| {
                    ProvisionError::Other("set JWT_SECRET (DATABASE_URL is set)".into())
                });
        }
    };
    if !path.is_file() {
        return Err(ProvisionError::NotProvisioned { path: path.clone() });
    }
    let jwt_secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => read_signing_key(&config.data_dir.join(SIGNING_KEY_FILE)).ok_or_else(|| {
            ProvisionError::Other(format!(
                "the database at {} has no signing key beside it ({}); set JWT_SECRET to the server's",
                path.display(),
                config.data_dir.join(SIGNING_KEY_FILE).display()
            ))
        })?,
    };
    Ok(Secrets { jwt_secret })
}

/// Where the key that signs this board's tokens comes from, for people: `JWT_SECRET`, or the
/// file it was generated into.
pub fn signing_key_origin(config: &Config) -> String {
    match (&config.jwt_secret, &config.database) {
        (Some(_), _) | (None, Database::Postgres(_)) => {
            "the JWT_SECRET this command ran with".into()
        }
        (None, Database::Sqlite(_)) => format!(
            "the contents of {}",
            config.data_dir.join(SIGNING_KEY_FILE).display()
        ),
    }
}

/// The admin password hash provisioned: `ADMIN_PASSWORD`'s, else the stored one (in the data
/// folder, or on PostgreSQL in the database's settings). Start-up moves it into the operator's
/// account, where sign-in reads it.
pub async fn admin_password(config: &Config, mc: &MissionControl) -> Option<PasswordHash> {
    if let Some(hash) = &config.admin.password {
        return Some(hash.clone());
    }
    match config.database {
        Database::Sqlite(_) => read_admin_password(config),
        Database::Postgres(_) => {
            let phc = mc.setting(Setting::OperatorPasswordHash).await.ok()??;
            PasswordHash::from_phc(&phc).ok()
        }
    }
}

/// Generates a new admin password and stores its hash in the operator's account (and, on
/// SQLite, in the data folder, where a board that has not been served since finds it); the
/// password, shown once, and where its hash is kept. A running server uses it from its next
/// sign-in.
pub async fn reset_admin_password(
    config: &Config,
    mc: &MissionControl,
) -> Result<(Secret, String), ProvisionError> {
    let (password, hash) = match config.database {
        Database::Sqlite(_) => {
            let (password, _) = reset_admin_password_file(config)?;
            let hash = read_admin_password(config)
                .ok_or_else(|| ProvisionError::Other("the new password was not kept".into()))?;
            (password, hash)
        }
        Database::Postgres(_) => new_password()?,
    };
    mc.ensure_operator(
        &config.admin.username,
        config.admin.agent_id.as_str(),
        Some(hash),
        true,
    )
    .await
    .map_err(other)?;
    Ok((password, "the database".to_owned()))
}

fn reset_admin_password_file(config: &Config) -> Result<(Secret, PathBuf), ProvisionError> {
    create_private_dir(&config.data_dir)?;
    let (password, hash) = new_password()?;
    let path = config.data_dir.join(ADMIN_PASSWORD_FILE);
    write_private(&path, hash.as_phc())?;
    Ok((password, path))
}

/// A new admin password and its hash: 20 hex characters, 80 bits, easy to paste.
fn new_password() -> Result<(Secret, PasswordHash), ProvisionError> {
    let password = random()?[..20].to_owned();
    let hash = PasswordHash::new(&password).map_err(other)?;
    Ok((Secret::new(password), hash))
}

fn other(e: impl std::fmt::Display) -> ProvisionError {
    ProvisionError::Other(e.to_string())
}

fn read_signing_key(path: &Path) -> Option<Secret> {
    let secret = std::fs::read_to_string(path).ok()?.trim().to_owned();
    (secret.len() >= MIN_SECRET_BYTES).then(|| Secret::new(secret))
}

fn read_admin_password(config: &Config) -> Option<PasswordHash> {
    let phc = std::fs::read_to_string(config.data_dir.join(ADMIN_PASSWORD_FILE)).ok()?;
    PasswordHash::from_phc(&phc).ok()
}

fn random() -> Result<String, ProvisionError> {
    generate_secret().map_err(|e| ProvisionError::Other(e.to_string()))
}

/// Creates the data folder, readable by its owner only, if it does not exist.
pub fn create_private_dir(dir: &Path) -> Result<(), ProvisionError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| ProvisionError::Write {
        path: dir.to_owned(),
        source,
    })
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> Result<(), ProvisionError> {
    let fail = |source| ProvisionError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(dir: &Path) -> Config {
        let mut config = crate::config::tests_support::defaults();
        config.database = Database::Sqlite(dir.join("data").join("mc.db"));
        config.data_dir = dir.join("data");
        config
    }

    #[test]
    fn provisioning_generates_once_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let (first, generated) = provision(&config).unwrap();
        let (password, _) = generated.admin_password.expect("a password on first run");
        assert!(generated.signing_key.is_some());
        assert!(
            read_admin_password(&config)
                .unwrap()
                .verify(password.expose())
        );

        let (second, again) = provision(&config).unwrap();
        assert_eq!(second.jwt_secret, first.jwt_secret, "the key is kept");
        assert!(again.admin_password.is_none() && again.signing_key.is_none());
        let stored = std::fs::read_to_string(config.data_dir.join(ADMIN_PASSWORD_FILE)).unwrap();
        assert!(
            !stored.contains(password.expose()),
            "only the hash is stored"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&config.data_dir.join(SIGNING_KEY_FILE)), 0o600);
            assert_eq!(mode(&config.data_dir), 0o700);
        }
    }

    #[test]
    fn commands_refuse_a_folder_no_server_has_run_in() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let err = existing(&config).unwrap_err().to_string();
        assert!(err.contains("no database at"), "{err}");
        assert!(!config.data_dir.exists(), "nothing was created");
    }

    #[test]
    fn a_reset_password_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let (old, _) = reset_admin_password_file(&config).unwrap();
        let (new, _) = reset_admin_password_file(&config).unwrap();
        let hash = read_admin_password(&config).unwrap();
        assert!(hash.verify(new.expose()) && !hash.verify(old.expose()));
    }
}
