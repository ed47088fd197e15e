//! The routes: the page, `/metrics`, `/healthz`, the JSON views, the live stream and ingest.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_types::view::{
    AgentView, AgentsView, EventQuery, EventsView, GroupBy, Measure, ReportView, SessionView,
    SessionsView, StatusView, TicketView,
};
use metrics_types::{EventInput, EventStatus, RecordOutcome, SessionInput, Timestamp};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::WatchStream;

use crate::App;
use crate::exposition::{Format, Operations, encode};
use crate::ingest::IngestError;

/// All routes over `app`, ready to serve or to nest in another axum router.
pub fn router(app: App) -> Router {
    let limit = app.inner.config.max_body_bytes;
    Router::new()
        .route("/", get(crate::page::index))
        .route("/assets/app.js", get(crate::page::script))
        .route("/assets/style.css", get(crate::page::style))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/status", get(status))
        .route("/api/v1/agents", get(agents))
        .route("/api/v1/agents/{name}", get(agent))
        .route("/api/v1/events", get(events).post(post_events))
        .route("/api/v1/sessions", get(sessions).post(post_session))
        .route("/api/v1/sessions/{id}", get(session))
        .route("/api/v1/tickets/{key}", get(ticket))
        .route("/api/v1/report", get(report))
        .route("/api/v1/stream", get(stream))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::guard::check_request))
        .with_state(app)
}

/// A JSON error body `{"error": message}` with `status`.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// A refused request: its status and the message for its JSON body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad_request(message: String) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status, &self.message)
    }
}

fn json_response(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(err) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    }
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let writes = ["/api/v1/events", "/api/v1/sessions"];
    let allowed = if writes.contains(&uri.path()) { "GET, POST" } else { "GET" };
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{method} is not allowed on {}; it takes {allowed}", uri.path()),
    );
    if let Ok(value) = HeaderValue::from_str(allowed) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such route; see /api/v1/status, /metrics, /healthz")
}

/// `ok` (200), or `degraded` (503) with the problems: the store unreadable (or only its
/// backup readable, or journal damage skipped), its directory not writable, the writer down.
async fn healthz(State(app): State<App>) -> Response {
    let snapshot = app.snapshot();
    let mut problems = app.health_problems();
    problems.extend(snapshot.warning.clone());
    let degraded = !problems.is_empty();
    let body = serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "generation": snapshot.generation,
        "warning": (!problems.is_empty()).then(|| problems.join("; ")),
        "problems": problems,
    });
    let mut response = json_response(&body);
    if degraded {
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    response
}

/// The snapshot's warning and the server's health problems, as the page's banner shows them.
fn banner(app: &App, snapshot: &crate::snapshot::Snapshot) -> Option<String> {
    let mut problems = app.health_problems();
    problems.extend(snapshot.warning.clone());
    (!problems.is_empty()).then(|| problems.join("; "))
}

async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    let format = Format::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let snapshot = app.fresh_snapshot().await;
    let operations = Operations {
        store: app.store_stats(),
        ingest: app.ingest_stats(),
        batch_sizes: &app.inner.ingest.batch_sizes,
        write_seconds: &app.inner.ingest.write_seconds,
        connections: app.inner.connections.stats(),
    };
    let body = encode(&snapshot.state, format, Some(&operations));
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

type Params = Query<HashMap<String, String>>;

/// Refuses parameters a route does not know, so a typo is an error, not a silent no-op.
fn only_known(params: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match params.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(ApiError::bad_request(format!(
            "unknown parameter {key:?}; this route takes {}",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ))),
        None => Ok(()),
    }
}

fn parse_limit(params: &HashMap<String, String>) -> Result<Option<usize>, ApiError> {
    params
        .get("limit")
        .map(|text| {
            text.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("limit {text:?} is not a count")))
        })
        .transpose()
}

/// `since`/`until`: what the CLI's `--since` takes (`Timestamp::parse_when`): an RFC 3339
/// time, a date, or an age such as `1h` or `7d`.
fn parse_time(params: &HashMap<String, String>, key: &str) -> Result<Option<Timestamp>, ApiError> {
    params
        .get(key)
        .map(|text| {
            Timestamp::parse_when(text, Timestamp::now())
                .map_err(|err| ApiError::bad_request(format!("{key}: {err}")))
        })
        .transpose()
}

