//! A leaf module: which rustls crypto provider TLS uses, shared by broker connections
//! ([`connection::tls`](crate::connection::tls)) and the Entra ID token provider's HTTPS client
//! without SASL importing the connection layer.
//!
//! The provider is, in order: one installed by the application with
//! `rustls::crypto::CryptoProvider::install_default`, else the one a `tls-*` feature compiles in
//! (`tls-graviola`, pure Rust, recommended; `tls-rustcrypto`; or the C-backed `tls-ring` /
//! `tls-aws-lc-rs`), else an error naming those features.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The crypto provider to use (see the module docs for the order).
pub fn provider() -> Result<Arc<CryptoProvider>, String> {
    if let Some(p) = CryptoProvider::get_default() {
        return Ok(p.clone());
    }
    #[cfg(feature = "tls-graviola")]
    {
        return Ok(Arc::new(rustls_graviola::default_provider()));
    }
    #[allow(unreachable_code)]
    {
        #[cfg(feature = "tls-rustcrypto")]
        {
            return Ok(Arc::new(rustls_rustcrypto::provider()));
        }
        #[cfg(feature = "tls-ring")]
        {
            return Ok(Arc::new(rustls::crypto::ring::default_provider()));
        }
        #[cfg(feature = "tls-aws-lc-rs")]
        {
            return Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        }
        Err(
            "no TLS crypto provider: enable the kafka-wire feature `tls-graviola` (pure Rust, \
             recommended), `tls-rustcrypto`, `tls-ring` or `tls-aws-lc-rs` (C), or install one \
             with rustls::crypto::CryptoProvider::install_default"
                .into(),
        )
    }
}
