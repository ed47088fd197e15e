//! The bearer token on writes: `POST` requests must carry `Authorization: Bearer TOKEN`
//! when the server has a token; compared in constant time.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::App;
use crate::api::error_response;

/// Lets a request through when it is a read, or when it carries the server's token.
pub(crate) async fn require_token(
    State(app): State<App>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = app.inner.config.token.as_deref() else {
        return next.run(request).await;
    };
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return next.run(request).await;
    }
    if carries_token(request.headers(), expected) {
        return next.run(request).await;
    }
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        "this server requires `Authorization: Bearer <token>` on writes",
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response.into_response()
}

fn carries_token(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(given) = given.strip_prefix("Bearer ") else {
        return false;
    };
    bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let mut headers = HeaderMap::new();
        assert!(!carries_token(&headers, "s3cret-token-0123"));
        for (value, ok) in [
            ("Bearer s3cret-token-0123", true),
            ("Bearer s3cret-token-012", false),
            ("Bearer s3cret-token-01234", false),
            ("Basic s3cret-token-0123", false),
            ("s3cret-token-0123", false),
        ] {
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(carries_token(&headers, "s3cret-token-0123"), ok, "{value}");
        }
    }
}
