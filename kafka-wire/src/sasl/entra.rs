//! OAUTHBEARER tokens from Microsoft Entra ID (Azure AD) for Azure Event Hubs (feature `entra`).
//!
//! [`EntraTokenProvider`] is a [`TokenProvider`] that gets access tokens the way Azure's identity
//! libraries do, from one of three credential sources:
//!
//! | source | constructor | request |
//! |---|---|---|
//! | application (service principal) with a client secret | [`EntraTokenProvider::client_secret`] | `POST {authority}/{tenant}/oauth2/v2.0/token`, `grant_type=client_credentials` |
//! | managed identity (VM, VM scale set, App Service, Functions, Container Apps) | [`EntraTokenProvider::managed_identity`], [`EntraTokenProvider::user_assigned_managed_identity`] | `GET http://169.254.169.254/metadata/identity/oauth2/token` with `Metadata: true` (or App Service's `IDENTITY_ENDPOINT` with `X-IDENTITY-HEADER`) |
//! | workload identity (AKS) | [`EntraTokenProvider::workload_identity`], [`EntraTokenProvider::workload_identity_from_env`] | `POST {authority}/{tenant}/oauth2/v2.0/token` with the federated token of `AZURE_FEDERATED_TOKEN_FILE` as `client_assertion` |
//!
//! [`EntraTokenProvider::from_env`] picks one from the environment, in the order of Azure's
//! `DefaultAzureCredential`: client secret, workload identity, managed identity.
//!
//! The scope for Event Hubs is `https://<namespace>.servicebus.windows.net/.default`
//! ([`event_hubs_scope`]); the identity needs an Event Hubs data role on the namespace or event
//! hub (`Azure Event Hubs Data Sender` / `Data Receiver` / `Data Owner`).
//!
//! Tokens are cached: a new one is fetched when less than 5 minutes or 20 % of its lifetime
//! (whichever is shorter) remain, or earlier if Entra ID's `refresh_in` says so. If that refresh
//! fails while the cached token is still valid, the cached token is returned (and a warning
//! logged). Concurrent callers share one request.
//!
//! HTTP is reqwest on rustls, pure Rust: the crypto provider is [`tls::provider`] (a `tls-*`
//! feature such as `tls-graviola`, or one installed with
//! `rustls::crypto::CryptoProvider::install_default`) and the trust roots are Mozilla's
//! (`webpki-roots`), or a rustls configuration given with
//! [`with_tls_config`](EntraTokenProvider::with_tls_config). A provider is needed even for the
//! plain-HTTP managed identity endpoint, as the HTTP client is built with TLS; an Event Hubs
//! client needs one for `SASL_SSL` anyway. `HTTPS_PROXY`/`NO_PROXY` are honoured for the Entra ID
//! endpoint, never for the managed identity endpoint. Redirects are not followed. Responses are
//! read up to [`MAX_RESPONSE_BYTES`]. Error messages carry the HTTP status and Entra ID's `error`
//! and `error_description`, never the client secret, the federated token or an access token.
//!
//! Connecting to Event Hubs with it (the settings besides SASL are those of
//! [`ClientConfig::event_hubs`](crate::config::ClientConfig::event_hubs), which sets up `PLAIN`
//! with a connection string instead):
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use kafka_wire::config::{ClientConfig, SecurityProtocol};
//! use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
//! use kafka_wire::sasl::{Mechanism, TokenProviderHandle};
//!
//! let namespace = "my-namespace.servicebus.windows.net";
//! // AKS workload identity, a client secret or a managed identity, from the environment.
//! let provider = EntraTokenProvider::from_env(event_hubs_scope(namespace))?;
//!
//! let mut config = ClientConfig::new(&format!("{namespace}:9093"));
//! config.security.protocol = SecurityProtocol::SaslSsl;
//! config.security.sasl_mechanism = Mechanism::OAuthBearer;
//! config.security.oauthbearer_token_provider = Some(TokenProviderHandle(Arc::new(provider)));
//! // Event Hubs closes connections idle for 240 s (see `ClientConfig::event_hubs`).
//! config.connections_max_idle = Duration::from_secs(180);
//! config.metadata_max_age = Duration::from_secs(180);
//! config.request_timeout = Duration::from_secs(60);
//! # Ok::<(), String>(())
//! ```
//!
//! [`tls::provider`]: crate::connection::tls::provider

use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::oauthbearer::OAuthBearerToken;
use super::token_provider::TokenProvider;
use crate::config::Secret;

/// Entra ID's public-cloud authority host (Azure's `AZURE_AUTHORITY_HOST` default).
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// The Azure Instance Metadata Service (IMDS) managed identity token endpoint.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// The largest token response read (64 KiB); a larger one is an error.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The largest federated token file read (64 KiB).
const MAX_FEDERATED_TOKEN_BYTES: u64 = 64 * 1024;

/// Default bound on one token request, connect to last body byte.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Refresh when less than this remains (or 20 % of the lifetime, if shorter).
const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;

const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The Entra ID scope of an Event Hubs namespace: `https://<namespace host>/.default`.
///
/// Accepts the namespace host (`my-ns.servicebus.windows.net`), the bootstrap address
/// (`my-ns.servicebus.windows.net:9093`), the connection string endpoint
/// (`sb://my-ns.servicebus.windows.net/`) or the bare namespace name (`my-ns`, taken to be in
/// Azure's public cloud).
///
/// ```
/// use kafka_wire::sasl::entra::event_hubs_scope;
///
/// let scope = "https://my-ns.servicebus.windows.net/.default";
/// assert_eq!(event_hubs_scope("my-ns.servicebus.windows.net"), scope);
/// assert_eq!(event_hubs_scope("my-ns.servicebus.windows.net:9093"), scope);
/// assert_eq!(event_hubs_scope("sb://my-ns.servicebus.windows.net/"), scope);
/// assert_eq!(event_hubs_scope("my-ns"), scope);
/// ```
pub fn event_hubs_scope(namespace_host: &str) -> String {
    let s = namespace_host.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split('/').next().unwrap_or_default();
    let host = s.split(':').next().unwrap_or_default();
    if host.contains('.') {
        format!("https://{host}/.default")
    } else {
        format!("https://{host}.servicebus.windows.net/.default")
    }
}

/// A [`TokenProvider`] that gets OAUTHBEARER tokens from Microsoft Entra ID (see the
/// [module docs](self) for the sources, caching and errors).
///
/// `Debug` shows the source, tenant, client id and scope, never a secret.
///
/// ```
/// use std::sync::Arc;
/// use kafka_wire::config::ClientConfig;
/// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
/// use kafka_wire::sasl::{Mechanism, TokenProviderHandle};
///
/// let provider = EntraTokenProvider::managed_identity(event_hubs_scope("my-ns"));
/// let mut config = ClientConfig::new("my-ns.servicebus.windows.net:9093");
/// config.security.sasl_mechanism = Mechanism::OAuthBearer;
/// config.security.oauthbearer_token_provider = Some(TokenProviderHandle(Arc::new(provider)));
/// ```
pub struct EntraTokenProvider {
    source: Source,
    timeout: Duration,
    tls_config: Option<rustls::ClientConfig>,
    state: tokio::sync::Mutex<State>,
}

