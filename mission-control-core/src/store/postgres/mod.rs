//! The PostgreSQL side of the interface, on the synchronous client of the rust-postgres
//! project (used on the writer thread and on blocking reader threads, as rusqlite is).
//!
//! - [`PgTarget`]: a `postgres://` URL with libpq's `sslmode` forms (`disable`, `allow`,
//!   `prefer`, `require`, `verify-ca`, `verify-full`, and `sslrootcert=<file>`), TLS by rustls.
//!   As in libpq, `prefer` and `require` encrypt without checking the server's certificate;
//!   `verify-ca` checks it against the roots (the web's, or `sslrootcert`), `verify-full` also
//!   checks the host name.
//! - [`PgConnection`]: one connection with its own statement cache (each statement is prepared
//!   once per connection, as SQLite's cache does).

use std::cell::{Cell as StdCell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};

use super::connection::{Row, Sql, numbered_placeholders};
use super::value::{Cell, Column, Param, Value};
use crate::error::{Error, Result};

/// Advisory locks, each taken as (a hash of the schema's name, one of these), so that boards in
/// different schemas of one database never wait for each other.
/// Held by a writer for the length of each group commit.
pub(crate) const WRITE_LOCK: i32 = 1;
/// Held by a process while it applies migrations.
pub(crate) const MIGRATION_LOCK: i32 = 2;
/// Each group commit notifies this channel (suffixed with the schema's name) with its last seq.
pub(crate) const CHANGES_CHANNEL: &str = "mission_control_changes_";

/// How long connecting may take before it counts as the database being unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => Err(format!("a whole number cannot be sent as {ty}").into()),
            },
            Value::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::BOOL
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
        )
    }

    to_sql_checked!();
}

/// Where the database is and how to reach it, from a `postgres://` URL.
#[derive(Clone)]
pub(crate) struct PgTarget {
    config: postgres::Config,
    tls: Tls,
}

#[derive(Clone)]
enum Tls {
    Off,
    On(Arc<rustls::ClientConfig>),
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("PgTarget")
            .field("hosts", &self.config.get_hosts())
            .field("dbname", &self.config.get_dbname())
            .field("user", &self.config.get_user())
            .field("tls", &matches!(self.tls, Tls::On(_)))
            .finish()
    }
}

impl PgTarget {
    /// Reads a `postgres://` (or `postgresql://`) URL; the message names what is wrong.
    pub fn parse(url: &str) -> std::result::Result<PgTarget, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = "prefer".to_owned();
        let mut root_cert: Option<String> = None;
        let mut kept: Vec<String> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => mode = value.to_owned(),
                "sslrootcert" => root_cert = Some(percent_decode(value)),
                _ => kept.push(pair.to_owned()),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| format!("not a valid postgres:// URL: {e}"))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("mission-control");
        let (ssl_mode, verify) = match mode.as_str() {
            "disable" => (postgres::config::SslMode::Disable, None),
            "allow" | "prefer" => (postgres::config::SslMode::Prefer, Some(Verify::Nothing)),
            "require" => (postgres::config::SslMode::Require, Some(Verify::Nothing)),
            "verify-ca" => (postgres::config::SslMode::Require, Some(Verify::Chain)),
            "verify-full" => (postgres::config::SslMode::Require, Some(Verify::Full)),
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, \
                     verify-full"
                ));
            }
        };
        config.ssl_mode(ssl_mode);
        let tls = match verify {
            None => Tls::Off,
            Some(verify) => Tls::On(Arc::new(tls_config(verify, root_cert.as_deref())?)),
        };
        Ok(PgTarget { config, tls })
    }

    /// Opens a connection; a database that cannot be reached is [`Error::Unavailable`].
    pub fn connect(&self) -> Result<PgConnection> {
        let client = match &self.tls {
            Tls::Off => self.config.connect(postgres::NoTls),
            Tls::On(tls) => self
                .config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                    (**tls).clone(),
                )),
        }
        .map_err(|e| Error::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PgConnection {
            client: RefCell::new(client),
            statements: RefCell::default(),
            in_transaction: StdCell::new(false),
        })
    }
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, Clone, Copy)]
enum Verify {
    Nothing,
    Chain,
    Full,
}

