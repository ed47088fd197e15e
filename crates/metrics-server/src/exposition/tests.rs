//! Unit tests of the exposition: determinism, types, negotiation.

use super::*;
use metrics_types::{EventInput, Limits, Timestamp};

fn state() -> DashboardState {
    let mut state = DashboardState::new("fleet");
    let now: Timestamp = "2026-02-14T12:00:00+00:00".parse().unwrap();
    for (n, agent) in ["zeta", "alpha", "mid", "alpha"].into_iter().enumerate() {
        let input = EventInput::parse_many(&format!(
            r#"{{"event_id": "e{n}", "agent": "{agent}", "status": "success", "duration": 2}}"#
        ))
        .unwrap()
        .remove(0);
        let _ = state.record_event(input.into_event(now, String::new).unwrap(), &Limits::DEFAULT);
    }
    state
}

#[test]
fn the_same_state_always_gives_the_same_text_agents_in_name_order() {
    let state = state();
    for format in [Format::OpenMetrics, Format::Prometheus] {
        let first = encode(&state, format, None);
        for _ in 0..20 {
            assert_eq!(encode(&state, format, None), first);
        }
        let agents: Vec<&str> = first
            .lines()
            .filter(|line| line.starts_with("agent_metrics_invocations_total{"))
            .map(|line| line.split("agent=\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        assert_eq!(agents, ["alpha", "mid", "zeta"]);
    }
}

#[test]
fn counters_are_typed_under_the_name_each_format_expects() {
    let state = state();
    let open = encode(&state, Format::OpenMetrics, None);
    assert!(open.contains("# TYPE agent_metrics_invocations counter\n"), "{open}");
    assert!(open.contains("# UNIT agent_metrics_duration_seconds seconds\n"), "{open}");
    assert!(open.ends_with("# EOF\n"));
    let classic = encode(&state, Format::Prometheus, None);
    assert!(classic.contains("# TYPE agent_metrics_invocations_total counter\n"), "{classic}");
    assert!(
        classic.contains("agent_metrics_invocations_total{project=\"fleet\",agent=\"alpha\"} 2"),
        "{classic}"
    );
    assert!(!classic.contains("# EOF"));
}

#[test]
fn the_accept_header_chooses_the_format() {
    let prometheus_scraper = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(Format::negotiate(Some(prometheus_scraper)), Format::OpenMetrics);
    assert_eq!(Format::negotiate(Some("text/plain")), Format::Prometheus);
    assert_eq!(Format::negotiate(None), Format::Prometheus);
    assert!(Format::Prometheus.content_type().starts_with("text/plain; version=0.0.4"));
}