enum Source {
    ClientSecret {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        secret: Secret,
        scope: String,
    },
    WorkloadIdentity {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        token_file: PathBuf,
        scope: String,
    },
    ManagedIdentity {
        endpoint: MiEndpoint,
        resource: String,
        client_id: Option<String>,
    },
}

enum MiEndpoint {
    /// IMDS protocol (`Metadata: true`, api-version 2018-02-01) at this URL.
    Imds(String),
    /// App Service / Functions (`X-IDENTITY-HEADER`, api-version 2019-08-01).
    AppService { endpoint: String, header: Secret },
}

#[derive(Default)]
struct State {
    client: Option<reqwest::Client>,
    cached: Option<Cached>,
}

struct Cached {
    token: OAuthBearerToken,
    /// Fetch a new token from this time on (ms since the epoch).
    refresh_at_ms: i64,
}

impl EntraTokenProvider {
    fn with_source(source: Source) -> Self {
        EntraTokenProvider {
            source,
            timeout: DEFAULT_TIMEOUT,
            tls_config: None,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// An application (service principal) authenticating with a client secret: the OAuth 2
    /// client credentials grant at `{authority}/{tenant_id}/oauth2/v2.0/token`.
    ///
    /// ```
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::client_secret(
    ///     "00000000-0000-0000-0000-000000000001", // directory (tenant) id
    ///     "00000000-0000-0000-0000-000000000002", // application (client) id
    ///     "the-client-secret",
    ///     event_hubs_scope("my-ns.servicebus.windows.net"),
    /// );
    /// assert!(!format!("{provider:?}").contains("the-client-secret"));
    /// ```
    pub fn client_secret(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        Self::with_source(Source::ClientSecret {
            authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret: Secret::new(client_secret),
            scope: scope.into(),
        })
    }

    /// The host's system-assigned managed identity. On App Service and Functions (the
    /// environment has `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`) their endpoint is used,
    /// elsewhere IMDS ([`IMDS_ENDPOINT`]). The `resource` sent is `scope` without `/.default`.
    ///
    /// ```
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::managed_identity(event_hubs_scope("my-ns"));
    /// ```
    pub fn managed_identity(scope: impl Into<String>) -> Self {
        Self::managed_identity_with_env(scope.into(), None, &env_var)
    }

    /// A user-assigned managed identity, named by its client id (otherwise as
    /// [`managed_identity`](Self::managed_identity)).
    ///
    /// ```
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::user_assigned_managed_identity(
    ///     "00000000-0000-0000-0000-000000000003",
    ///     event_hubs_scope("my-ns"),
    /// );
    /// ```
    pub fn user_assigned_managed_identity(
        client_id: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        Self::managed_identity_with_env(scope.into(), Some(client_id.into()), &env_var)
    }

    fn managed_identity_with_env(
        scope: String,
        client_id: Option<String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let endpoint = match (env("IDENTITY_ENDPOINT"), env("IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) => MiEndpoint::AppService {
                endpoint,
                header: Secret::new(header),
            },
            _ => MiEndpoint::Imds(IMDS_ENDPOINT.to_owned()),
        };
        let resource = scope.strip_suffix("/.default").unwrap_or(&scope).to_owned();
        Self::with_source(Source::ManagedIdentity {
            endpoint,
            resource,
            client_id,
        })
    }

    /// AKS workload identity: the Kubernetes service account token in `token_file` (re-read at
    /// every request, as the kubelet rotates it) is exchanged for an Entra ID token of the
    /// application `client_id` through a federated identity credential.
    ///
    /// ```
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::workload_identity(
    ///     "00000000-0000-0000-0000-000000000001",
    ///     "00000000-0000-0000-0000-000000000002",
    ///     "/var/run/secrets/azure/tokens/azure-identity-token",
    ///     event_hubs_scope("my-ns"),
    /// );
    /// ```
    pub fn workload_identity(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
        scope: impl Into<String>,
    ) -> Self {
        Self::with_source(Source::WorkloadIdentity {
            authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            token_file: token_file.into(),
            scope: scope.into(),
        })
    }

    /// AKS workload identity from the variables the workload identity webhook injects:
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and (optional)
    /// `AZURE_AUTHORITY_HOST`. Fails naming the missing variables.
    ///
    /// ```no_run
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::workload_identity_from_env(event_hubs_scope("my-ns"))?;
    /// # Ok::<(), String>(())
    /// ```
    pub fn workload_identity_from_env(scope: impl Into<String>) -> Result<Self, String> {
        Self::workload_identity_with_env(scope.into(), &env_var)
    }

    fn workload_identity_with_env(
        scope: String,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let [tenant_id, client_id, token_file] = required(
            env,
            [
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_ID",
                "AZURE_FEDERATED_TOKEN_FILE",
            ],
            "workload identity",
        )?;
        let provider = Self::workload_identity(tenant_id, client_id, token_file, scope);
        Ok(match env("AZURE_AUTHORITY_HOST") {
            Some(host) => provider.with_authority_host(host),
            None => provider,
        })
    }

    /// A provider chosen from the environment, in the order of Azure's `DefaultAzureCredential`:
    ///
    /// 1. `AZURE_CLIENT_SECRET` set: [`client_secret`](Self::client_secret) with
    ///    `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`;
    /// 2. `AZURE_FEDERATED_TOKEN_FILE` set: [`workload_identity_from_env`](Self::workload_identity_from_env);
    /// 3. otherwise a managed identity: user-assigned if `AZURE_CLIENT_ID` is set, else
    ///    system-assigned.
    ///
    /// `AZURE_AUTHORITY_HOST` (e.g. `https://login.microsoftonline.us`) replaces
    /// [`DEFAULT_AUTHORITY_HOST`] for 1 and 2. Unlike `DefaultAzureCredential`, the choice is
    /// made once, here, and a failing source is not followed by the next one. Fails when 1 or 2
    /// lacks a variable, naming it.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use kafka_wire::config::{ClientConfig, SecurityProtocol};
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    /// use kafka_wire::sasl::{Mechanism, TokenProviderHandle};
    ///
    /// let provider = EntraTokenProvider::from_env(event_hubs_scope("my-ns"))?;
    /// let mut config = ClientConfig::new("my-ns.servicebus.windows.net:9093");
    /// config.security.protocol = SecurityProtocol::SaslSsl;
    /// config.security.sasl_mechanism = Mechanism::OAuthBearer;
    /// config.security.oauthbearer_token_provider = Some(TokenProviderHandle(Arc::new(provider)));
    /// # Ok::<(), String>(())
    /// ```
    pub fn from_env(scope: impl Into<String>) -> Result<Self, String> {
        Self::from_env_with(scope.into(), &env_var)
    }

    fn from_env_with(scope: String, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        if let Some(secret) = env("AZURE_CLIENT_SECRET") {
            let [tenant_id, client_id] = required(
                env,
                ["AZURE_TENANT_ID", "AZURE_CLIENT_ID"],
                "client secret (AZURE_CLIENT_SECRET is set)",
            )?;
            let provider = Self::client_secret(tenant_id, client_id, secret, scope);
            return Ok(match env("AZURE_AUTHORITY_HOST") {
                Some(host) => provider.with_authority_host(host),
                None => provider,
            });
        }
        if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
            return Self::workload_identity_with_env(scope, env);
        }
        Ok(Self::managed_identity_with_env(
            scope,
            env("AZURE_CLIENT_ID"),
            env,
        ))
    }

    /// Replaces the Entra ID authority host ([`DEFAULT_AUTHORITY_HOST`]) of the client secret
    /// and workload identity sources, e.g. `https://login.microsoftonline.us` for Azure
    /// Government or `https://login.chinacloudapi.cn` for Azure China (a missing scheme means
    /// `https://`). It must be `https://`, except on a loopback address. Managed identity
    /// ignores it.
    ///
    /// ```
    /// use kafka_wire::sasl::entra::EntraTokenProvider;
    ///
    /// let provider = EntraTokenProvider::client_secret(
    ///     "tenant-id",
    ///     "client-id",
    ///     "secret",
    ///     "https://my-ns.servicebus.usgovcloudapi.net/.default",
    /// )
    /// .with_authority_host("https://login.microsoftonline.us");
    /// ```
    pub fn with_authority_host(mut self, host: impl Into<String>) -> Self {
        let mut host = host.into().trim().to_owned();
        if !host.contains("://") {
            host = format!("https://{host}");
        }
        match &mut self.source {
            Source::ClientSecret { authority_host, .. }
            | Source::WorkloadIdentity { authority_host, .. } => *authority_host = host,
            Source::ManagedIdentity { .. } => {}
        }
        self
    }

    /// Replaces the managed identity endpoint with `url`, spoken to with the IMDS protocol
    /// (`Metadata: true`, api-version 2018-02-01), e.g. for a local emulator. The other sources
    /// ignore it.
    ///
    /// ```
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::managed_identity(event_hubs_scope("my-ns"))
    ///     .with_managed_identity_endpoint("http://127.0.0.1:8081/metadata/identity/oauth2/token");
    /// ```
    pub fn with_managed_identity_endpoint(mut self, url: impl Into<String>) -> Self {
        if let Source::ManagedIdentity { endpoint, .. } = &mut self.source {
            *endpoint = MiEndpoint::Imds(url.into());
        }
        self
    }

    /// Bounds each token request, from connecting to the last byte of the response (default
    /// 30 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = EntraTokenProvider::managed_identity(event_hubs_scope("my-ns"))
    ///     .with_timeout(Duration::from_secs(10));
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses this rustls configuration for HTTPS instead of the default (the crate's crypto
    /// provider with Mozilla's roots), e.g. to trust a TLS-inspecting proxy's CA. It must come
    /// from the same rustls version as this crate's.
    ///
    /// ```no_run
    /// use kafka_wire::sasl::entra::{event_hubs_scope, EntraTokenProvider};
    ///
    /// let provider = kafka_wire::connection::tls::provider()?;
    /// let mut roots = rustls::RootCertStore::empty();
    /// // roots.add(...) the proxy's CA certificate
    /// let tls = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()
    ///     .map_err(|e| e.to_string())?
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let provider = EntraTokenProvider::from_env(event_hubs_scope("my-ns"))?.with_tls_config(tls);
    /// # Ok::<(), String>(())
    /// ```
    pub fn with_tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls_config = Some(config);
        self
    }

    /// The token at `now_ms` (ms since the epoch): the cached one, or a new one.
    async fn token_at(&self, now_ms: i64) -> Result<OAuthBearerToken, String> {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached {
            if now_ms < cached.refresh_at_ms {
                return Ok(cached.token.clone());
            }
        }
        let result = match self.client(&mut state) {
            Ok(client) => self.fetch(&client, now_ms).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(fresh) => {
                let token = fresh.token.clone();
                state.cached = Some(fresh);
                Ok(token)
            }
            Err(e) => match &state.cached {
                Some(cached) if now_ms < cached.token.lifetime_ms() => {
                    tracing::warn!(
                        error = %e,
                        expires_in_s = (cached.token.lifetime_ms() - now_ms) / 1000,
                        "Entra ID token refresh failed; using the cached token until it expires"
                    );
                    Ok(cached.token.clone())
                }
                _ => Err(e),
            },
        }
    }

    /// The HTTP client, built on first use.
    fn client(&self, state: &mut State) -> Result<reqwest::Client, String> {
        if let Some(client) = &state.client {
            return Ok(client.clone());
        }
        let tls = match &self.tls_config {
            Some(config) => config.clone(),
            None => default_tls_config()?,
        };
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("kafka-wire/", env!("CARGO_PKG_VERSION")));
        if matches!(self.source, Source::ManagedIdentity { .. }) {
            // The managed identity endpoint is link-local or local: never through a proxy.
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("Entra ID: cannot build the HTTP client: {}", chain(&e)))?;
        state.client = Some(client.clone());
        Ok(client)
    }

    /// One token request.
    async fn fetch(&self, client: &reqwest::Client, now_ms: i64) -> Result<Cached, String> {
        let (request, what, url, secrets) = match &self.source {
            Source::ClientSecret {
                authority_host,
                tenant_id,
                client_id,
                secret,
                scope,
            } => {
                let what = format!(
                    "Entra ID token request (client secret, tenant {tenant_id}, client {client_id})"
                );
                let url =
                    token_url(authority_host, tenant_id).map_err(|e| format!("{what}: {e}"))?;
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.expose()),
                    ("scope", scope.as_str()),
                ];
                let request = client.post(url.clone()).form(&form);
                (request, what, url, vec![secret.expose().to_owned()])
            }
            Source::WorkloadIdentity {
                authority_host,
                tenant_id,
                client_id,
                token_file,
                scope,
            } => {
                let what = format!(
                    "Entra ID token request (workload identity, tenant {tenant_id}, client {client_id})"
                );
                let url =
                    token_url(authority_host, tenant_id).map_err(|e| format!("{what}: {e}"))?;
                let assertion =
                    read_federated_token(token_file).map_err(|e| format!("{what}: {e}"))?;
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.as_str()),
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                ];
                let request = client.post(url.clone()).form(&form);
                (request, what, url, vec![assertion])
            }
            Source::ManagedIdentity {
                endpoint,
                resource,
                client_id,
            } => {
                let identity = match client_id {
                    Some(id) => format!("user-assigned {id}"),
                    None => "system-assigned".to_owned(),
                };
                let (kind, endpoint_url, api_version) = match endpoint {
                    MiEndpoint::Imds(url) => ("IMDS", url, IMDS_API_VERSION),
                    MiEndpoint::AppService { endpoint, .. } => {
                        ("App Service", endpoint, APP_SERVICE_API_VERSION)
                    }
                };
                let what = format!("Entra ID managed identity token request ({identity}, {kind})");
                let url = reqwest::Url::parse(endpoint_url).map_err(|e| {
                    format!(
                        "{what}: invalid endpoint {:?}: {e}",
                        super::sanitize(endpoint_url.as_bytes())
                    )
                })?;
                let mut query = vec![
                    ("api-version", api_version),
                    ("resource", resource.as_str()),
                ];
                if let Some(id) = client_id {
                    query.push(("client_id", id.as_str()));
                }
                let mut request = client.get(url.clone()).query(&query);
                let mut secrets = Vec::new();
                match endpoint {
                    MiEndpoint::Imds(_) => request = request.header("Metadata", "true"),
                    MiEndpoint::AppService { header, .. } => {
                        request = request.header("X-IDENTITY-HEADER", header.expose());
                        secrets.push(header.expose().to_owned());
                    }
                }
                (request, what, url, secrets)
            }
        };
        let shown_url = display_url(&url);
        let response = request.send().await.map_err(|e| {
            let hint = if e.is_connect() && matches!(self.source, Source::ManagedIdentity { .. }) {
                " (no managed identity endpoint here: is this an Azure host with a managed \
                 identity? Elsewhere use a client secret or workload identity)"
            } else {
                ""
            };
            scrub(
                format!(
                    "{what} to {shown_url} failed: {}{hint}",
                    chain(&e.without_url())
                ),
                &secrets,
            )
        })?;
        let status = response.status();
        let body = read_body(response).await.map_err(|e| {
            scrub(
                format!("{what} to {shown_url} failed: HTTP {status}: {e}"),
                &secrets,
            )
        })?;
        if !status.is_success() {
            return Err(scrub(
                format!(
                    "{what} to {shown_url} failed: HTTP {status}{}",
                    error_details(&body)
                ),
                &secrets,
            ));
        }
        parse_token_response(&body, now_ms)
            .map_err(|e| scrub(format!("{what} to {shown_url}: {e}"), &secrets))
    }
}

