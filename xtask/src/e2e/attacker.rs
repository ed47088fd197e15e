//! The browser as the attacker: a hostile page served from another loopback origin
//! (`attacker.html`, from 127.0.0.2) tries a no-cors `fetch` with `text/plain` and with an
//! untyped body, a CORS JSON `fetch`, `sendBeacon`, a `<form enctype="text/plain">` and a
//! form-encoded POST; and a page reached through a foreign `Host` (DNS rebinding, simulated
//! with Chromium's host resolver rules) tries to read `/api/v1/agents`. The store must be
//! unchanged afterwards and the reads must fail.

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::json;

use super::cdp::Browser;
use super::served::Served;
use super::{poll, progress};

/// The attacker's page, with `TARGET` standing for the server's URL.
const PAGE: &str = include_str!("attacker.html");

pub(crate) fn check(server: &Served) -> Result<(), String> {
    let before = event_count(server)?;
    let site = AttackerSite::start(&PAGE.replace("TARGET", &server.url))?;
    let port = server.url.rsplit_once(':').map(|(_, port)| port.to_owned()).unwrap_or_default();
    let rules = "MAP evil.example 127.0.0.1";
    let mut browser =
        Browser::launch_with(1280, 800, &[&format!("--host-resolver-rules={rules}")])?;
    browser.call("Page.enable", json!({}))?;
    browser.call("Page.navigate", json!({ "url": site.url.clone() }))?;
    let done =
        poll(20, || browser.eval("window.__done").ok().filter(|done| done.get("forms").is_some()))
            .ok_or("the attacker page never ran its attempts")?;
    // Let the forms' navigations reach the server (or not) before counting.
    std::thread::sleep(std::time::Duration::from_secs(2));
    progress(&format!("chromium: the cross-origin page's attempts: {done}"));
    if done["cors JSON fetch (needs a preflight)"].as_str().is_some_and(|s| s.starts_with("sent")) {
        return Err(format!("a cross-origin CORS fetch was let through: {done}"));
    }
    let after = event_count(server)?;
    if after != before {
        return Err(format!(
            "a cross-origin page wrote to the store: {before} events before, {after} after"
        ));
    }

    // DNS rebinding: the page's origin is http://evil.example:PORT, which resolves to the
    // server. The server must answer nothing but 421 to that name.
    browser.call(
        "Page.navigate",
        json!({ "url": format!("http://evil.example:{port}/api/v1/agents") }),
    )?;
    let body = poll(10, || {
        browser
            .eval("document.readyState === 'complete' ? document.body.innerText : null")
            .ok()
            .filter(serde_json::Value::is_string)
    })
    .ok_or("the rebinding page never loaded")?;
    let body = body.as_str().unwrap_or_default();
    if body.contains("agent_name") || !body.contains("does not name this server") {
        return Err(format!("a page through a foreign Host read: {body}"));
    }
    let awaited = browser.call(
        "Runtime.evaluate",
        json!({
            "expression": "fetch('/api/v1/agents').then(r => r.text().then(t => r.status + ' ' + t))",
            "awaitPromise": true,
            "returnByValue": true
        }),
    )?;
    let text = awaited["result"]["value"].as_str().unwrap_or_default().to_owned();
    if !text.starts_with("421") || text.contains("agent_name") {
        return Err(format!("a same-origin read from the rebound page got: {text}"));
    }
    progress(&format!(
        "chromium: cross-origin writes refused ({before} events before and after); rebinding read got {}",
        text.chars().take(60).collect::<String>()
    ));
    Ok(())
}

fn event_count(server: &Served) -> Result<usize, String> {
    let events = super::get_json(&format!("{}/api/v1/events?limit=100000", server.url))?;
    Ok(events["events"].as_array().map_or(0, Vec::len))
}

/// The attacker's web server: one page at `/` on 127.0.0.2, every other path 404.
struct AttackerSite {
    url: String,
}

impl AttackerSite {
    fn start(page: &str) -> Result<AttackerSite, String> {
        let listener =
            TcpListener::bind("127.0.0.2:0").map_err(|err| format!("127.0.0.2: {err}"))?;
        let addr = listener.local_addr().map_err(|err| err.to_string())?;
        let page = page.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten().take(64) {
                let mut stream = stream;
                let mut request = [0u8; 4096];
                let read = stream.read(&mut request).unwrap_or(0);
                let found = request[..read].starts_with(b"GET / ");
                let (status, body) =
                    if found { ("200 OK", page.as_str()) } else { ("404 Not Found", "") };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Ok(AttackerSite { url: format!("http://{addr}/") })
    }
}
