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
    let url = format!(
        "http://127.0.0.1:{port}/api/v1/query?query={}",
        promql.replace('{', "%7B").replace('}', "%7D").replace('"', "%22").replace('=', "%3D")
    );
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
    expect(port, r#"agent_metrics_store_writes_total"#, 0.0)?;
    Ok(())
}
