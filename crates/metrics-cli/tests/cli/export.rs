//! `export`: JSON round-trips, CSV has a row per event, OpenMetrics parses with a real parser.

use insta::assert_snapshot;

use crate::support::TestEnv;

#[test]
fn json_is_the_store_itself() {
    let env = TestEnv::with_sample();
    let run = env.run(&["export", "--format", "json"]);
    let exported = run.json();
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.store()).unwrap()).unwrap();
    assert_eq!(exported, stored);
}

#[test]
fn csv_has_a_row_per_event() {
    let env = TestEnv::with_sample();
    let run = env.run(&["export", "--format", "csv"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1 + 5);
    assert_snapshot!(lines[..3].join("\n"), @"
    event_id,agent_name,session_id,ticket_key,started_at,ended_at,status,input_tokens,output_tokens,total_tokens,estimated_cost_usd,duration_seconds,artifacts,error_message,model_used
    3f1c2b9e-0001,coding,sess-0001,AI-44,2026-02-14T17:10:00+00:00,2026-02-14T17:10:41.500000+00:00,success,2400,1100,3500,0.0315,41.5,file:metrics_store.py;commit:9a1b2c3,,claude-sonnet-4-5
    3f1c2b9e-0002,coding,sess-0001,AI-44,2026-02-14T17:12:00+00:00,2026-02-14T17:12:37+00:00,success,2000,1000,3000,0.027,37.0,file:test_metrics_store.py,,claude-sonnet-4-5
    ");
    let args = [
        "record",
        "event",
        "--agent",
        "a",
        "--status",
        "error",
        "--error",
        "boom, \"twice\"",
        "--event-id",
        "q",
    ];
    assert_eq!(env.run(&args).code, 0);
    let run = env.run(&["export", "--format", "csv"]);
    assert!(
        run.stdout.contains(r#","boom, ""twice""","#),
        "fields are quoted by the csv crate: {}",
        run.stdout
    );
}

/// The value of `metric{agent=...}` and its family's type, as a classic parser reads them.
fn sample(scrape: &prometheus_parse::Scrape, metric: &str, agent: &str) -> (f64, &'static str) {
    scrape
        .samples
        .iter()
        .find(|sample| sample.metric == metric && sample.labels.get("agent") == Some(agent))
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(v) => (v, "counter"),
            prometheus_parse::Value::Gauge(v) => (v, "gauge"),
            prometheus_parse::Value::Untyped(v) => (v, "untyped"),
            _ => (f64::NAN, "other"),
        })
        .unwrap_or_else(|| panic!("{metric}{{agent={agent}}} missing"))
}

#[test]
fn prometheus_text_keeps_counter_types_for_a_classic_parser() {
    let env = TestEnv::with_sample();
    let run = env.run(&["export", "--format", "prometheus"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.stdout.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    assert_eq!(sample(&scrape, "agent_metrics_invocations_total", "coding"), (3.0, "counter"));
    assert_eq!(
        sample(&scrape, "agent_metrics_failed_invocations_total", "coding"),
        (1.0, "counter")
    );
    assert_eq!(sample(&scrape, "agent_metrics_tokens_total", "github"), (2000.0, "counter"));
    assert_eq!(sample(&scrape, "agent_metrics_duration_seconds_total", "github").1, "counter");
    assert_eq!(sample(&scrape, "agent_metrics_xp", "coding"), (23.0, "gauge"));
    assert_eq!(sample(&scrape, "agent_metrics_level", "linear"), (1.0, "gauge"));
    let project =
        scrape.samples.iter().find(|s| s.metric == "agent_metrics_sessions_total").unwrap();
    assert!(project.labels.get("project").is_some(), "every sample has the project label");
    assert!(!run.stdout.contains("# EOF"), "the classic format has no EOF marker");
}

#[test]
fn openmetrics_has_units_types_and_the_eof_marker() {
    let env = TestEnv::with_sample();
    let run = env.run(&["export", "--format", "openmetrics"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("# EOF\n"));
    for line in [
        "# TYPE agent_metrics_invocations counter",
        "# UNIT agent_metrics_duration_seconds seconds",
        "# TYPE agent_metrics_duration_seconds counter",
        "# UNIT agent_metrics_cost_usd usd",
        "# UNIT agent_metrics_success_ratio ratio",
        "# TYPE agent_metrics_xp gauge",
    ] {
        assert!(run.stdout.lines().any(|l| l == line), "{line:?} missing from\n{}", run.stdout);
    }
    assert!(
        run.stdout.lines().any(|l| l.starts_with("agent_metrics_invocations_total{")
            && l.contains(r#"agent="coding""#)
            && l.ends_with(" 3.0")),
        "{}",
        run.stdout
    );
}

#[test]
fn export_output_replaces_the_file_whole_and_prints_nothing() {
    let env = TestEnv::with_sample();
    let target = env.dir().join("agent_metrics.prom");
    let run = env.run(&["export", "--format", "prometheus", "--output", target.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let written = std::fs::read_to_string(&target).unwrap();
    assert_eq!(written, env.run(&["export", "--format", "prometheus"]).stdout);
    let missing_dir = env.dir().join("no/such/dir/out.prom");
    let run = env.run(&["export", "--output", missing_dir.to_str().unwrap()]);
    assert_eq!(run.code, 5, "a directory that does not exist is an I/O error: {}", run.stderr);
}