async fn status(State(app): State<App>, Query(params): Params) -> Result<Response, ApiError> {
    only_known(&params, &["limit"])?;
    let limit = parse_limit(&params)?.unwrap_or(app.inner.config.status_events);
    let snapshot = app.fresh_snapshot().await;
    let mut body = serde_json::to_value(StatusView::of(&snapshot.state, limit)).unwrap_or_default();
    body["generation"] = snapshot.generation.into();
    body["warning"] = banner(&app, &snapshot).into();
    Ok(json_response(&body))
}

async fn agents(State(app): State<App>, Query(params): Params) -> Result<Response, ApiError> {
    only_known(&params, &[])?;
    Ok(json_response(&AgentsView::of(&app.fresh_snapshot().await.state)))
}

async fn agent(State(app): State<App>, Path(name): Path<String>) -> Response {
    let snapshot = app.fresh_snapshot().await;
    match AgentView::of(&snapshot.state, &name, 20) {
        Some(view) => json_response(&view),
        None => error_response(StatusCode::NOT_FOUND, &format!("no agent named {name:?}")),
    }
}

async fn events(State(app): State<App>, Query(params): Params) -> Result<Response, ApiError> {
    only_known(&params, &["agent", "status", "session", "ticket", "since", "until", "limit"])?;
    let mut query = EventQuery::default();
    query.agent = params.get("agent").cloned();
    query.session = params.get("session").cloned();
    query.ticket = params.get("ticket").cloned();
    if let Some(status) = params.get("status") {
        query.status = Some(EventStatus::parse_known(status).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown status {status:?} (expected success, error, timeout or blocked)"
            ))
        })?);
    }
    query.since = parse_time(&params, "since")?;
    query.until = parse_time(&params, "until")?;
    query.limit = Some(parse_limit(&params)?.unwrap_or(100));
    Ok(json_response(&EventsView::of(&app.fresh_snapshot().await.state, &query)))
}

async fn sessions(State(app): State<App>, Query(params): Params) -> Result<Response, ApiError> {
    only_known(&params, &["agent", "limit"])?;
    let limit = parse_limit(&params)?;
    let snapshot = app.fresh_snapshot().await;
    let agent = params.get("agent").map(String::as_str);
    Ok(json_response(&SessionsView::of(&snapshot.state, agent, limit)))
}

async fn session(State(app): State<App>, Path(id): Path<String>) -> Response {
    let snapshot = app.fresh_snapshot().await;
    match SessionView::of(&snapshot.state, &id) {
        Some(view) => json_response(&view),
        None => error_response(StatusCode::NOT_FOUND, &format!("no session {id:?}")),
    }
}

async fn ticket(State(app): State<App>, Path(key): Path<String>) -> Response {
    let snapshot = app.fresh_snapshot().await;
    match TicketView::of(&snapshot.state, &key) {
        Some(view) => json_response(&view),
        None => {
            error_response(StatusCode::NOT_FOUND, &format!("no stored event names ticket {key:?}"))
        }
    }
}

/// `report?measure=cost|tokens&by=agent|model|ticket|day&since=&until=`.
async fn report(State(app): State<App>, Query(params): Params) -> Result<Response, ApiError> {
    only_known(&params, &["measure", "by", "since", "until"])?;
    let measure = match params.get("measure").map(String::as_str) {
        None | Some("cost") => Measure::Cost,
        Some("tokens") => Measure::Tokens,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "measure {other:?}: expected cost or tokens"
            )));
        }
    };
    let by = match params.get("by").map(String::as_str) {
        None | Some("agent") => GroupBy::Agent,
        Some("model") => GroupBy::Model,
        Some("ticket") => GroupBy::Ticket,
        Some("day") => GroupBy::Day,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "by {other:?}: expected agent, model, ticket or day"
            )));
        }
    };
    let mut window = EventQuery::default();
    window.since = parse_time(&params, "since")?;
    window.until = parse_time(&params, "until")?;
    Ok(json_response(&ReportView::of(&app.fresh_snapshot().await.state, measure, by, &window)))
}

