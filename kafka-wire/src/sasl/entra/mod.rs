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
use crate::secret::Secret;

mod wire;
use wire::*;

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
    /// An application registration using the client credentials grant.
    Application {
        app: Application,
        credential: AppCredential,
    },
    ManagedIdentity {
        endpoint: MiEndpoint,
        resource: String,
        client_id: Option<String>,
    },
}

/// Who asks Entra ID for a token, and for what, in the client credentials grant at
/// `{authority_host}/{tenant_id}/oauth2/v2.0/token`.
struct Application {
    authority_host: String,
    tenant_id: String,
    client_id: String,
    scope: String,
}

/// How an [`Application`] proves itself.
enum AppCredential {
    /// A client secret (`client_secret`).
    Secret(Secret),
    /// A federated token (AKS workload identity), re-read from this file for every request and
    /// sent as a JWT bearer `client_assertion`.
    FederatedTokenFile(PathBuf),
}

impl AppCredential {
    fn kind(&self) -> &'static str {
        match self {
            AppCredential::Secret(_) => "client secret",
            AppCredential::FederatedTokenFile(_) => "workload identity",
        }
    }
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
    fn application(
        tenant_id: String,
        client_id: String,
        scope: String,
        credential: AppCredential,
    ) -> Self {
        Self::with_source(Source::Application {
            app: Application {
                authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
                tenant_id,
                client_id,
                scope,
            },
            credential,
        })
    }

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
        Self::application(
            tenant_id.into(),
            client_id.into(),
            scope.into(),
            AppCredential::Secret(Secret::new(client_secret)),
        )
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
        Self::application(
            tenant_id.into(),
            client_id.into(),
            scope.into(),
            AppCredential::FederatedTokenFile(token_file.into()),
        )
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
        Ok(provider.with_env_authority_host(env))
    }

    /// `AZURE_AUTHORITY_HOST`, when set, replaces the authority host.
    fn with_env_authority_host(self, env: &dyn Fn(&str) -> Option<String>) -> Self {
        match env("AZURE_AUTHORITY_HOST") {
            Some(host) => self.with_authority_host(host),
            None => self,
        }
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
            return Ok(provider.with_env_authority_host(env));
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
        if let Source::Application { app, .. } = &mut self.source {
            app.authority_host = host;
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
            Source::Application { app, credential } => {
                let what = format!(
                    "Entra ID token request ({}, tenant {}, client {})",
                    credential.kind(),
                    app.tenant_id,
                    app.client_id
                );
                let url = token_url(&app.authority_host, &app.tenant_id)
                    .map_err(|e| format!("{what}: {e}"))?;
                let proof = match credential {
                    AppCredential::Secret(secret) => secret.expose().to_owned(),
                    AppCredential::FederatedTokenFile(path) => {
                        read_federated_token(path).map_err(|e| format!("{what}: {e}"))?
                    }
                };
                let mut form = vec![("grant_type", "client_credentials")];
                match credential {
                    AppCredential::Secret(_) => form.push(("client_secret", proof.as_str())),
                    AppCredential::FederatedTokenFile(_) => form.extend([
                        ("client_assertion_type", JWT_BEARER),
                        ("client_assertion", proof.as_str()),
                    ]),
                }
                form.extend([
                    ("client_id", app.client_id.as_str()),
                    ("scope", app.scope.as_str()),
                ]);
                let request = client.post(url.clone()).form(&form);
                (request, what, url, vec![proof])
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
            Source::Application { app, credential } => {
                d.field("source", &credential.kind())
                    .field("authority_host", &app.authority_host)
                    .field("tenant_id", &app.tenant_id)
                    .field("client_id", &app.client_id);
                match credential {
                    AppCredential::Secret(_) => d.field("client_secret", &"<redacted>"),
                    AppCredential::FederatedTokenFile(path) => d.field("token_file", path),
                };
                d.field("scope", &app.scope)
            }
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

// The provider is shared by every connection of a client.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<EntraTokenProvider>();
    send_sync::<Arc<EntraTokenProvider>>();
};

/// The HTTP tests build the client with TLS, so they need a crypto provider.
#[cfg(all(
    test,
    any(
        feature = "tls-graviola",
        feature = "tls-rustcrypto",
        feature = "tls-ring",
        feature = "tls-aws-lc-rs"
    )
))]
mod http_tests;
#[cfg(test)]
mod tests;