fn tls_config(
    verify: Verify,
    root_cert: Option<&str>,
) -> std::result::Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            use rustls_pki_types::CertificateDer;
            use rustls_pki_types::pem::PemObject;
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("sslrootcert={path}: {e}"))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("sslrootcert={path}: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("sslrootcert={path}: {e}"))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let roots = Arc::new(roots);
    Ok(match verify {
        Verify::Full => builder.with_root_certificates(roots).with_no_client_auth(),
        Verify::Chain | Verify::Nothing => {
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                roots,
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("TLS: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(CertCheck {
                    webpki,
                    verify,
                    provider,
                }))
                .with_no_client_auth()
        }
    })
}

/// `verify-ca`: the chain, not the name; `prefer`/`require`: nothing, as libpq does.
#[derive(Debug)]
struct CertCheck {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    verify: Verify,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for CertCheck {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        server_name: &rustls_pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if matches!(self.verify, Verify::Nothing) {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(ok) => Ok(ok),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One PostgreSQL connection.
pub(crate) struct PgConnection {
    client: RefCell<Client>,
    /// Prepared statements, by the address of their SQLite text (each [`Sql`] is a constant).
    statements: RefCell<HashMap<(usize, usize), Statement>>,
    in_transaction: StdCell<bool>,
}

impl PgConnection {
    fn statement(&self, sql: &Sql) -> Result<Statement> {
        let key = (sql.sqlite.as_ptr() as usize, sql.sqlite.len());
        if let Some(stmt) = self.statements.borrow().get(&key) {
            return Ok(stmt.clone());
        }
        let text = match sql.postgres {
            Some(text) => text.to_owned(),
            None => numbered_placeholders(sql.sqlite),
        };
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&text)
            .map_err(Error::from_postgres)?;
        self.statements.borrow_mut().insert(key, stmt.clone());
        Ok(stmt)
    }

    pub fn execute(&self, sql: &Sql, params: &[&dyn Param]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
        let bound: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = self
            .client
            .borrow_mut()
            .execute(&stmt, &bound)
            .map_err(Error::from_postgres)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn rows(&self, sql: &Sql, params: &[&dyn Param]) -> Result<Vec<postgres::Row>> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
        let bound: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        self.client
            .borrow_mut()
            .query(&stmt, &bound)
            .map_err(Error::from_postgres)
    }

    pub fn query<T>(
        &self,
        sql: &Sql,
        params: &[&dyn Param],
        map: &mut dyn FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.rows(sql, params)?
            .iter()
            .map(|row| map(&Row::Postgres(row)))
            .collect()
    }

    pub fn query_opt<T>(
        &self,
        sql: &Sql,
        params: &[&dyn Param],
        map: &mut dyn FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.rows(sql, params)?
            .first()
            .map(|row| map(&Row::Postgres(row)))
            .transpose()
    }

    pub fn batch(&self, text: &str) -> Result<()> {
        let result = self
            .client
            .borrow_mut()
            .batch_execute(text)
            .map_err(Error::from_postgres);
        let word = text.trim_start().to_ascii_uppercase();
        if word.starts_with("BEGIN") {
            self.in_transaction.set(result.is_ok());
        } else if word.starts_with("COMMIT")
            || (word.starts_with("ROLLBACK") && !word.starts_with("ROLLBACK TO"))
        {
            self.in_transaction.set(false);
        }
        result
    }

    pub fn is_idle(&self) -> bool {
        !self.in_transaction.get() && !self.client.borrow().is_closed()
    }

    /// Whether the connection was lost (the server restarted, a network failure).
    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

pub(crate) fn column<T: Column>(row: &postgres::Row, index: usize) -> Result<T> {
    let wrong = |e: postgres::Error| Error::Internal(format!("cannot read column {index}: {e}"));
    let ty = row
        .columns()
        .get(index)
        .map(|c| c.type_().clone())
        .ok_or_else(|| Error::Internal(format!("no column {index}")))?;
    let cell = match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)
            .map_err(wrong)?
            .map(Cell::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)
            .map_err(wrong)?
            .map(|v| Cell::Int(i64::from(v))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)
            .map_err(wrong)?
            .map(|v| Cell::Int(i64::from(v))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)
            .map_err(wrong)?
            .map(|v| Cell::Int(i64::from(v))),
        _ => {
            let text: Option<&str> = row.try_get(index).map_err(wrong)?;
            return T::from_cell(text.map_or(Cell::Null, Cell::Text));
        }
    };
    T::from_cell(cell.unwrap_or(Cell::Null))
}