impl TokenProvider for EntraTokenProvider {
    fn token(&self) -> BoxFuture<'_, Result<OAuthBearerToken, String>> {
        Box::pin(async move { self.token_at(now_ms()?).await })
    }
}

impl fmt::Debug for EntraTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EntraTokenProvider");
        match &self.source {
            Source::ClientSecret {
                authority_host,
                tenant_id,
                client_id,
                scope,
                ..
            } => d
                .field("source", &"client secret")
                .field("authority_host", authority_host)
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .field("scope", scope),
            Source::WorkloadIdentity {
                authority_host,
                tenant_id,
                client_id,
                token_file,
                scope,
            } => d
                .field("source", &"workload identity")
                .field("authority_host", authority_host)
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("token_file", token_file)
                .field("scope", scope),
            Source::ManagedIdentity {
                endpoint,
                resource,
                client_id,
            } => {
                let endpoint = match endpoint {
                    MiEndpoint::Imds(url) | MiEndpoint::AppService { endpoint: url, .. } => url,
                };
                d.field("source", &"managed identity")
                    .field("endpoint", endpoint)
                    .field("client_id", client_id)
                    .field("resource", resource)
            }
        };
        d.field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The values of `names`, or an error naming every missing one.
fn required<const N: usize>(
    env: &dyn Fn(&str) -> Option<String>,
    names: [&str; N],
    what: &str,
) -> Result<[String; N], String> {
    let values = names.map(env);
    let missing: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "Entra ID {what}: environment variable{} {} not set",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    Ok(values.map(Option::unwrap_or_default))
}

