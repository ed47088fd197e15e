//! `agent-metrics demo`: several real processes (this binary, as hidden `demo-worker`s) record
//! a realistic stream of events and sessions into one new store at once, then `status` shows
//! the result.

use std::process::Command;
use std::time::Instant;

use metrics_store::MetricsStore;
use metrics_types::{
    AgentEvent, EventStatus, NewAgentEvent, NewSessionSummary, SessionStatus, SessionSummary,
    SessionType,
};

use crate::commands::{Context, show};
use crate::error::CliError;

/// Agent names, with how often each fails (per mille) and its typical seconds per call.
const AGENTS: [(&str, u64, f64); 8] = [
    ("coding", 150, 45.0),
    ("github", 40, 12.0),
    ("linear", 20, 9.0),
    ("review", 80, 30.0),
    ("planner", 60, 20.0),
    ("tester", 200, 60.0),
    ("docs", 30, 25.0),
    ("deploy", 120, 90.0),
];

pub(crate) fn run(context: &mut Context, agents: u16, events: u32) -> Result<String, CliError> {
    let demo_error = |message: String| CliError::Demo { message };
    let path = if context.store_named {
        context.store_path.clone()
    } else {
        let dir = tempfile::Builder::new()
            .prefix("agent-metrics-demo-")
            .tempdir()
            .map_err(|err| demo_error(format!("cannot create a temporary directory: {err}")))?
            .keep();
        dir.join(metrics_store::DEFAULT_FILE_NAME)
    };
    if path.exists() {
        return Err(CliError::Usage {
            message: format!(
                "{} already exists; the demo only writes into a new store",
                path.display()
            ),
        });
    }
    context.store_path.clone_from(&path);
    MetricsStore::builder(&path).project_name("demo").open()?.create()?;

    let exe = std::env::current_exe()
        .map_err(|err| demo_error(format!("cannot find this program: {err}")))?;
    let started = Instant::now();
    let agents = usize::from(agents);
    let per_agent =
        |idx: usize| events as usize / agents + usize::from(idx < events as usize % agents);
    let children = (0..agents)
        .map(|idx| {
            Command::new(&exe)
                .arg("--file")
                .arg(&path)
                .args(["demo-worker", "--agent", &agent_name(idx)])
                .args([
                    "--events",
                    &per_agent(idx).to_string(),
                    "--seed",
                    &(idx as u64 + 7).to_string(),
                ])
                .args(["--session", &(idx + 1).to_string()])
                .spawn()
                .map_err(|err| demo_error(format!("cannot start a writer process: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for mut child in children {
        let status =
            child.wait().map_err(|err| demo_error(format!("lost a writer process: {err}")))?;
        if !status.success() {
            return Err(demo_error(format!("a writer process failed ({status})")));
        }
    }
    let elapsed = started.elapsed();
    context.notes.push(format!(
        "agent-metrics demo: {agents} processes recorded {events} events and {} into {} in {:.2}s",
        crate::style::plural(agents, "session", "sessions"),
        path.display(),
        elapsed.as_secs_f64()
    ));
    context.notes.push(format!(
        "explore it with: cargo run --release -p agent-metrics -- --file {} status (or `agent-metrics --file ... status` once installed, see the README)",
        path.display()
    ));
    show::status(context, false, 8)
}

fn agent_name(idx: usize) -> String {
    let (name, _, _) = AGENTS[idx % AGENTS.len()];
    if idx < AGENTS.len() { name.to_owned() } else { format!("{name}-{}", idx / AGENTS.len() + 1) }
}

/// One writer: records `events` events for `agent` (in one session) and then the session.
pub(crate) fn worker(
    context: &mut Context,
    agent: &str,
    events: u32,
    seed: u64,
    session: u32,
) -> Result<String, CliError> {
    let store = context.open_store()?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let (_, fail_per_mille, typical_seconds) = AGENTS
        .iter()
        .copied()
        .find(|(name, _, _)| agent.starts_with(name))
        .unwrap_or(("", 100, 30.0));
    let session_id = format!("demo-session-{session}");
    let now = crate::clock::now();
    // Start far enough back that the last event ends before now.
    let mut clock =
        now.plus_seconds(-f64::from(events) * (typical_seconds * 1.5 + 20.0)).unwrap_or(now);
    let mut recorded: Vec<AgentEvent> = Vec::new();
    for idx in 0..events {
        let status = match rng.u64(0..1000) {
            roll if roll >= fail_per_mille => EventStatus::Success,
            roll if roll % 3 == 0 => EventStatus::Timeout,
            roll if roll % 3 == 1 => EventStatus::Blocked,
            _ => EventStatus::Error,
        };
        let seconds = typical_seconds * (0.5 + rng.f64());
        let (input, output) = (rng.u64(800..6000), rng.u64(200..2000));
        let event = AgentEvent::new(NewAgentEvent {
            session_id: session_id.clone(),
            ticket_key: format!("AI-{}", 40 + rng.u32(0..12)),
            input_tokens: input,
            output_tokens: output,
            estimated_cost_usd: ((input * 3 + output * 15) as f64 / 1e6 * 10_000.0).round()
                / 10_000.0,
            duration_seconds: (seconds * 10.0).round() / 10.0,
            error_message: if status.is_success() {
                String::new()
            } else {
                format!("{status} in step {idx}")
            },
            model_used: "claude-sonnet-4-5".to_owned(),
            artifacts: vec![format!("commit:{:07x}", rng.u32(..))],
            ..NewAgentEvent::new(&format!("demo-{session}-{idx}"), agent, status, clock)
        })
        .map_err(|err| CliError::InvalidInput { message: err.to_string() })?;
        clock = event.ended_at().plus_seconds(rng.f64() * 20.0).unwrap_or(clock);
        let _ = store.record_event(event.clone())?;
        recorded.push(event);
    }
    let first = recorded.first().map_or(now, AgentEvent::started_at);
    let summary = SessionSummary::new(NewSessionSummary {
        session_id,
        session_number: u64::from(session),
        session_type: if session == 1 {
            SessionType::Initializer
        } else {
            SessionType::Continuation
        },
        started_at: first,
        ended_at: recorded.last().map_or(first, AgentEvent::ended_at),
        status: SessionStatus::Complete,
        agents_invoked: vec![agent.to_owned()],
        total_tokens: recorded.iter().map(AgentEvent::total_tokens).sum(),
        total_cost_usd: recorded.iter().map(AgentEvent::estimated_cost_usd).sum(),
        tickets_worked: Vec::new(),
    })
    .map_err(|err| CliError::InvalidInput { message: err.to_string() })?;
    let _ = store.record_session(summary)?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn agent_names_stay_unique_past_the_list() {
        let names: Vec<String> = (0..10).map(super::agent_name).collect();
        assert_eq!(names[0], "coding");
        assert_eq!(names[8], "coding-2");
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }
}
