//! A real headless Chromium loads the dashboard: the store's agents and numbers must be in
//! the rendered DOM, the hostile agent name must be text (no element, no alert), a CLI write
//! must appear without a reload, and the page must fit 1280 px and a phone. Screenshots of
//! both go to the output directory.

use std::path::Path;
use std::time::Instant;

use base64::Engine as _;
use serde_json::json;

use super::cdp::Browser;
use super::served::{HOSTILE, Served};
use super::{poll, progress, write_scratch};

pub(crate) fn check(server: &Served, out: &Path) -> Result<(), String> {
    let mut browser = Browser::launch(1280, 1000)?;
    browser.call("Page.enable", json!({}))?;
    // Any alert (the hostile name run as markup) is recorded where the test can see it.
    browser.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "window.__alerts = 0; window.alert = () => { window.__alerts += 1; };" }),
    )?;
    browser.call("Page.navigate", json!({ "url": format!("{}/", server.url) }))?;
    let rows =
        "Array.from(document.querySelectorAll('#agents tbody td.name')).map(td => td.textContent)";
    let agents = poll(20, || {
        browser.eval(rows).ok().filter(|names| names.as_array().is_some_and(|a| a.len() == 3))
    })
    .ok_or("the agents table never showed the store's three agents")?;
    let expected = json!(["<img src=x onerror=alert(1)>", "coding", "review"]);
    if agents != expected {
        return Err(format!("agents in the DOM: {agents}, expected {expected}"));
    }
    progress(&format!("chromium: agents table {agents}"));
    let hostile = browser.eval(&format!(
        "({{ images: document.querySelectorAll('main img').length, alerts: window.__alerts, text: document.body.innerText.includes({HOSTILE:?}) }})"
    ))?;
    if hostile != json!({ "images": 0, "alerts": 0, "text": true }) {
        return Err(format!("the hostile agent name was not rendered as plain text: {hostile}"));
    }
    // The cards show what the API says (the Prometheus check wrote some events too).
    let status = super::get_json(&format!("{}/api/v1/status", server.url))?;
    let invocations = status["totals"]["total_invocations"].as_u64().unwrap_or_default();
    let totals = browser.eval("document.getElementById('totals').textContent")?;
    let totals = totals.as_str().unwrap_or_default().to_owned();
    for wanted in [
        "Sessions1".to_owned(),
        format!("Invocations{invocations}"),
        "Tokens5,000".to_owned(),
        "Cost$1.11".to_owned(),
        "Agents3".to_owned(),
    ] {
        if !totals.contains(&wanted) {
            return Err(format!("the totals do not show {wanted:?}: {totals:?}"));
        }
    }
    let charts = browser.eval("document.querySelectorAll('.chart svg').length")?;
    if charts != json!(3) {
        return Err(format!("expected 3 charts, found {charts}"));
    }
    // Every agent in the success chart, the one that fails first (coding: 1 error in 3).
    let success_rows = browser.eval(
        "Array.from(document.querySelectorAll('#chart-success text')).filter((_, i) => i % 2 === 0).map(t => t.textContent)",
    )?;
    let success_rows = success_rows.as_array().cloned().unwrap_or_default();
    if success_rows.len() != 3 || success_rows.first() != Some(&json!("coding")) {
        return Err(format!(
            "the success chart should list all 3 agents, worst first: {success_rows:?}"
        ));
    }
    screenshot(&mut browser, &out.join("dashboard-1280.png"))?;

    // A write by another process shows up without a reload.
    let generation = browser.eval("document.body.dataset.generation")?;
    let written = Instant::now();
    server
        .cli(&["record", "event", "--agent", "newcomer", "--status", "success", "--cost", "0.2"])?;
    let seen = poll(10, || {
        browser
            .eval(rows)
            .ok()
            .filter(|names| names.as_array().is_some_and(|a| a.iter().any(|n| n == "newcomer")))
    });
    if seen.is_none() {
        return Err("a CLI write never appeared on the open page".into());
    }
    let took = written.elapsed();
    let reloaded = browser.eval("performance.getEntriesByType('navigation').length")?;
    progress(&format!(
        "chromium: a CLI write appeared after {:.0} ms without a reload (generation {generation} before; navigations {reloaded})",
        took.as_secs_f64() * 1e3
    ));
    if took.as_secs_f64() > 2.0 {
        return Err(format!(
            "the write took {took:?} to appear (live updates should take under a second)"
        ));
    }

    // A phone: the page itself must not scroll sideways (wide tables scroll in their box).
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true }),
    )?;
    let widths = poll(5, || {
        browser
            .eval("[document.documentElement.scrollWidth, window.innerWidth]")
            .ok()
            .filter(|w| w[1] == 390)
    })
    .ok_or("the phone viewport was not applied")?;
    if widths[0].as_u64() > widths[1].as_u64() {
        return Err(format!(
            "on a phone the page is {} px wide for a {} px screen",
            widths[0], widths[1]
        ));
    }
    screenshot(&mut browser, &out.join("dashboard-phone.png"))?;
    Ok(())
}

fn screenshot(browser: &mut Browser, path: &Path) -> Result<(), String> {
    let shot = browser.call(
        "Page.captureScreenshot",
        json!({ "format": "png", "captureBeyondViewport": true }),
    )?;
    let data = shot["data"].as_str().ok_or("no screenshot data")?;
    let png =
        base64::engine::general_purpose::STANDARD.decode(data).map_err(|err| err.to_string())?;
    write_scratch(path, &png)?;
    progress(&format!("chromium: screenshot {}", path.display()));
    Ok(())
}