fn now_ms() -> Result<i64, String> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970".to_owned())?;
    Ok(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// The rustls configuration: this crate's crypto provider and Mozilla's roots.
fn default_tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = crate::connection::tls::provider().map_err(|e| format!("Entra ID: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("Entra ID: TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// `{authority_host}/{tenant_id}/oauth2/v2.0/token`, checked: an HTTPS authority (HTTP only on
/// loopback) and a tenant that is an id or a domain name.
fn token_url(authority_host: &str, tenant_id: &str) -> Result<reqwest::Url, String> {
    if tenant_id.is_empty()
        || !tenant_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!(
            "invalid tenant id {:?}: expected a directory id or a domain name",
            super::sanitize(tenant_id.as_bytes())
        ));
    }
    let text = format!(
        "{}/{tenant_id}/oauth2/v2.0/token",
        authority_host.trim_end_matches('/')
    );
    let url = reqwest::Url::parse(&text).map_err(|e| {
        format!(
            "invalid authority host {:?}: {e}",
            super::sanitize(authority_host.as_bytes())
        )
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(format!(
            "authority host {:?} must be https:// (http:// only on a loopback address)",
            super::sanitize(authority_host.as_bytes())
        )),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The URL for messages: scheme, host, port and path (no query, no user info).
fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The federated token: the file's contents, trimmed, at most 64 KiB.
fn read_federated_token(path: &std::path::Path) -> Result<String, String> {
    let cannot = |e: &dyn fmt::Display| {
        format!(
            "cannot read the federated token file {} (AZURE_FEDERATED_TOKEN_FILE): {e}",
            path.display()
        )
    };
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FEDERATED_TOKEN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > MAX_FEDERATED_TOKEN_BYTES {
        return Err(cannot(&format_args!(
            "larger than {MAX_FEDERATED_TOKEN_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| cannot(&"not UTF-8"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(cannot(&"the file is empty"));
    }
    Ok(token.to_owned())
}

/// The response body, at most [`MAX_RESPONSE_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_large = || format!("the response is larger than {MAX_RESPONSE_BYTES} bytes");
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("cannot read the response: {}", chain(&e.without_url())))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `: error: error_description` of an Entra ID (or App Service `message`) error response.
fn error_details(body: &[u8]) -> String {
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) else {
        return if body.is_empty() {
            String::new()
        } else {
            format!(" (the {}-byte body is not JSON)", body.len())
        };
    };
    let field = |name: &str| match json.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(super::sanitize(s.as_bytes())),
        _ => None,
    };
    let mut out = String::new();
    for part in [
        field("error"),
        field("error_description").or_else(|| field("message")),
    ]
    .into_iter()
    .flatten()
    {
        out.push_str(": ");
        out.push_str(&part);
    }
    out
}

/// A token response: `access_token` and `expires_in` (seconds, number or string) or
/// `expires_on` (seconds since the epoch), optionally `refresh_in` (seconds).
fn parse_token_response(body: &[u8], now_ms: i64) -> Result<Cached, String> {
    let json = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(json)) => json,
        _ => {
            return Err(format!(
                "the {}-byte response is not a JSON object",
                body.len()
            ))
        }
    };
    let access_token = match json.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t,
        _ => return Err("the response has no access_token".to_owned()),
    };
    let seconds = |name: &str| -> Result<Option<i64>, String> {
        match json.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match as_seconds(v) {
                Some(s) if s >= 0 => Ok(Some(s)),
                _ => Err(format!("the response's {name} is not a number of seconds")),
            },
        }
    };
    let lifetime_ms = match (seconds("expires_in")?, seconds("expires_on")?) {
        (Some(expires_in), _) => now_ms.saturating_add(expires_in.saturating_mul(1000)),
        (None, Some(expires_on)) => expires_on.saturating_mul(1000),
        (None, None) => return Err("the response has no expires_in or expires_on".to_owned()),
    };
    let remaining = lifetime_ms.saturating_sub(now_ms).max(0);
    let mut refresh_at_ms = lifetime_ms - REFRESH_MARGIN_MS.min(remaining / 5);
    if let Ok(Some(refresh_in)) = seconds("refresh_in") {
        refresh_at_ms = refresh_at_ms.min(now_ms.saturating_add(refresh_in.saturating_mul(1000)));
    }
    let token = OAuthBearerToken::new(access_token.as_str(), lifetime_ms)
        .map_err(|e| format!("the access_token is unusable: {e}"))?;
    Ok(Cached {
        token,
        refresh_at_ms,
    })
}

