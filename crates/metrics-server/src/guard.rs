//! Who may talk to the server: every request passes [`check_request`] before any route.
//!
//! - **Host** must name this server: an IP literal (DNS rebinding needs a name that a
//!   foreign DNS server answers, so a literal cannot be rebound), `localhost`, or a name given
//!   with `--allowed-host`, with the port the server listens on. Anything else gets 421, so a
//!   page on `evil.example` whose name was rebound to 127.0.0.1 reads and writes nothing.
//! - **Writes** (every method but `GET`, `HEAD`) must come from the server's own origin: an
//!   `Origin` header other than `http://HOST` and `Sec-Fetch-Site` other than `same-origin`
//!   or `none` get 403; a cross-origin preflight (`OPTIONS`) is refused the same way, so a
//!   browser never sends the write it announces.
//! - **A body** must be one of the documented content types (JSON, JSON lines), which no
//!   browser sends cross-origin without a preflight (a form or a no-cors `fetch` can only
//!   send `text/plain`, form encodings, or nothing): others get 415. The body is read within
//!   [`ServerConfig::body_timeout`] (else 408) and up to `max_body_bytes` (else 413).
//! - **The token**, when the server has one, on writes, and on reads too with
//!   `--token-for-reads` (`/healthz` stays open for probes).

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::App;
use crate::api::error_response;

/// The content types a `POST` body may have (parameters such as `charset` are allowed).
pub const ACCEPTED_CONTENT_TYPES: [&str; 3] =
    ["application/json", "application/x-ndjson", "application/jsonl"];

/// The names this server answers to, and the port it listens on.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    port: u16,
    /// Extra names (`--allowed-host`), lowercase, without port.
    allowed: Vec<String>,
}

impl HostPolicy {
    pub(crate) fn new(bound: SocketAddr, allowed: &[String]) -> HostPolicy {
        HostPolicy {
            port: bound.port(),
            allowed: allowed.iter().map(|name| name.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether `host` (a `Host` header value) names this server.
    pub(crate) fn accepts(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        let port_matches = match port {
            Some(port) => port == self.port,
            None => self.port == 80,
        };
        if !port_matches {
            return false;
        }
        let name = name.to_ascii_lowercase();
        name.parse::<IpAddr>().is_ok() || name == "localhost" || self.allowed.contains(&name)
    }
}

/// Splits `name[:port]` or `[v6][:port]`; `None` when the port is not a number.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((name, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((name, None)),
            None => None,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => Some((name, Some(port.parse().ok()?))),
        None => Some((host, None)),
    }
}

/// Why a request is refused before any route sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `Host` does not name this server (421).
    ForeignHost(String),
    /// A write from another origin (403).
    CrossOrigin(String),
    /// A body of a type browsers send without a preflight, or none (415).
    ContentType(String),
}

impl Refusal {
    fn response(&self) -> Response {
        match self {
            Refusal::ForeignHost(host) => error_response(
                StatusCode::MISDIRECTED_REQUEST,
                &format!(
                    "Host {host:?} does not name this server; it answers to IP addresses, localhost and the names given with --allowed-host, on its own port"
                ),
            ),
            Refusal::CrossOrigin(why) => error_response(
                StatusCode::FORBIDDEN,
                &format!(
                    "{why}: this server takes writes only from its own origin; nothing was recorded"
                ),
            ),
            Refusal::ContentType(found) => error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!(
                    "Content-Type {found} is not accepted; send {} (for example curl -H 'Content-Type: application/json'); nothing was recorded",
                    ACCEPTED_CONTENT_TYPES.join(", ")
                ),
            ),
        }
    }
}

/// The checks of the module doc that need only the headers: `Ok` lets the request through.
pub(crate) fn refusal(
    policy: &HostPolicy,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let host = header_text(headers, header::HOST).unwrap_or("");
    if !policy.accepts(host) {
        return Err(Refusal::ForeignHost(host.to_owned()));
    }
    if *method == Method::GET || *method == Method::HEAD {
        return Ok(());
    }
    if let Some(origin) = header_text(headers, header::ORIGIN) {
        let own = format!("http://{host}");
        if !origin.eq_ignore_ascii_case(&own) {
            return Err(Refusal::CrossOrigin(format!("Origin {origin} is not {own}")));
        }
    }
    if let Some(site) = header_text(headers, "sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return Err(Refusal::CrossOrigin(format!("Sec-Fetch-Site is {site}")));
    }
    if *method == Method::POST {
        let content_type = header_text(headers, header::CONTENT_TYPE);
        let essence = content_type
            .map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let accepted =
            essence.as_deref().is_some_and(|essence| ACCEPTED_CONTENT_TYPES.contains(&essence));
        if !accepted {
            let found = content_type.map_or_else(|| "(none)".to_owned(), |v| format!("{v:?}"));
            return Err(Refusal::ContentType(found));
        }
    }
    Ok(())
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The middleware: the header checks, then the token, then the body read in full within the
/// server's time and size limits.
pub(crate) async fn check_request(
    State(app): State<App>,
    request: Request,
    next: Next,
) -> Response {
    let config = &app.inner.config;
    if let Err(refused) = refusal(&app.inner.host_policy, request.method(), request.headers()) {
        tracing::debug!(?refused, method = %request.method(), uri = %request.uri(), "refused");
        return refused.response();
    }
    let is_read = request.method() == Method::GET || request.method() == Method::HEAD;
    let needs_token = !is_read || (config.token_for_reads && request.uri().path() != "/healthz");
    if let Some(expected) = config.token.as_deref()
        && needs_token
        && !crate::auth::carries_token(request.headers(), expected)
    {
        return crate::auth::token_required();
    }
    if is_read {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let limit = config.max_body_bytes;
    let read = tokio::time::timeout(config.body_timeout, axum::body::to_bytes(body, limit)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) if !is_length_limit(&err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!("the body could not be read: {err}; nothing was recorded"),
            );
        }
        Ok(Err(_)) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the body is larger than {limit} bytes (serve --max-body); send fewer events per request; nothing was recorded"
                ),
            );
        }
        Err(_) => {
            let mut response = error_response(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the body did not arrive within {} s; nothing was recorded",
                    config.body_timeout.as_secs()
                ),
            );
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Whether reading a body failed because it passed the size limit.
fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests;
