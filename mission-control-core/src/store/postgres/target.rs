//! Where a PostgreSQL database is and how to reach it: a `postgres://` URL with libpq's
//! `sslmode` forms (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`, and
//! `sslrootcert=<file>`), TLS by rustls. As in libpq, `prefer` and `require` encrypt without
//! checking the server's certificate; `verify-ca` checks it against the roots (the web's, or
//! `sslrootcert`), `verify-full` also checks the host name.

use std::sync::Arc;
use std::time::Duration;

use super::PgConnection;
use crate::error::{Error, Result};

/// How long connecting may take before it counts as the database being unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the database is and how to reach it, from a `postgres://` URL.
#[derive(Clone)]
pub(crate) struct PgTarget {
    config: tokio_postgres::Config,
    tls: Tls,
}

#[derive(Clone)]
pub(super) enum Tls {
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
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| format!("not a valid postgres:// URL: {e}"))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        // A connection lost on the network is noticed by the kernel within a minute or so.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let (ssl_mode, verify) = match mode.as_str() {
            "disable" => (tokio_postgres::config::SslMode::Disable, None),
            "allow" | "prefer" => (
                tokio_postgres::config::SslMode::Prefer,
                Some(Verify::Nothing),
            ),
            "require" => (
                tokio_postgres::config::SslMode::Require,
                Some(Verify::Nothing),
            ),
            "verify-ca" => (
                tokio_postgres::config::SslMode::Require,
                Some(Verify::Chain),
            ),
            "verify-full" => (tokio_postgres::config::SslMode::Require, Some(Verify::Full)),
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

    /// Whether and how connections use TLS.
    pub(super) fn tls(&self) -> &Tls {
        &self.tls
    }

    /// The settings for an asynchronous connection (the listener's).
    pub(super) fn async_config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// Opens a connection; a database that cannot be reached is [`Error::Unavailable`].
    pub fn connect(&self) -> Result<PgConnection> {
        self.connect_as("mission-control")
    }

    /// Opens a connection that says what it is for (`application_name` in
    /// `pg_stat_activity`).
    pub fn connect_as(&self, purpose: &str) -> Result<PgConnection> {
        let mut config = postgres::Config::from(self.config.clone());
        config.application_name(purpose);
        let client = match &self.tls {
            Tls::Off => config.connect(postgres::NoTls),
            Tls::On(tls) => config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                (**tls).clone(),
            )),
        }
        .map_err(|e| Error::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PgConnection::new(client))
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
