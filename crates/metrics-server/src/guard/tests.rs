//! The header checks of the guard, one rule per test.

use super::*;

fn policy() -> HostPolicy {
    HostPolicy::new("127.0.0.1:9464".parse().unwrap(), &["Metrics.Example.Org".to_owned()])
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(*name, value.parse().unwrap());
    }
    headers
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn host_must_name_this_server_on_its_own_port() {
    let policy = policy();
    for host in [
        "127.0.0.1:9464",
        "localhost:9464",
        "LOCALHOST:9464",
        "[::1]:9464",
        "10.1.2.3:9464",
        "metrics.example.org:9464",
    ] {
        assert!(policy.accepts(host), "{host}");
    }
    for host in [
        "evil.example:9464",
        "evil.example",
        "127.0.0.1:9465",
        "127.0.0.1",
        "localhost",
        "localhost.evil.example:9464",
        "",
        "[::1:9464",
        "127.0.0.1:port",
    ] {
        assert!(!policy.accepts(host), "{host}");
    }
    let on_80 = HostPolicy::new("127.0.0.1:80".parse().unwrap(), &[]);
    assert!(on_80.accepts("localhost") && on_80.accepts("127.0.0.1:80"));
}

#[test]
fn a_foreign_host_is_refused_even_for_reads() {
    let got = refusal(&policy(), &Method::GET, &headers(&[("host", "evil.example:9464")]));
    assert_eq!(got, Err(Refusal::ForeignHost("evil.example:9464".to_owned())));
    let missing = refusal(&policy(), &Method::GET, &HeaderMap::new());
    assert!(matches!(missing, Err(Refusal::ForeignHost(_))));
}

#[test]
fn reads_from_any_origin_pass_the_host_check_alone() {
    let h = headers(&[
        ("host", "127.0.0.1:9464"),
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ]);
    assert_eq!(refusal(&policy(), &Method::GET, &h), Ok(()));
}

#[test]
fn writes_need_the_servers_own_origin() {
    let own = headers(&[("host", "127.0.0.1:9464"), ("origin", "http://127.0.0.1:9464"), JSON]);
    assert_eq!(refusal(&policy(), &Method::POST, &own), Ok(()));
    let none = headers(&[("host", "127.0.0.1:9464"), JSON]);
    assert_eq!(refusal(&policy(), &Method::POST, &none), Ok(()), "curl sends no Origin");
    for origin in
        ["http://127.0.0.2:9464", "http://localhost:9464", "null", "https://127.0.0.1:9464"]
    {
        let h = headers(&[("host", "127.0.0.1:9464"), ("origin", origin), JSON]);
        assert!(
            matches!(refusal(&policy(), &Method::POST, &h), Err(Refusal::CrossOrigin(_))),
            "{origin}"
        );
    }
    let preflight = headers(&[("host", "127.0.0.1:9464"), ("origin", "http://evil.example")]);
    assert!(matches!(
        refusal(&policy(), &Method::OPTIONS, &preflight),
        Err(Refusal::CrossOrigin(_))
    ));
}

#[test]
fn sec_fetch_site_other_than_same_origin_or_none_refuses_a_write() {
    for (site, ok) in
        [("same-origin", true), ("none", true), ("same-site", false), ("cross-site", false)]
    {
        let h = headers(&[("host", "localhost:9464"), ("sec-fetch-site", site), JSON]);
        assert_eq!(refusal(&policy(), &Method::POST, &h).is_ok(), ok, "{site}");
    }
}

#[test]
fn a_post_body_must_be_json_or_json_lines() {
    for (content_type, ok) in [
        ("application/json", true),
        ("application/json; charset=utf-8", true),
        ("Application/JSON", true),
        ("application/x-ndjson", true),
        ("application/jsonl", true),
        ("text/plain", false),
        ("text/plain; charset=utf-8", false),
        ("application/x-www-form-urlencoded", false),
        ("multipart/form-data; boundary=x", false),
        ("application/jsonx", false),
    ] {
        let h = headers(&[("host", "127.0.0.1:9464"), ("content-type", content_type)]);
        assert_eq!(refusal(&policy(), &Method::POST, &h).is_ok(), ok, "{content_type}");
    }
    let none = headers(&[("host", "127.0.0.1:9464")]);
    assert_eq!(
        refusal(&policy(), &Method::POST, &none),
        Err(Refusal::ContentType("(none)".to_owned())),
        "a no-cors fetch of an untyped Blob sends no Content-Type"
    );
}