fn as_seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An error and its sources, `: `-separated.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `message` with every secret replaced by `<redacted>`.
fn scrub(mut message: String, secrets: &[String]) -> String {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if message.contains(secret.as_str()) {
            message = message.replace(secret.as_str(), "<redacted>");
        }
    }
    message
}

// The provider is shared by every connection of a client.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<EntraTokenProvider>();
    send_sync::<Arc<EntraTokenProvider>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_700_000_000_000;

    #[test]
    fn event_hubs_scope_accepts_hosts_addresses_and_names() {
        let scope = "https://ns.servicebus.windows.net/.default";
        for input in [
            "ns.servicebus.windows.net",
            " ns.servicebus.windows.net ",
            "ns.servicebus.windows.net:9093",
            "sb://ns.servicebus.windows.net/",
            "https://ns.servicebus.windows.net/hub",
            "ns",
        ] {
            assert_eq!(event_hubs_scope(input), scope, "{input}");
        }
        assert_eq!(
            event_hubs_scope("ns.servicebus.chinacloudapi.cn"),
            "https://ns.servicebus.chinacloudapi.cn/.default"
        );
    }

    #[test]
    fn parses_expires_in_as_number_or_string_and_expires_on() {
        let t = parse_token_response(br#"{"access_token":"a.b.c","expires_in":3600}"#, NOW_MS)
            .expect("number");
        assert_eq!(t.token.value(), "a.b.c");
        assert_eq!(t.token.lifetime_ms(), NOW_MS + 3_600_000);
        assert_eq!(t.refresh_at_ms, NOW_MS + 3_300_000, "5 minutes early");

        let t = parse_token_response(
            br#"{"access_token":"x","expires_in":"600","expires_on":"1"}"#,
            NOW_MS,
        )
        .expect("string; expires_in wins");
        assert_eq!(t.token.lifetime_ms(), NOW_MS + 600_000);
        assert_eq!(
            t.refresh_at_ms,
            NOW_MS + 480_000,
            "20 % of 10 minutes early"
        );

        let t = parse_token_response(br#"{"access_token":"x","expires_on":1700007200}"#, NOW_MS)
            .expect("expires_on");
        assert_eq!(t.token.lifetime_ms(), 1_700_007_200_000);

        let t = parse_token_response(
            br#"{"access_token":"x","expires_in":86400,"refresh_in":43200}"#,
            NOW_MS,
        )
        .expect("refresh_in");
        assert_eq!(t.refresh_at_ms, NOW_MS + 43_200_000);

        let t = parse_token_response(br#"{"access_token":"x","expires_in":1e300}"#, NOW_MS)
            .expect("huge saturates");
        assert_eq!(t.token.lifetime_ms(), i64::MAX);
    }

    #[test]
    fn rejects_bad_token_responses_without_echoing_the_token() {
        for (body, expected) in [
            (&br#"{"expires_in":3600}"#[..], "no access_token"),
            (
                br#"{"access_token":"","expires_in":3600}"#,
                "no access_token",
            ),
            (br#"{"access_token":"x"}"#, "no expires_in or expires_on"),
            (
                br#"{"access_token":"x","expires_in":-5}"#,
                "expires_in is not",
            ),
            (
                br#"{"access_token":"x","expires_in":"soon"}"#,
                "expires_in is not",
            ),
            (
                br#"{"access_token":"x","expires_on":[1]}"#,
                "expires_on is not",
            ),
            (
                br#"{"access_token":"sec ret tok","expires_in":1}"#,
                "unusable",
            ),
            (br#"["access_token"]"#, "not a JSON object"),
            (b"<html>nope</html>", "not a JSON object"),
            (b"", "not a JSON object"),
            (&[0xff, 0xfe, 0x00][..], "not a JSON object"),
        ] {
            let err = parse_token_response(body, NOW_MS)
                .err()
                .unwrap_or_else(|| panic!("accepted {body:?}"));
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains("sec ret"), "{err}");
        }
        let deep = "[".repeat(100_000);
        assert!(parse_token_response(deep.as_bytes(), NOW_MS).is_err());
    }

    #[test]
    fn error_details_name_error_and_description() {
        assert_eq!(
            error_details(br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: 1"}"#),
            ": invalid_client: AADSTS7000215: Invalid client secret.\\r\\nTrace ID: 1"
        );
        assert_eq!(
            error_details(br#"{"statusCode":400,"message":"No identity"}"#),
            ": No identity"
        );
        assert_eq!(error_details(b""), "");
        assert_eq!(error_details(b"<html/>"), " (the 7-byte body is not JSON)");
    }

    #[test]
    fn token_urls_require_https_except_on_loopback() {
        let url = token_url(
            "https://login.microsoftonline.com/",
            "contoso.onmicrosoft.com",
        )
        .expect("https");
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        for host in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:1",
        ] {
            token_url(host, "t").unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        let err = token_url("http://login.example", "t").unwrap_err();
        assert!(err.contains("must be https://"), "{err}");
        for tenant in ["", "a/b", "t?x=1", "../x y"] {
            let err = token_url(DEFAULT_AUTHORITY_HOST, tenant).unwrap_err();
            assert!(err.contains("invalid tenant id"), "{err}");
        }
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn from_env_follows_default_azure_credential_order() {
        let scope = || event_hubs_scope("ns");
        let p = EntraTokenProvider::from_env_with(
            scope(),
            &env_of(&[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
                ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
                ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
            ]),
        )
        .expect("client secret");
        let debug = format!("{p:?}");
        assert!(debug.contains("client secret"), "{debug}");
        assert!(
            debug.contains("https://login.microsoftonline.us"),
            "{debug}"
        );
        assert!(!debug.contains("s3cr3t"), "{debug}");

        let p = EntraTokenProvider::from_env_with(
            scope(),
            &env_of(&[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ]),
        )
        .expect("workload identity");
        let debug = format!("{p:?}");
        assert!(debug.contains("workload identity"), "{debug}");
        assert!(debug.contains(DEFAULT_AUTHORITY_HOST), "{debug}");

        let err = EntraTokenProvider::from_env_with(
            scope(),
            &env_of(&[("AZURE_FEDERATED_TOKEN_FILE", "/f")]),
        )
        .unwrap_err();
        assert!(
            err.contains("AZURE_TENANT_ID, AZURE_CLIENT_ID not set"),
            "{err}"
        );
        let err = EntraTokenProvider::from_env_with(
            scope(),
            &env_of(&[
                ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
                ("AZURE_CLIENT_ID", "c"),
            ]),
        )
        .unwrap_err();
        assert!(err.contains("variable AZURE_TENANT_ID not set"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");

        let p = EntraTokenProvider::from_env_with(scope(), &env_of(&[("AZURE_CLIENT_ID", "uai")]))
            .expect("managed identity");
        let debug = format!("{p:?}");
        assert!(debug.contains("managed identity"), "{debug}");
        assert!(debug.contains("uai"), "{debug}");
        assert!(debug.contains(IMDS_ENDPOINT), "{debug}");
        assert!(
            debug.contains("\"https://ns.servicebus.windows.net\""),
            "{debug}"
        );
    }

    /// The HTTP tests build the client with TLS, so they need a crypto provider.
    #[cfg(any(
        feature = "tls-graviola",
        feature = "tls-rustcrypto",
        feature = "tls-ring",
        feature = "tls-aws-lc-rs"
    ))]
    mod http {
        use super::super::*;
        use super::NOW_MS;
        use std::collections::HashMap;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::TcpListener;

        const SECRET: &str = "s3cr3t~client.secret";
        const SCOPE: &str = "https://ns.servicebus.windows.net/.default";

        /// A request as the local token endpoint saw it.
        #[derive(Debug, Clone)]
        struct Request {
            method: String,
            path: String,
            query: HashMap<String, String>,
            headers: HashMap<String, String>,
            form: HashMap<String, String>,
        }

        struct Reply {
            status: u16,
            body: Vec<u8>,
            content_length: bool,
        }

        fn json(status: u16, body: &str) -> Reply {
            Reply {
                status,
                body: body.as_bytes().to_vec(),
                content_length: true,
            }
        }

        /// A local HTTP/1.1 token endpoint on 127.0.0.1 answering request `n` (from 1) with
        /// `reply(n, request)`, recording every request.
        struct Endpoint {
            base: String,
            requests: Arc<Mutex<Vec<Request>>>,
            hits: Arc<AtomicUsize>,
        }

        impl Endpoint {
            async fn start(
                reply: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
            ) -> Self {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let base = format!("http://{}", listener.local_addr().expect("addr"));
                let requests = Arc::new(Mutex::new(Vec::new()));
                let hits = Arc::new(AtomicUsize::new(0));
                let reply = Arc::new(reply);
                let (requests2, hits2) = (requests.clone(), hits.clone());
                tokio::spawn(async move {
                    // At most 50 connections: the tests make a handful.
                    for _ in 0..50 {
                        let Ok((mut stream, _)) = listener.accept().await else {
                            return;
                        };
                        let (reply, requests, hits) =
                            (reply.clone(), requests2.clone(), hits2.clone());
                        tokio::spawn(async move {
                            let Some(request) = read_request(&mut stream).await else {
                                return;
                            };
                            let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                            requests.lock().expect("lock").push(request.clone());
                            let r = reply(n, &request);
                            let mut head = format!(
                                "HTTP/1.1 {} Status\r\nContent-Type: application/json\r\nConnection: close\r\n",
                                r.status
                            );
                            if r.content_length {
                                head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
                            }
                            head.push_str("\r\n");
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(&r.body).await;
                            let _ = stream.shutdown().await;
                        });
                    }
                });
                Endpoint {
                    base,
                    requests,
                    hits,
                }
            }

            fn hits(&self) -> usize {
                self.hits.load(Ordering::SeqCst)
            }

            fn request(&self, i: usize) -> Request {
                self.requests.lock().expect("lock")[i].clone()
            }
        }

        async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i;
                }
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 || buf.len() > 65_536 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
            let mut lines = head.split("\r\n");
            let mut first = lines.next()?.split(' ');
            let method = first.next()?.to_owned();
            let target = first.next()?;
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let headers: HashMap<String, String> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = buf[head_end + 4..].to_vec();
            while body.len() < len {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            Some(Request {
                method,
                path: path.to_owned(),
                query: pairs(query),
                form: pairs(&String::from_utf8_lossy(&body)),
                headers,
            })
        }

        /// `application/x-www-form-urlencoded` pairs.
        fn pairs(s: &str) -> HashMap<String, String> {
            fn decode(s: &str) -> String {
                let bytes = s.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'+' => out.push(b' '),
                        b'%' if i + 2 < bytes.len() => {
                            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                            out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                            i += 2;
                        }
                        b => out.push(b),
                    }
                    i += 1;
                }
                String::from_utf8_lossy(&out).into_owned()
            }
            s.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k), decode(v))
                })
                .collect()
        }

        fn form_of(fields: &[(&str, &str)]) -> HashMap<String, String> {
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        }

        fn client_secret_provider(endpoint: &Endpoint) -> EntraTokenProvider {
            EntraTokenProvider::client_secret("tenant-1", "client-1", SECRET, SCOPE)
                .with_authority_host(&endpoint.base)
        }

        #[tokio::test]
        async fn client_credentials_post_the_form_and_return_the_token() {
            let endpoint = Endpoint::start(|_, _| {
                json(
                    200,
                    r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAi.eyJhdWQi.c2ln"}"#,
                )
            })
            .await;
            let provider = client_secret_provider(&endpoint);
            let before = now_ms().expect("clock");
            let token = provider.token().await.expect("token");
            let after = now_ms().expect("clock");
            assert_eq!(token.value(), "eyJ0eXAi.eyJhdWQi.c2ln");
            assert!(
                (before + 3_599_000..=after + 3_599_000).contains(&token.lifetime_ms()),
                "{}",
                token.lifetime_ms()
            );
            let r = endpoint.request(0);
            assert_eq!(r.method, "POST");
            assert_eq!(r.path, "/tenant-1/oauth2/v2.0/token");
            assert_eq!(
                r.headers.get("content-type").map(String::as_str),
                Some("application/x-www-form-urlencoded")
            );
            assert_eq!(
                r.form,
                form_of(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "client-1"),
                    ("client_secret", SECRET),
                    ("scope", SCOPE),
                ])
            );
        }

        #[tokio::test]
        async fn managed_identity_gets_imds_with_the_metadata_header() {
            let endpoint = Endpoint::start(|_, _| {
                json(
                    200,
                    r#"{"access_token":"mi-token","refresh_token":"","expires_in":"86399","expires_on":"1700086399","not_before":"1700000000","resource":"https://ns.servicebus.windows.net","token_type":"Bearer"}"#,
                )
            })
            .await;
            let url = format!("{}/metadata/identity/oauth2/token", endpoint.base);
            let system =
                EntraTokenProvider::managed_identity_with_env(SCOPE.into(), None, &|_| None)
                    .with_managed_identity_endpoint(&url);
            let token = system.token_at(NOW_MS).await.expect("system-assigned");
            assert_eq!(token.value(), "mi-token");
            assert_eq!(token.lifetime_ms(), NOW_MS + 86_399_000);
            let user = EntraTokenProvider::user_assigned_managed_identity("uai-1", SCOPE)
                .with_managed_identity_endpoint(&url);
            user.token_at(NOW_MS).await.expect("user-assigned");

            for (i, client_id) in [None, Some("uai-1")].into_iter().enumerate() {
                let r = endpoint.request(i);
                assert_eq!(r.method, "GET");
                assert_eq!(r.path, "/metadata/identity/oauth2/token");
                assert_eq!(r.headers.get("metadata").map(String::as_str), Some("true"));
                let mut query = form_of(&[
                    ("api-version", "2018-02-01"),
                    ("resource", "https://ns.servicebus.windows.net"),
                ]);
                if let Some(id) = client_id {
                    query.insert("client_id".into(), id.into());
                }
                assert_eq!(r.query, query);
            }
        }

        #[tokio::test]
        async fn managed_identity_on_app_service_uses_its_endpoint_and_header() {
            let endpoint = Endpoint::start(|_, _| {
                json(
                    200,
                    r#"{"access_token":"app-token","expires_on":1700003600,"resource":"https://ns.servicebus.windows.net","token_type":"Bearer"}"#,
                )
            })
            .await;
            let url = format!("{}/msi/token", endpoint.base);
            let env = move |name: &str| match name {
                "IDENTITY_ENDPOINT" => Some(url.clone()),
                "IDENTITY_HEADER" => Some("header-s3cr3t".to_owned()),
                _ => None,
            };
            let provider = EntraTokenProvider::managed_identity_with_env(SCOPE.into(), None, &env);
            assert!(!format!("{provider:?}").contains("header-s3cr3t"));
            let token = provider.token_at(NOW_MS).await.expect("token");
            assert_eq!(token.value(), "app-token");
            assert_eq!(token.lifetime_ms(), 1_700_003_600_000);
            let r = endpoint.request(0);
            assert_eq!(r.path, "/msi/token");
            assert_eq!(
                r.headers.get("x-identity-header").map(String::as_str),
                Some("header-s3cr3t")
            );
            assert_eq!(
                r.query,
                form_of(&[
                    ("api-version", "2019-08-01"),
                    ("resource", "https://ns.servicebus.windows.net"),
                ])
            );
        }

        struct TempFile(PathBuf);

        impl TempFile {
            fn new(name: &str, contents: &str) -> Self {
                static N: AtomicUsize = AtomicUsize::new(0);
                let path = std::env::temp_dir().join(format!(
                    "kafka-wire-entra-{}-{}-{name}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::write(&path, contents).expect("write temp file");
                TempFile(path)
            }
        }

        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }

        #[tokio::test]
        async fn workload_identity_sends_the_federated_token_as_client_assertion() {
            let endpoint = Endpoint::start(|_, _| {
                json(
                    200,
                    r#"{"token_type":"Bearer","expires_in":3599,"access_token":"wi-token"}"#,
                )
            })
            .await;
            let file = TempFile::new("token", "eyJhbGciOi.eyJpc3Mi.sig-1\n");
            let path = file.0.to_string_lossy().into_owned();
            let base = endpoint.base.clone();
            let env = move |name: &str| match name {
                "AZURE_TENANT_ID" => Some("tenant-2".to_owned()),
                "AZURE_CLIENT_ID" => Some("client-2".to_owned()),
                "AZURE_FEDERATED_TOKEN_FILE" => Some(path.clone()),
                "AZURE_AUTHORITY_HOST" => Some(base.clone()),
                _ => None,
            };
            let provider = EntraTokenProvider::workload_identity_with_env(SCOPE.into(), &env)
                .expect("from env");
            let token = provider.token_at(NOW_MS).await.expect("token");
            assert_eq!(token.value(), "wi-token");
            let r = endpoint.request(0);
            assert_eq!(r.method, "POST");
            assert_eq!(r.path, "/tenant-2/oauth2/v2.0/token");
            assert_eq!(
                r.form,
                form_of(&[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", "eyJhbGciOi.eyJpc3Mi.sig-1"),
                    ("client_id", "client-2"),
                    ("scope", SCOPE),
                ])
            );

            // The file is re-read at each request (the kubelet rotates it).
            std::fs::write(&file.0, "eyJhbGciOi.eyJpc3Mi.sig-2").expect("rotate");
            provider
                .token_at(NOW_MS + 3_599_000)
                .await
                .expect("refreshed");
            assert_eq!(
                endpoint
                    .request(1)
                    .form
                    .get("client_assertion")
                    .map(String::as_str),
                Some("eyJhbGciOi.eyJpc3Mi.sig-2")
            );

            // A missing file is a clear error.
            let missing = EntraTokenProvider::workload_identity(
                "tenant-2",
                "client-2",
                std::env::temp_dir().join("kafka-wire-entra-no-such-file"),
                SCOPE,
            )
            .with_authority_host(&endpoint.base);
            let err = missing.token_at(NOW_MS).await.unwrap_err();
            assert!(
                err.contains("cannot read the federated token file"),
                "{err}"
            );
            assert_eq!(endpoint.hits(), 2, "nothing sent without a token");
        }

        #[tokio::test]
        async fn tokens_are_cached() {
            let endpoint = Endpoint::start(|n, _| {
                json(
                    200,
                    &format!(r#"{{"access_token":"tok-{n}","expires_in":3600}}"#),
                )
            })
            .await;
            let provider = client_secret_provider(&endpoint);
            let first = provider.token().await.expect("first");
            let second = provider.token().await.expect("second");
            assert_eq!(first.value(), "tok-1");
            assert_eq!(second.value(), "tok-1");
            assert_eq!(second.lifetime_ms(), first.lifetime_ms());
            assert_eq!(
                endpoint.hits(),
                1,
                "the second call is served from the cache"
            );

            // Concurrent callers share one request.
            let fresh = client_secret_provider(&endpoint);
            let (a, b) = tokio::join!(fresh.token(), fresh.token());
            assert_eq!(a.expect("a").value(), b.expect("b").value());
            assert_eq!(endpoint.hits(), 2);
        }

        #[tokio::test]
        async fn tokens_are_refreshed_near_expiry() {
            let endpoint = Endpoint::start(|n, _| {
                if n <= 2 {
                    json(
                        200,
                        &format!(r#"{{"access_token":"tok-{n}","expires_in":3600}}"#),
                    )
                } else {
                    json(
                        503,
                        r#"{"error":"temporarily_unavailable","error_description":"try later"}"#,
                    )
                }
            })
            .await;
            let provider = client_secret_provider(&endpoint);
            let t0 = NOW_MS;
            assert_eq!(provider.token_at(t0).await.expect("fetch").value(), "tok-1");
            // 10 minutes left: cached.
            let t = provider.token_at(t0 + 3_000_000).await.expect("cached");
            assert_eq!(t.value(), "tok-1");
            assert_eq!(endpoint.hits(), 1);
            // Less than 5 minutes left: a new token.
            let t1 = t0 + 3_301_000;
            let t = provider.token_at(t1).await.expect("refreshed");
            assert_eq!(t.value(), "tok-2");
            assert_eq!(t.lifetime_ms(), t1 + 3_600_000);
            assert_eq!(endpoint.hits(), 2);
            // The refresh fails while tok-2 is still valid: tok-2 is returned.
            let t = provider
                .token_at(t1 + 3_400_000)
                .await
                .expect("stale but valid");
            assert_eq!(t.value(), "tok-2");
            assert_eq!(endpoint.hits(), 3);
            // Expired and the endpoint still fails: the error.
            let err = provider.token_at(t1 + 3_600_000).await.unwrap_err();
            assert!(err.contains("HTTP 503"), "{err}");
            assert!(err.contains("temporarily_unavailable: try later"), "{err}");
            assert_eq!(endpoint.hits(), 4);
        }

        #[tokio::test]
        async fn entra_errors_are_clear_and_keep_secrets_out() {
            let endpoint = Endpoint::start(|_, r| {
                // An echo of the secret must still not reach the message.
                let echoed = r.form.get("client_secret").cloned().unwrap_or_default();
                json(
                    401,
                    &format!(
                        r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided ({echoed}).","error_codes":[7000215]}}"#
                    ),
                )
            })
            .await;
            let provider = client_secret_provider(&endpoint);
            let err = provider.token().await.unwrap_err();
            assert!(err.contains("HTTP 401 Unauthorized"), "{err}");
            assert!(err.contains("invalid_client"), "{err}");
            assert!(
                err.contains("AADSTS7000215: Invalid client secret provided"),
                "{err}"
            );
            assert!(err.contains("tenant tenant-1, client client-1"), "{err}");
            assert!(err.contains("/tenant-1/oauth2/v2.0/token"), "{err}");
            assert!(!err.contains(SECRET), "{err}");
            assert!(err.contains("<redacted>"), "{err}");
        }

        #[tokio::test]
        async fn oversized_or_garbage_bodies_are_errors() {
            let endpoint = Endpoint::start(|n, _| match n {
                // Declared too large.
                1 => Reply {
                    status: 200,
                    body: vec![b'{'; MAX_RESPONSE_BYTES + 1],
                    content_length: true,
                },
                // No length, read to the end: too large while streaming.
                2 => Reply {
                    status: 200,
                    body: vec![b'x'; 4 * MAX_RESPONSE_BYTES],
                    content_length: false,
                },
                // Garbage within the limit.
                3 => Reply {
                    status: 200,
                    body: b"\x00\xffnot json at all".to_vec(),
                    content_length: false,
                },
                // A token that is not a bearer token.
                4 => json(
                    200,
                    r#"{"access_token":"a token\r\nwith spaces","expires_in":60}"#,
                ),
                // An error status with an HTML body.
                _ => Reply {
                    status: 502,
                    body: b"<html>Bad Gateway</html>".to_vec(),
                    content_length: true,
                },
            })
            .await;
            let provider = client_secret_provider(&endpoint);
            let mut errors = Vec::new();
            for _ in 0..5 {
                errors.push(provider.token().await.unwrap_err());
            }
            assert!(
                errors[0].contains("larger than 65536 bytes"),
                "{}",
                errors[0]
            );
            assert!(
                errors[1].contains("larger than 65536 bytes"),
                "{}",
                errors[1]
            );
            assert!(errors[2].contains("not a JSON object"), "{}", errors[2]);
            assert!(
                errors[3].contains("access_token is unusable"),
                "{}",
                errors[3]
            );
            assert!(!errors[3].contains("with spaces"), "{}", errors[3]);
            assert!(errors[4].contains("HTTP 502"), "{}", errors[4]);
            assert!(errors[4].contains("not JSON"), "{}", errors[4]);
            for e in &errors {
                assert!(!e.contains(SECRET), "{e}");
                assert!(e.len() < 2048, "{e}");
            }
        }

        #[tokio::test]
        async fn unreachable_and_insecure_endpoints_are_errors() {
            let port = {
                let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                l.local_addr().expect("addr").port()
            };
            let provider =
                EntraTokenProvider::managed_identity_with_env(SCOPE.into(), None, &|_| None)
                    .with_managed_identity_endpoint(format!("http://127.0.0.1:{port}/token"))
                    .with_timeout(Duration::from_secs(5));
            let err = provider.token().await.unwrap_err();
            assert!(
                err.contains(&format!("http://127.0.0.1:{port}/token failed")),
                "{err}"
            );
            assert!(err.contains("managed identity"), "{err}");

            // A client secret is never sent over plain HTTP to another host (no request is
            // made: the check comes first).
            let provider = EntraTokenProvider::client_secret("t", "c", SECRET, SCOPE)
                .with_authority_host("http://login.example.invalid");
            let err = provider.token().await.unwrap_err();
            assert!(err.contains("must be https://"), "{err}");
            assert!(!err.contains(SECRET), "{err}");
        }
    }
}
