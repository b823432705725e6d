//! The command line's [`PrometheusApi`]: the one HTTP client pointed at one
//! Prometheus-compatible server, for `backtest --prometheus-url` and
//! `lint --prometheus-url`.
//!
//! Invariants: queries are sent as form-encoded POSTs (Prometheus documents POST for
//! queries too long for a URL); an error keeps the client's message, which never
//! carries a credential, and the status and body start of an error answer.

use std::future::Future;

use super::connection::{ConnectionArgs, ProcessEnvironment};
use super::http::{HttpClient, HttpError, HttpErrorKind, Request};
use crate::prometheus::http_api::{api_time, ApiError, PrometheusApi};

pub struct PrometheusServer {
    client: HttpClient,
    base_url: String,
}

impl PrometheusServer {
    /// A client for the server at `base_url` with the connection flags and environment
    /// (credentials, CA, tenant, timeout, retries).
    pub fn connect(
        connection: &ConnectionArgs,
        base_url: &str,
    ) -> Result<PrometheusServer, String> {
        let options = connection.client_options(&ProcessEnvironment)?;
        let client = HttpClient::new(options).map_err(|error| error.to_string())?;
        Ok(PrometheusServer {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/api/v1/{path}", self.base_url)
    }

    async fn body(&self, request: Request) -> Result<String, ApiError> {
        match self.client.send_ok(&request).await {
            Ok(response) => Ok(response.text()),
            Err(error) => Err(api_error(error)),
        }
    }
}

impl PrometheusApi for PrometheusServer {
    fn instant_query(
        &self,
        query: String,
        at_ms: Option<i64>,
    ) -> impl Future<Output = Result<String, ApiError>> {
        let time = at_ms.map(api_time);
        let mut form = vec![("query", query.as_str())];
        if let Some(time) = &time {
            form.push(("time", time.as_str()));
        }
        let request = Request::post(self.endpoint("query")).form(&form);
        self.body(request)
    }

    fn status_config(&self) -> impl Future<Output = Result<String, ApiError>> {
        self.body(Request::get(self.endpoint("status/config")))
    }
}

fn api_error(error: HttpError) -> ApiError {
    let status = match &error.kind {
        HttpErrorKind::Status { status, body } => Some((*status, body.clone())),
        _ => None,
    };
    ApiError {
        message: error.to_string(),
        status,
    }
}