/// Server-sent events: `change` with the generation and the file's `updated_at`, once at
/// connection and then at every change; ends when the server stops.
async fn stream(
    State(app): State<App>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let mut closing = app.inner.closing.subscribe();
    let changes = WatchStream::new(app.subscribe()).map(|snapshot| {
        let data = serde_json::json!({
            "generation": snapshot.generation,
            "updated_at": snapshot.state.updated_at().map(|at| at.to_string()),
        });
        Ok(Event::default().event("change").data(data.to_string()))
    });
    let until_closing = async move {
        let _ = closing.wait_for(|closing| *closing).await;
    };
    let stream = StopAt { inner: Box::pin(changes), stop: Box::pin(until_closing) };
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A stream that ends when `stop` resolves (so a graceful shutdown is not held up by
/// open live streams).
struct StopAt<S, F> {
    inner: std::pin::Pin<Box<S>>,
    stop: std::pin::Pin<Box<F>>,
}

impl<S: tokio_stream::Stream, F: std::future::Future> tokio_stream::Stream for StopAt<S, F> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        if self.stop.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        self.inner.as_mut().poll_next(cx)
    }
}

fn ingest_failure(err: IngestError) -> Response {
    match err {
        IngestError::Busy(message) => {
            let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, &message);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        IngestError::Stopped => {
            let mut response =
                error_response(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        IngestError::Rejected(message) => {
            error_response(StatusCode::BAD_REQUEST, &format!("{message}; nothing was recorded"))
        }
        IngestError::Store(message) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &message),
    }
}

/// What a write's body must be, as a hint after a parse error.
const EVENTS_SHAPE: &str = r#"send one JSON object such as {"agent": "coding", "status": "success"}, an array of them, or JSON lines"#;

/// The body as UTF-8, or the JSON error a client can act on.
fn utf8_body(body: &[u8]) -> Result<&str, Box<Response>> {
    std::str::from_utf8(body).map_err(|err| {
        Box::new(error_response(
            StatusCode::BAD_REQUEST,
            &format!(
                "the body is not UTF-8 (byte {}); JSON must be sent as UTF-8; nothing was recorded",
                err.valid_up_to()
            ),
        ))
    })
}

/// One JSON object, an array, or JSON lines; all valid or nothing is recorded.
async fn post_events(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let body = match utf8_body(&body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let inputs = match EventInput::parse_located(body) {
        Ok(inputs) => inputs,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!("{err}; nothing was recorded; {EVENTS_SHAPE}"),
            );
        }
    };
    let max = app.inner.config.max_events_per_request;
    if inputs.len() > max {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("{} events in one request; at most {max}", inputs.len()),
        );
    }
    let now = Timestamp::now();
    let many = inputs.len() > 1;
    let mut events = Vec::with_capacity(inputs.len());
    for (place, input) in inputs {
        match input.into_event(now, new_event_id) {
            Ok(event) => events.push(event),
            Err(err) => {
                let message = if many { format!("{place}: {err}") } else { err.to_string() };
                return error_response(
                    StatusCode::BAD_REQUEST,
                    &format!("{message}; nothing was recorded"),
                );
            }
        }
    }
    match app.inner.ingest.record_events(events).await {
        Ok(reply) => {
            app.store_changed();
            json_response(&reply)
        }
        Err(err) => ingest_failure(err),
    }
}

async fn post_session(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let body = match utf8_body(&body) {
        Ok(body) => body.strip_prefix('\u{feff}').unwrap_or(body),
        Err(response) => return *response,
    };
    let input: SessionInput = match serde_json::from_str(body) {
        Ok(input) => input,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!(
                    r#"the session: {err}; nothing was recorded; send one JSON object such as {{"session_id": "s-1", "session_type": "initializer", "status": "complete"}}"#
                ),
            );
        }
    };
    let session_id = input.session_id.clone();
    match app.inner.ingest.record_session(input).await {
        Ok(outcome) => {
            app.store_changed();
            let recorded = matches!(outcome, RecordOutcome::Recorded { .. });
            json_response(&serde_json::json!({ "session_id": session_id, "recorded": recorded }))
        }
        Err(err) => ingest_failure(err),
    }
}

/// A fresh event id (UUID v4) for an event sent without one.
fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
