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
    event_id,agent_name,session_id,ticket_key,started_at,ended_at,status,input_tokens,output_tokens,total_tokens,estimated_cost_usd,duration_seconds,model_used,error_message,artifacts
    3f1c2b9e-0001,coding,sess-0001,AI-44,2026-02-14T17:10:00+00:00,2026-02-14T17:10:41.500000+00:00,success,2400,1100,3500,0.0315,41.5,claude-sonnet-4-5,,file:metrics_store.py;commit:9a1b2c3
    3f1c2b9e-0002,coding,sess-0001,AI-44,2026-02-14T17:12:00+00:00,2026-02-14T17:12:37+00:00,success,2000,1000,3000,0.027,37,claude-sonnet-4-5,,file:test_metrics_store.py
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

#[test]
fn openmetrics_parses_with_a_prometheus_parser() {
    let env = TestEnv::with_sample();
    let run = env.run(&["export", "--format", "openmetrics"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.ends_with("# EOF\n"));
    let lines = run.stdout.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let value = |metric: &str, agent: &str| {
        scrape
            .samples
            .iter()
            .find(|sample| sample.metric == metric && sample.labels.get("agent") == Some(agent))
            .map(|sample| match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("{metric}{{agent={agent}}} missing"))
    };
    assert_eq!(value("agent_metrics_invocations_total", "coding"), 3.0);
    assert_eq!(value("agent_metrics_failed_invocations_total", "coding"), 1.0);
    assert_eq!(value("agent_metrics_tokens_total", "github"), 2000.0);
    assert_eq!(value("agent_metrics_xp", "coding"), 23.0);
    assert_eq!(value("agent_metrics_level", "linear"), 1.0);
    assert!(scrape.docs.contains_key("agent_metrics_invocations"), "HELP lines are parsed");
    assert_snapshot!(run.stdout.lines().take(6).collect::<Vec<_>>().join("\n"), @r#"
    # TYPE agent_metrics_invocations counter
    # HELP agent_metrics_invocations Invocations recorded for the agent.
    agent_metrics_invocations_total{agent="coding"} 3
    agent_metrics_invocations_total{agent="github"} 1
    agent_metrics_invocations_total{agent="linear"} 1
    # TYPE agent_metrics_failed_invocations counter
    "#);
}
