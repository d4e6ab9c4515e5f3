//! TLS for `security.protocol=SSL|SASL_SSL`, on rustls with no crypto provider compiled in by
//! default.
//!
//! The provider is, in order: one installed by the application with
//! `rustls::crypto::CryptoProvider::install_default`, else the one a `tls-*` feature compiles in
//! (`tls-graviola`, pure Rust, recommended; `tls-rustcrypto`; or the C-backed `tls-ring` /
//! `tls-aws-lc-rs`), else connecting fails with an error naming those features. Trust roots are
//! `ssl.ca.location` (a PEM file, or `probe` for the operating system's bundle, as in
//! librdkafka) or Mozilla's roots (feature `webpki-roots`); `ssl.certificate.location`
//! and `ssl.key.location` give a client certificate (mutual TLS); SNI and hostname verification
//! are on, and hostname verification is only turned off by
//! `ssl.endpoint.identification.algorithm=` (empty, as in Java), with a warning per connection.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig as RustlsConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::{BrokerAddress, SecurityConfig};
use crate::error::ConnectionError;

fn tls_error(addr: &BrokerAddress, reason: impl Into<String>) -> ConnectionError {
    ConnectionError::Tls {
        addr: addr.clone(),
        reason: reason.into(),
    }
}

pub use crate::tls_provider::provider;

/// Build the rustls client configuration for `security`.
pub fn client_config(
    security: &SecurityConfig,
    addr: &BrokerAddress,
) -> Result<Arc<RustlsConfig>, ConnectionError> {
    let provider = provider().map_err(|e| tls_error(addr, e))?;
    let mut roots = RootCertStore::empty();
    let probed;
    let ca_location = match &security.ssl_ca_location {
        // librdkafka's `probe`: the operating system's CA bundle, read as a file (pure Rust).
        Some(p) if p.as_os_str() == "probe" || p.as_os_str() == "system" => {
            probed = system_ca_bundle().ok_or_else(|| {
                tls_error(
                    addr,
                    format!(
                        "ssl.ca.location=probe: no CA bundle found (looked at $SSL_CERT_FILE and {})",
                        SYSTEM_CA_BUNDLES.join(", ")
                    ),
                )
            })?;
            Some(&probed)
        }
        other => other.as_ref(),
    };
    match ca_location {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    tls_error(
                        addr,
                        format!("cannot read ssl.ca.location {}: {e}", path.display()),
                    )
                })?;
            if certs.is_empty() {
                return Err(tls_error(
                    addr,
                    format!(
                        "ssl.ca.location {} holds no PEM certificate",
                        path.display()
                    ),
                ));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    tls_error(
                        addr,
                        format!("bad CA certificate in {}: {e}", path.display()),
                    )
                })?;
            }
        }
        None => {
            #[cfg(feature = "webpki-roots")]
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            #[cfg(not(feature = "webpki-roots"))]
            return Err(tls_error(
                addr,
                "set ssl.ca.location (the feature `webpki-roots` that bundles public roots is off)",
            ));
        }
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| tls_error(addr, format!("cannot build the certificate verifier: {e}")))?;
    let builder = RustlsConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(addr, format!("TLS versions: {e}")))?;
    let builder = if security.ssl_verify_hostname {
        builder.with_webpki_verifier(verifier)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoHostnameCheck { inner: verifier }))
    };
    let config = match (
        &security.ssl_certificate_location,
        &security.ssl_key_location,
    ) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    tls_error(
                        addr,
                        format!(
                            "cannot read ssl.certificate.location {}: {e}",
                            cert.display()
                        ),
                    )
                })?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                tls_error(
                    addr,
                    format!("cannot read ssl.key.location {}: {e}", key.display()),
                )
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error(addr, format!("client certificate: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(tls_error(
                addr,
                "ssl.certificate.location and ssl.key.location must be set together",
            ))
        }
    };
    Ok(Arc::new(config))
}

/// Where Linux distributions (and macOS/BSD) keep the system's CA bundle.
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/etc/pki/tls/cacert.pem",            // OpenELEC
    "/etc/ssl/cert.pem",                  // Alpine, macOS, BSD
];

/// The system CA bundle: `$SSL_CERT_FILE`, else the first well-known path that exists.
fn system_ca_bundle() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("SSL_CERT_FILE") {
        let p = std::path::PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    SYSTEM_CA_BUNDLES
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

/// Open TLS over `tcp` to `addr` (SNI and, unless disabled, hostname verification on
/// `addr.host`).
pub async fn connect(
    tcp: TcpStream,
    addr: &BrokerAddress,
    config: Arc<RustlsConfig>,
    verify_hostname: bool,
) -> Result<TlsStream<TcpStream>, ConnectionError> {
    if !verify_hostname {
        tracing::warn!(
            broker = %addr,
            "TLS hostname verification is OFF (ssl.endpoint.identification.algorithm is empty): \
             any certificate from a trusted CA is accepted"
        );
    }
    let name = ServerName::try_from(addr.host.clone()).map_err(|e| {
        tls_error(
            addr,
            format!("{:?} is not a valid TLS server name: {e}", addr.host),
        )
    })?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| tls_error(addr, describe_io(&e)))
}

/// rustls reports certificate problems as `InvalidData` I/O errors wrapping its own error.
fn describe_io(e: &std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(cert)) => {
            format!("the broker's certificate was refused: {cert:?}")
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

/// Certificate verification without the hostname check
/// (`ssl.endpoint.identification.algorithm=`): the chain must still lead to a trusted root.
#[derive(Debug)]
struct NoHostnameCheck {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for NoHostnameCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
