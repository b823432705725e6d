//! The one HTTP client of mlslo (backtest history, lint's live checks, deploy): a timeout per
//! attempt, retries with exponential backoff, bearer or basic auth, an extra CA, fixed headers
//! such as a tenant, and secrets that never reach an error message or debug output.
//!
//! Invariants:
//! - Only connection failures, timeouts, 429 and 5xx are retried; any other status is returned
//!   to the caller at once, because a 4xx will not change by asking again.
//! - A [`Secret`] prints as `***` in `Debug`, has no `Display`, and URLs in errors lose their
//!   user-info part, so `--verbose` output or a bug report never carries a credential.
//! - A server may echo what it received (a proxy's error page quoting the `Authorization`
//!   header): every error's text passes through the client's [`Redactor`], the one filter
//!   of the credentials a client sends, and commands print other server text through it.
//! - The caller reads files (CA, token files) and passes bytes: this module does no file IO.
//! - No response body past [`MAX_RESPONSE_BYTES`] is read: the request fails with an error
//!   naming the limit and the URL, and is not retried.

use std::fmt;
use std::time::Duration;

use crate::prometheus::model::duration::ModelDuration;

/// A credential. Its only way out is [`Secret::expose`], used when a request is built.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("***")
    }
}

/// The credentials a client sends, in every form a server may echo them: the bearer token,
/// the basic-auth password and the base64 of `user:password` (the header's value), each also
/// JSON-escaped and percent-encoded, as an error body may quote it so; and the values of the
/// fixed headers (a tenant) where they are quoted with their header's name (`X-Scope-OrgID:
/// ml`, `"X-Scope-OrgID":["ml"]`), since a short tenant such as `ml` must not mask every
/// `.yml` of a message. [`Redactor::redact`] replaces each with `***`.
#[derive(Clone, Default)]
pub struct Redactor {
    /// (text, replacement), longest text first, so a secret containing another is
    /// replaced whole.
    replacements: Vec<(String, String)>,
}

impl Redactor {
    pub fn for_options(options: &ClientOptions) -> Redactor {
        let mut credentials: Vec<String> = Vec::new();
        match &options.auth {
            Auth::None => {}
            Auth::Bearer(token) => credentials.push(token.expose().to_string()),
            Auth::Basic { username, password } => {
                credentials.push(password.expose().to_string());
                credentials.push(base64(
                    format!("{username}:{}", password.expose()).as_bytes(),
                ));
            }
        }
        let mut replacements: Vec<(String, String)> = Vec::new();
        let mut add = |text: String, replacement: String| {
            if !text.is_empty() && !replacements.iter().any(|(known, _)| *known == text) {
                replacements.push((text, replacement));
            }
        };
        for credential in credentials.iter().filter(|secret| !secret.is_empty()) {
            for form in [
                credential.clone(),
                json_escaped(credential),
                percent_encode(credential),
            ] {
                add(form, "***".to_string());
            }
        }
        for (name, value) in options
            .headers
            .iter()
            .filter(|(_, value)| !value.is_empty())
        {
            for name in [name.clone(), name.to_ascii_lowercase()] {
                for separator in [": ", ":", "="] {
                    add(
                        format!("{name}{separator}{value}"),
                        format!("{name}{separator}***"),
                    );
                }
                let (name, value) = (json_escaped(&name), json_escaped(value));
                add(
                    format!("\"{name}\":[\"{value}\"]"),
                    format!("\"{name}\":[\"***\"]"),
                );
                add(
                    format!("\"{name}\":\"{value}\""),
                    format!("\"{name}\":\"***\""),
                );
            }
        }
        replacements.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Redactor { replacements }
    }

    /// `text` with every credential replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_string();
        for (secret, replacement) in &self.replacements {
            if redacted.contains(secret.as_str()) {
                redacted = redacted.replace(secret.as_str(), replacement);
            }
        }
        redacted
    }

    fn redact_kind(&self, kind: HttpErrorKind) -> HttpErrorKind {
        match kind {
            HttpErrorKind::InvalidUrl(reason) => HttpErrorKind::InvalidUrl(self.redact(&reason)),
            HttpErrorKind::Setup(reason) => HttpErrorKind::Setup(self.redact(&reason)),
            HttpErrorKind::Connect(reason) => HttpErrorKind::Connect(self.redact(&reason)),
            HttpErrorKind::Body(reason) => HttpErrorKind::Body(self.redact(&reason)),
            HttpErrorKind::Status { status, body } => HttpErrorKind::Status {
                status,
                body: self.redact(&body),
            },
            unchanged @ (HttpErrorKind::Timeout(_) | HttpErrorKind::TooLarge) => unchanged,
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "Redactor({} forms of secrets)",
            self.replacements.len()
        )
    }
}

