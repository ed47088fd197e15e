//! The bearer token: writes (and, with `--token-for-reads`, reads) must carry
//! `Authorization: Bearer TOKEN` when the server has a token; compared in constant time.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::api::error_response;

/// The answer to a request that needed the token and did not carry it.
pub(crate) fn token_required() -> Response {
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        "this server requires `Authorization: Bearer <token>` on this request",
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// Whether `headers` carry `Authorization: Bearer EXPECTED`, compared in constant time.
pub(crate) fn carries_token(headers: &HeaderMap, expected: &str) -> bool {
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
