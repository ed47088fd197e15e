//! A real Prometheus scrapes the server; its query API must return what the store holds,
//! and a value written after it started must show up in it too.

use std::path::Path;
use std::process::{Command, Stdio};

use super::served::Served;
use super::{free_port, get_json, log_file, poll, progress, write_scratch};

pub(crate) fn check(server: &Served, out: &Path) -> Result<(), String> {
    let target = server.url.trim_start_matches("http://");
    let work = tempfile::tempdir().map_err(|err| err.to_string())?;
    let config = work.path().join("prometheus.yml");
    let yaml = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: agent_metrics\n    static_configs:\n      - targets: ['{target}']\n"
    );
    write_scratch(&config, yaml.as_bytes())?;
    let port = free_port()?;
    let log = log_file(&out.join("prometheus.log"))?;
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", work.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|err| format!("cannot start prometheus: {err}"))?;
    let result = queries(server, port);
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    result
}

/// The value of an instant query, when it has exactly one sample.
fn query(port: u16, promql: &str) -> Option<f64> {
    let url = format!("http://127.0.0.1:{port}/api/v1/query?query={}", encode_query(promql));
    let body = get_json(&url).ok()?;
    let result = body["data"]["result"].as_array()?;
    if result.len() != 1 {
        return None;
    }
    result[0]["value"][1].as_str()?.parse().ok()
}

fn expect(port: u16, promql: &str, wanted: f64) -> Result<(), String> {
    let found = poll(60, || query(port, promql).filter(|value| (value - wanted).abs() < 1e-9));
    match found {
        Some(_) => {
            progress(&format!("prometheus: {promql} = {wanted}"));
            Ok(())
        }
        None => Err(format!(
            "prometheus never returned {promql} = {wanted} (last: {:?})",
            query(port, promql)
        )),
    }
}

fn queries(server: &Served, port: u16) -> Result<(), String> {
    expect(port, r#"agent_metrics_invocations_total{agent="coding",project="e2e-fleet"}"#, 3.0)?;
    expect(port, r#"agent_metrics_failed_invocations_total{agent="coding"}"#, 1.0)?;
    expect(port, r#"agent_metrics_cost_usd_total{agent="coding"}"#, 1.0)?;
    expect(port, r#"agent_metrics_duration_seconds_total{agent="review"}"#, 12.0)?;
    expect(port, r#"agent_metrics_sessions_total"#, 1.0)?;
    // The type and unit survive the scrape (OpenMetrics, negotiated).
    let metadata = get_json(&format!(
        "http://127.0.0.1:{port}/api/v1/metadata?metric=agent_metrics_duration_seconds"
    ))?;
    let family = &metadata["data"]["agent_metrics_duration_seconds"][0];
    if family["type"] != "counter" || family["unit"] != "seconds" {
        return Err(format!(
            "prometheus's metadata for agent_metrics_duration_seconds: {metadata}"
        ));
    }
    // A write after Prometheus started is scraped too.
    server.cli(&[
        "record",
        "event",
        "--agent",
        "coding",
        "--status",
        "success",
        "--event-id",
        "after-start",
    ])?;
    expect(port, r#"agent_metrics_invocations_total{agent="coding"}"#, 4.0)?;
    // Events through the server's ingest, so its counters and histograms move.
    for batch in 0..3 {
        let body =
            format!(r#"[{{"agent": "review", "status": "success", "event_id": "http-{batch}"}}]"#);
        let reply = super::http()
            .post(&format!("{}/api/v1/events", server.url))
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|err| err.to_string())?;
        if reply.status() != 200 {
            return Err(format!("POST /api/v1/events: {}", reply.status()));
        }
    }
    expect(port, r#"agent_metrics_ingest_events_total{outcome="recorded"}"#, 3.0)?;
    grafana_queries(port)
}

/// Every query of the example Grafana dashboard runs in Prometheus and returns series.
fn grafana_queries(port: u16) -> Result<(), String> {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/examples/grafana-dashboard.json"))
            .map_err(|err| err.to_string())?;
    let panels = dashboard["panels"].as_array().ok_or("no panels")?;
    let queries: Vec<String> = panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|target| target["expr"].as_str().map(|expr| expr.replace("$project", ".*")))
        .collect();
    for query in &queries {
        let url = format!("http://127.0.0.1:{port}/api/v1/query?query={}", encode_query(query));
        let answered = poll(30, || {
            let body = get_json(&url).ok()?;
            let series = body["data"]["result"].as_array()?.len();
            (body["status"] == "success" && series > 0).then_some(series)
        });
        if answered.is_none() {
            return Err(format!(
                "the Grafana query {query:?} returned no series: {:?}",
                get_json(&url)
            ));
        }
    }
    progress(&format!(
        "prometheus: all {} queries of docs/examples/grafana-dashboard.json return series",
        queries.len()
    ));
    Ok(())
}

/// Percent-encodes a PromQL query for a URL.
fn encode_query(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