/// `text` as it appears inside a JSON string.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_default()
        .to_string()
}

/// Standard base64 with padding, as the basic-auth header carries `user:password`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (index, byte)| {
            word | u32::from(*byte) << (16 - 8 * index)
        });
        for index in 0..4 {
            if index <= chunk.len() {
                encoded.push(ALPHABET[(word >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// How requests authenticate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Bearer(Secret),
    Basic {
        username: String,
        password: Secret,
    },
}

/// Everything that shapes a client; `Default` is what a command line without flags gets.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Limit for one attempt, from connecting to the last byte of the body.
    pub timeout: Duration,
    /// Attempts after the first one, for retryable failures only.
    pub retries: u32,
    /// Wait before the first retry; doubles with each further retry, up to [`MAX_BACKOFF`].
    pub initial_backoff: Duration,
    pub auth: Auth,
    /// PEM certificates trusted in addition to the system's roots.
    pub extra_root_certificates_pem: Option<Vec<u8>>,
    /// Sent with every request, such as `X-Scope-OrgID` for Mimir, Cortex and Loki tenants.
    pub headers: Vec<(String, String)>,
}

/// Upper bound of the wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_secs(30),
            retries: 3,
            initial_backoff: Duration::from_millis(250),
            auth: Auth::None,
            extra_root_certificates_pem: None,
            headers: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One request; build with [`Request::get`] and friends, then add query pairs and headers.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
}

#[derive(Clone, Debug)]
pub struct Body {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    pub fn delete(url: impl Into<String>) -> Request {
        Request::new(Method::Delete, url)
    }

    pub fn post(url: impl Into<String>) -> Request {
        Request::new(Method::Post, url)
    }

    pub fn put(url: impl Into<String>) -> Request {
        Request::new(Method::Put, url)
    }

    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, content_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Request {
        self.body = Some(Body {
            content_type: content_type.into(),
            bytes: bytes.into(),
        });
        self
    }

    /// A form-encoded POST body, as Prometheus' query APIs accept (long queries fit).
    pub fn form(self, pairs: &[(&str, &str)]) -> Request {
        let encoded = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.body("application/x-www-form-urlencoded", encoded)
    }
}

/// A response with its whole body read.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What went wrong, without the retries' detail (the error says how many attempts were made).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpErrorKind {
    /// The URL does not parse, or has a scheme other than http(s).
    InvalidUrl(String),
    /// The client could not be built (bad CA file contents, bad header).
    Setup(String),
    /// No response within the timeout.
    Timeout(Duration),
    /// No connection: refused, DNS, TLS handshake.
    Connect(String),
    /// A status the caller asked to be an error (see [`HttpClient::send_ok`]), or a retryable
    /// status that stayed after every retry. `body` is the start of the response body.
    Status { status: u16, body: String },
    /// The connection broke while the body was read.
    Body(String),
    /// The body went past [`MAX_RESPONSE_BYTES`]; reading stopped there.
    TooLarge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    pub method: Method,
    /// The URL without user info, safe to print.
    pub url: String,
    pub attempts: u32,
    pub kind: HttpErrorKind,
}

impl fmt::Display for HttpError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}: ", self.method.as_str(), self.url)?;
        match &self.kind {
            HttpErrorKind::InvalidUrl(reason) => write!(formatter, "invalid URL: {reason}")?,
            HttpErrorKind::Setup(reason) => {
                write!(formatter, "cannot set up the client: {reason}")?
            }
            HttpErrorKind::Timeout(after) => write!(
                formatter,
                "no response within {}",
                ModelDuration(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
            )?,
            HttpErrorKind::Connect(reason) => write!(formatter, "cannot connect: {reason}")?,
            HttpErrorKind::Status { status, body } => {
                write!(formatter, "HTTP {status}")?;
                if let Some(reason) = status_reason(*status) {
                    write!(formatter, " {reason}")?;
                }
                let body = body.trim();
                if !body.is_empty() {
                    write!(formatter, ": {body}")?;
                }
            }
            HttpErrorKind::Body(reason) => write!(formatter, "response broken off: {reason}")?,
            HttpErrorKind::TooLarge => write!(
                formatter,
                "the response body is larger than {} bytes ({} MiB), the most mlslo reads from \
                 one response (with --prometheus-url, a smaller --chunk asks for less)",
                MAX_RESPONSE_BYTES,
                MAX_RESPONSE_BYTES / (1024 * 1024)
            )?,
        }
        if self.attempts > 1 {
            write!(formatter, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

/// The largest response body read from one request, in bytes (256 MiB, the limit of an
/// input file): a server that sends without end, or a query that matched far more than
/// meant, ends in an error instead of taking all memory.
pub const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// How much of an error response body an error message keeps.
const ERROR_BODY_EXCERPT_CHARS: usize = 500;

pub struct HttpClient {
    client: reqwest::Client,
    options: ClientOptions,
    redactor: Redactor,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(options: ClientOptions) -> Result<HttpClient, HttpError> {
        let setup_error = |reason: String| HttpError {
            method: Method::Get,
            url: String::new(),
            attempts: 0,
            kind: HttpErrorKind::Setup(reason),
        };
        // reqwest is built without a default crypto provider (see Cargo.toml); installing ring
        // twice is refused harmlessly, so every client may try.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("mlslo/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &options.extra_root_certificates_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|error| setup_error(format!("the CA file is not PEM: {error}")))?;
            if certificates.is_empty() {
                return Err(setup_error("the CA file holds no certificate".to_string()));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let client = builder
            .build()
            .map_err(|error| setup_error(error_chain(&error)))?;
        let redactor = Redactor::for_options(&options);
        Ok(HttpClient {
            client,
            options,
            redactor,
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The filter of this client's credentials, for server text printed outside an error.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends `request`, retrying connection failures, timeouts, 429 and 5xx. Any other status
    /// comes back as a response, so callers can treat a 404 as "nothing there".
    pub async fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let printable_url = redact_user_info(&request.url);
        let error = |attempts: u32, kind: HttpErrorKind| HttpError {
            method: request.method,
            url: printable_url.clone(),
            attempts,
            kind: self.redactor.redact_kind(kind),
        };
        let url = reqwest::Url::parse(&request.url)
            .map_err(|reason| error(0, HttpErrorKind::InvalidUrl(reason.to_string())))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(error(
                0,
                HttpErrorKind::InvalidUrl(format!(
                    "the scheme is `{}`, expected http or https",
                    url.scheme()
                )),
            ));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(request, url.clone()).await;
            let retryable = match &outcome {
                Ok(response) => response.status == 429 || response.status >= 500,
                Err(kind) => !matches!(kind, HttpErrorKind::Setup(_) | HttpErrorKind::TooLarge),
            };
            if !retryable || attempt > self.options.retries {
                return match outcome {
                    Ok(response) if retryable => Err(error(
                        attempt,
                        HttpErrorKind::Status {
                            status: response.status,
                            body: excerpt(&self.redactor.redact(&response.text())),
                        },
                    )),
                    Ok(response) => Ok(response),
                    Err(kind) => Err(error(attempt, kind)),
                };
            }
            tokio::time::sleep(backoff(self.options.initial_backoff, attempt)).await;
        }
    }

    /// Like [`HttpClient::send`], but any status outside 2xx is an error.
    pub async fn send_ok(&self, request: &Request) -> Result<Response, HttpError> {
        let response = self.send(request).await?;
        if response.is_success() {
            return Ok(response);
        }
        Err(HttpError {
            method: request.method,
            url: redact_user_info(&request.url),
            attempts: 1,
            kind: HttpErrorKind::Status {
                status: response.status,
                body: excerpt(&self.redactor.redact(&response.text())),
            },
        })
    }

    async fn attempt(
        &self,
        request: &Request,
        url: reqwest::Url,
    ) -> Result<Response, HttpErrorKind> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut url = url;
        if !request.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &request.query {
                pairs.append_pair(name, value);
            }
        }
        let mut builder = self.client.request(method, url);
        for (name, value) in self.options.headers.iter().chain(&request.headers) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder = match &self.options.auth {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            Auth::Basic { username, password } => {
                builder.basic_auth(username, Some(password.expose()))
            }
        };
        if let Some(body) = &request.body {
            builder = builder
                .header("Content-Type", body.content_type.as_str())
                .body(body.bytes.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|error| self.classify(&error))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = self.read_body(response).await?;
        Ok(Response {
            status,
            content_type,
            body,
        })
    }

    /// The whole body, or [`HttpErrorKind::TooLarge`] as soon as it passes
    /// [`MAX_RESPONSE_BYTES`] (at once when the server declares such a length).
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, HttpErrorKind> {
        if response
            .content_length()
            .is_some_and(|length| length > MAX_RESPONSE_BYTES)
        {
            return Err(HttpErrorKind::TooLarge);
        }
        let mut body = Vec::new();
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|error| match self.classify(&error) {
                    HttpErrorKind::Connect(reason) => HttpErrorKind::Body(reason),
                    other => other,
                })?;
            let Some(chunk) = chunk else {
                return Ok(body);
            };
            if (body.len() + chunk.len()) as u64 > MAX_RESPONSE_BYTES {
                return Err(HttpErrorKind::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
    }

    fn classify(&self, error: &reqwest::Error) -> HttpErrorKind {
        if error.is_timeout() {
            HttpErrorKind::Timeout(self.options.timeout)
        } else if error.is_builder() {
            HttpErrorKind::Setup(error_chain(error))
        } else if error.is_body() || error.is_decode() {
            HttpErrorKind::Body(error_chain(error))
        } else {
            HttpErrorKind::Connect(error_chain(error))
        }
    }
}

/// The innermost causes say what happened ("Connection refused"); reqwest's own text only
/// says "error sending request". URLs are left out: the error prints its own, redacted.
fn error_chain(error: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(error);
    let mut deepest = None;
    while let Some(cause) = source {
        deepest = Some(cause.to_string());
        source = cause.source();
    }
    deepest.unwrap_or_else(|| {
        let text = error.to_string();
        match error.url() {
            Some(url) => text.replace(url.as_str(), &redact_user_info(url.as_str())),
            None => text,
        }
    })
}

/// The wait before retry number `attempt` (1-based): doubling from `initial`, capped.
pub fn backoff(initial: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    initial.saturating_mul(factor).min(MAX_BACKOFF)
}

/// `https://user:pass@host/x` becomes `https://***@host/x`; anything unparsable is kept, as
/// it cannot carry a well-formed credential.
pub fn redact_user_info(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |offset| authority_start + offset);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &url[..authority_start],
            &url[authority_start + at..]
        ),
        None => url.to_string(),
    }
}

fn excerpt(text: &str) -> String {
    let mut kept: String = text.chars().take(ERROR_BODY_EXCERPT_CHARS).collect();
    if kept.len() < text.len() {
        kept.push_str("...");
    }
    kept
}

/// Percent-encodes everything but RFC 3986's unreserved characters: right for a form
/// value and for one URL path segment (rule group names hold `/`).
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

fn status_reason(status: u16) -> Option<&'static str> {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A loopback server answering each connection with the next canned response, recording
    /// the request heads it saw. It stops after the canned responses are used up.
    fn serve(responses: Vec<&'static str>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
        let address = listener.local_addr().expect("bound address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::clone(&seen);
        std::thread::spawn(move || {
            for response in responses {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut buffer = vec![0u8; 8192];
                let read = stream.read(&mut buffer).unwrap_or(0);
                recorder
                    .lock()
                    .expect("no panics while locked")
                    .push(String::from_utf8_lossy(&buffer[..read]).into_owned());
                if response == "HANG" {
                    std::thread::sleep(Duration::from_millis(400));
                    continue;
                }
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (format!("http://{address}"), seen)
    }

    fn quick_options() -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_millis(200),
            retries: 2,
            initial_backoff: Duration::from_millis(1),
            ..ClientOptions::default()
        }
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(future)
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    const UNAVAILABLE: &str =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy";
    const BAD_REQUEST: &str =
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\nConnection: close\r\n\r\nbad query";

    #[test]
    fn a_5xx_is_retried_until_it_succeeds() {
        let (url, seen) = serve(vec![UNAVAILABLE, UNAVAILABLE, OK]);
        let client = HttpClient::new(quick_options()).expect("client");
        let response = run(client.send(&Request::get(format!("{url}/x")))).expect("third try");
        assert_eq!((response.status, response.text().as_str()), (200, "ok"));
        assert_eq!(seen.lock().expect("unpoisoned").len(), 3);
    }

    #[test]
    fn a_4xx_is_returned_at_once_and_send_ok_makes_it_an_error() {
        let (url, seen) = serve(vec![BAD_REQUEST, BAD_REQUEST]);
        let client = HttpClient::new(quick_options()).expect("client");
        let response = run(client.send(&Request::get(format!("{url}/x")))).expect("a response");
        assert_eq!(response.status, 400);
        let error = run(client.send_ok(&Request::get(format!("{url}/y")))).expect_err("400");
        assert_eq!(
            error.to_string(),
            format!("GET {url}/y: HTTP 400 Bad Request: bad query")
        );
        assert_eq!(seen.lock().expect("unpoisoned").len(), 2);
    }

    #[test]
    fn a_body_declared_larger_than_the_limit_is_refused_unread_and_not_retried() {
        const HUGE: &str = "HTTP/1.1 200 OK\r\nContent-Length: 268435457\r\n\r\n{";
        let (url, seen) = serve(vec![HUGE, HUGE]);
        let client = HttpClient::new(quick_options()).expect("client");
        let error = run(client.send(&Request::get(format!("{url}/x")))).expect_err("too large");
        assert_eq!(error.kind, HttpErrorKind::TooLarge);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "GET {url}/x: the response body is larger than 268435456 bytes (256 MiB)"
            )),
            "{message}"
        );
        assert_eq!(seen.lock().expect("unpoisoned").len(), 1);
    }

    #[test]
    fn retries_run_out_with_the_last_status_and_the_attempt_count() {
        let (url, _) = serve(vec![UNAVAILABLE, UNAVAILABLE, UNAVAILABLE]);
        let client = HttpClient::new(quick_options()).expect("client");
        let error = run(client.send(&Request::get(format!("{url}/x")))).expect_err("503s");
        assert_eq!(
            error.to_string(),
            format!("GET {url}/x: HTTP 503 Service Unavailable: busy (after 3 attempts)")
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let (url, _) = serve(vec!["HANG", "HANG", "HANG"]);
        let client = HttpClient::new(quick_options()).expect("client");
        let error = run(client.send(&Request::get(format!("{url}/x")))).expect_err("timeout");
        assert_eq!(
            error.kind,
            HttpErrorKind::Timeout(Duration::from_millis(200))
        );
        assert_eq!(error.attempts, 3);
    }

    #[test]
    fn a_closed_port_is_a_connection_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("loopback port")
            .local_addr()
            .expect("bound address")
            .port();
        let client = HttpClient::new(ClientOptions {
            retries: 0,
            ..quick_options()
        })
        .expect("client");
        let error = run(client.send(&Request::get(format!("http://127.0.0.1:{port}/"))))
            .expect_err("closed");
        assert!(matches!(error.kind, HttpErrorKind::Connect(_)), "{error:?}");
    }

    #[test]
    fn credentials_go_on_the_wire_and_nowhere_else() {
        let (url, seen) = serve(vec![OK, OK]);
        let bearer = HttpClient::new(ClientOptions {
            auth: Auth::Bearer(Secret::new("t0ken")),
            headers: vec![("X-Scope-OrgID".to_string(), "tenant-a".to_string())],
            ..quick_options()
        })
        .expect("client");
        run(bearer.send(&Request::get(format!("{url}/a")))).expect("ok");
        let basic = HttpClient::new(ClientOptions {
            auth: Auth::Basic {
                username: "ops".to_string(),
                password: Secret::new("hunter2"),
            },
            ..quick_options()
        })
        .expect("client");
        run(basic.send(&Request::get(format!("{url}/b")))).expect("ok");
        let seen = seen.lock().expect("unpoisoned");
        assert!(
            seen[0].contains("authorization: Bearer t0ken"),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains("x-scope-orgid: tenant-a"), "{}", seen[0]);
        // base64("ops:hunter2")
        assert!(
            seen[1].contains("authorization: Basic b3BzOmh1bnRlcjI="),
            "{}",
            seen[1]
        );
        let debug = format!("{:?} {:?}", bearer, basic);
        assert!(
            !debug.contains("t0ken") && !debug.contains("hunter2"),
            "{debug}"
        );
    }

    #[test]
    fn query_pairs_and_form_bodies_are_encoded() {
        let (url, seen) = serve(vec![OK, OK]);
        let client = HttpClient::new(quick_options()).expect("client");
        run(client.send(&Request::get(format!("{url}/q")).query("match[]", "up{job=\"a b\"}")))
            .expect("ok");
        run(client.send(&Request::post(format!("{url}/f")).form(&[("query", "sum(x) > 1")])))
            .expect("ok");
        let seen = seen.lock().expect("unpoisoned");
        assert!(
            seen[0].starts_with("GET /q?match%5B%5D=up%7Bjob%3D%22a+b%22%7D HTTP/1.1"),
            "{}",
            seen[0]
        );
        assert!(
            seen[1].ends_with("query=sum%28x%29%20%3E%201"),
            "{}",
            seen[1]
        );
    }

    #[test]
    fn user_info_is_redacted_from_printed_urls() {
        assert_eq!(
            redact_user_info("https://ops:hunter2@prom.example.com:9090/api?x=1"),
            "https://***@prom.example.com:9090/api?x=1"
        );
        assert_eq!(redact_user_info("http://host/path@x"), "http://host/path@x");
        let error = run(HttpClient::new(quick_options())
            .expect("client")
            .send(&Request::get("ftp://ops:hunter2@host/")))
        .expect_err("ftp");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn every_form_of_a_sent_credential_is_redacted() {
        assert_eq!(base64(b"ops:hunter2"), "b3BzOmh1bnRlcjI=");
        assert_eq!(base64(b"ab"), "YWI=");
        let basic = Redactor::for_options(&ClientOptions {
            auth: Auth::Basic {
                username: "ops".to_string(),
                password: Secret::new("hun\"ter 2"),
            },
            headers: vec![("X-Scope-OrgID".to_string(), "tenant-a".to_string())],
            ..ClientOptions::default()
        });
        let echoed = format!(
            "authorization: Basic {}, {{\"password\":\"hun\\\"ter 2\"}}, p=hun%22ter%202, raw hun\"ter 2, x-scope-orgid: tenant-a, {{\"X-Scope-OrgID\":[\"tenant-a\"]}}, tenant-a.yml, user ops",
            base64(b"ops:hun\"ter 2")
        );
        assert_eq!(
            basic.redact(&echoed),
            "authorization: Basic ***, {\"password\":\"***\"}, p=***, raw ***, x-scope-orgid: ***, {\"X-Scope-OrgID\":[\"***\"]}, tenant-a.yml, user ops"
        );
        let bearer = Redactor::for_options(&ClientOptions {
            auth: Auth::Bearer(Secret::new("t0ken")),
            ..ClientOptions::default()
        });
        assert_eq!(bearer.redact("Bearer t0ken t0ken"), "Bearer *** ***");
        assert!(!format!("{bearer:?}").contains("t0ken"));
    }

    #[test]
    fn an_error_body_echoing_the_credentials_is_redacted() {
        const ECHO: &str = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 34\r\nConnection: close\r\n\r\nauthorization: Bearer t0ken-echoed";
        let (url, _) = serve(vec![ECHO]);
        let client = HttpClient::new(ClientOptions {
            auth: Auth::Bearer(Secret::new("t0ken-echoed")),
            ..quick_options()
        })
        .expect("client");
        let error = run(client.send_ok(&Request::get(format!("{url}/x")))).expect_err("401");
        assert_eq!(
            error.to_string(),
            format!("GET {url}/x: HTTP 401 Unauthorized: authorization: Bearer ***")
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let initial = Duration::from_millis(250);
        assert_eq!(backoff(initial, 1), Duration::from_millis(250));
        assert_eq!(backoff(initial, 3), Duration::from_secs(1));
        assert_eq!(backoff(initial, 30), MAX_BACKOFF);
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let error = HttpClient::new(ClientOptions {
            extra_root_certificates_pem: Some(b"not a certificate".to_vec()),
            ..quick_options()
        })
        .expect_err("no PEM");
        assert!(matches!(error.kind, HttpErrorKind::Setup(_)), "{error:?}");
    }
}
