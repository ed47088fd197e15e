//! A tour of `metrics-types`: load a file the Python dashboard wrote, record an event, write it
//! back, and see validation list the findings of an inconsistent copy (which still loads).
//!
//! Run with `cargo run -p agent-metrics-types --example tour`.
#![expect(clippy::print_stdout, reason = "an example shows its results")]

use metrics_types::{
    AgentEvent, DashboardState, EventStatus, Level, Limits, NewAgentEvent, Timestamp,
};

const SAMPLE: &[u8] = include_bytes!("../tests/data/agent_metrics.sample.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut state = DashboardState::from_json(SAMPLE, &Limits::DEFAULT)?;
    println!(
        "loaded {:?}: {} events, {} sessions",
        state.project_name(),
        state.events().len(),
        state.sessions().len()
    );

    let started_at: Timestamp = "2026-02-14T18:00:00+00:00".parse()?;
    let event = AgentEvent::new(NewAgentEvent {
        session_id: "sess-0003".to_owned(),
        input_tokens: 900,
        output_tokens: 400,
        estimated_cost_usd: 0.0117,
        duration_seconds: 12.0,
        model_used: "claude-haiku-4-5".to_owned(),
        ..NewAgentEvent::new("tour-0001", "github", EventStatus::Success, started_at)
    })?;
    println!(
        "record tour-0001: {:?}",
        state.record_event(event.clone(), &Limits::DEFAULT).unwrap()
    );
    println!("record it again:  {:?}", state.record_event(event, &Limits::DEFAULT).unwrap());

    println!(
        "\n{:<8} {:>5} {:>4} {:<10} {:>6} {:>8}",
        "agent", "calls", "xp", "level", "streak", "success"
    );
    for (name, profile) in state.agents() {
        let level = Level::for_xp(profile.xp());
        println!(
            "{name:<8} {:>5} {:>4} {:<10} {:>6} {:>7.0}%",
            profile.total_invocations(),
            profile.xp(),
            level.title(),
            profile.current_streak(),
            profile.success_rate() * 100.0
        );
    }

    let bytes = state.to_json();
    let reloaded = DashboardState::from_json(&bytes, &Limits::DEFAULT)?;
    println!("\nwrote {} bytes; reloaded equal: {}", bytes.len(), reloaded == state);

    let inconsistent =
        String::from_utf8(bytes)?.replace(r#""total_tokens":1300"#, r#""total_tokens":-1300"#);
    // It loads, as the Python dashboard would load it; validation lists what is wrong.
    let inconsistent = DashboardState::load(inconsistent.as_bytes())?;
    match inconsistent.validate(&Limits::DEFAULT) {
        Ok(()) => println!("the inconsistent copy validated (unexpected)"),
        Err(err) => {
            println!("an inconsistent copy loads, with findings:");
            for violation in err.violations() {
                println!("  {violation}");
            }
        }
    }
    Ok(())
}
