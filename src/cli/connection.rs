//! Command-line flags and environment variables for talking to a server, turned into
//! [`ClientOptions`], and the runtime that drives the async client from a sync command.
//!
//! Invariants: secrets come from files or the environment, never from a flag's value (a flag
//! shows in `ps` and in shell history); flags win over the environment.

use crate::cli::http::{Auth, ClientOptions, Secret};
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable holding a bearer token, used when no `--bearer-token-file` is given.
pub const BEARER_TOKEN_ENV: &str = "MLSLO_BEARER_TOKEN";
/// Environment variables for basic auth, used when the flags are absent.
pub const BASIC_USER_ENV: &str = "MLSLO_BASIC_AUTH_USER";
pub const BASIC_PASSWORD_ENV: &str = "MLSLO_BASIC_AUTH_PASSWORD";

/// Flags shared by every command that talks to a server; `#[command(flatten)]` them.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ConnectionArgs {
    /// File holding a bearer token (or set MLSLO_BEARER_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// User for basic auth (or set MLSLO_BASIC_AUTH_USER).
    #[arg(long, value_name = "USER")]
    pub basic_auth_user: Option<String>,
    /// File holding the basic-auth password (or set MLSLO_BASIC_AUTH_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// PEM file of CA certificates to trust besides the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Tenant sent as X-Scope-OrgID (Mimir, Cortex, Loki, Thanos receive).
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Time limit of one request attempt, such as 30s or 2m.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Retries after a connection error, a timeout, 429 or 5xx (with doubling backoff).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
}

/// Where the environment comes from: the process, or a map in tests.
pub trait Environment {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

impl ConnectionArgs {
    /// Reads the secret and CA files and the environment into client options; an error names
    /// the file or variable at fault, never its contents.
    pub fn client_options(&self, environment: &dyn Environment) -> Result<ClientOptions, String> {
        let auth = self.auth(environment)?;
        let extra_root_certificates_pem =
            match &self.ca_file {
                Some(path) => Some(super::input::read_bytes_or_pipe(path).map_err(|error| {
                    format!("cannot read the CA file {}: {error}", path.display())
                })?),
                None => None,
            };
        let mut headers = Vec::new();
        if let Some(tenant) = &self.tenant {
            headers.push(("X-Scope-OrgID".to_string(), tenant.clone()));
        }
        Ok(ClientOptions {
            timeout: self.timeout,
            retries: self.retries,
            auth,
            extra_root_certificates_pem,
            headers,
            ..ClientOptions::default()
        })
    }

    fn auth(&self, environment: &dyn Environment) -> Result<Auth, String> {
        let token = match &self.bearer_token_file {
            Some(path) => Some(read_secret_file(path, "bearer token")?),
            None => environment.get(BEARER_TOKEN_ENV).map(Secret::new),
        };
        let user = self
            .basic_auth_user
            .clone()
            .or_else(|| environment.get(BASIC_USER_ENV));
        let password = match &self.basic_auth_password_file {
            Some(path) => Some(read_secret_file(path, "basic-auth password")?),
            None => environment.get(BASIC_PASSWORD_ENV).map(Secret::new),
        };
        match (token, user, password) {
            (Some(_), Some(_), _) => Err(
                "both a bearer token and a basic-auth user are set: choose one".to_string(),
            ),
            (Some(token), None, _) => Ok(Auth::Bearer(token)),
            (None, Some(username), Some(password)) => Ok(Auth::Basic { username, password }),
            (None, Some(username), None) => Err(format!(
                "basic-auth user `{username}` has no password: give --basic-auth-password-file or set {BASIC_PASSWORD_ENV}"
            )),
            (None, None, Some(_)) => Err(format!(
                "a basic-auth password is set but no user: give --basic-auth-user or set {BASIC_USER_ENV}"
            )),
            (None, None, None) => Ok(Auth::None),
        }
    }
}

/// A secret file's contents without the trailing newline editors add.
fn read_secret_file(path: &std::path::Path, what: &str) -> Result<Secret, String> {
    let text = super::input::read_bytes_or_pipe(path)
        .and_then(|bytes| String::from_utf8(bytes).map_err(|_| super::input::ReadError::NotUtf8))
        .map_err(|error| format!("cannot read the {what} file {}: {error}", path.display()))?;
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()));
    }
    Ok(Secret::new(trimmed))
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let milliseconds = crate::prometheus::model::duration::parse_model_duration(text)?;
    if milliseconds <= 0 {
        return Err("the timeout must be positive".to_string());
    }
    Ok(Duration::from_millis(milliseconds as u64))
}

/// Runs an async task to completion on a current-thread runtime: one thread is enough to
/// keep many requests in flight, and keeps the process as light as the sync commands.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    Ok(runtime.block_on(future))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct MapEnvironment(BTreeMap<&'static str, &'static str>);

    impl Environment for MapEnvironment {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|value| value.to_string())
        }
    }

    fn environment(pairs: &[(&'static str, &'static str)]) -> MapEnvironment {
        MapEnvironment(pairs.iter().copied().collect())
    }

    fn args() -> ConnectionArgs {
        ConnectionArgs {
            timeout: Duration::from_secs(30),
            retries: 3,
            ..ConnectionArgs::default()
        }
    }

    #[test]
    fn the_environment_supplies_credentials_when_flags_are_absent() {
        let options = args()
            .client_options(&environment(&[(BEARER_TOKEN_ENV, "abc")]))
            .expect("bearer from the environment");
        assert_eq!(options.auth, Auth::Bearer(Secret::new("abc")));
        let options = args()
            .client_options(&environment(&[
                (BASIC_USER_ENV, "ops"),
                (BASIC_PASSWORD_ENV, "pw"),
            ]))
            .expect("basic from the environment");
        assert_eq!(
            options.auth,
            Auth::Basic {
                username: "ops".to_string(),
                password: Secret::new("pw")
            }
        );
    }

    #[test]
    fn half_or_double_credentials_are_refused_without_printing_them() {
        let error = args()
            .client_options(&environment(&[(BASIC_PASSWORD_ENV, "s3cret")]))
            .expect_err("no user");
        assert!(
            error.contains("no user") && !error.contains("s3cret"),
            "{error}"
        );
        let error = args()
            .client_options(&environment(&[
                (BEARER_TOKEN_ENV, "t0ken"),
                (BASIC_USER_ENV, "ops"),
            ]))
            .expect_err("two kinds");
        assert!(
            error.contains("choose one") && !error.contains("t0ken"),
            "{error}"
        );
    }

    #[test]
    fn a_tenant_becomes_the_org_id_header() {
        let options = ConnectionArgs {
            tenant: Some("team-a".to_string()),
            ..args()
        }
        .client_options(&environment(&[]))
        .expect("no auth");
        assert_eq!(
            options.headers,
            vec![("X-Scope-OrgID".to_string(), "team-a".to_string())]
        );
        assert_eq!(options.auth, Auth::None);
    }

    #[test]
    fn timeouts_use_prometheus_durations() {
        assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
    }
}
