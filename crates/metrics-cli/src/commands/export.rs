//! `agent-metrics export`: the state as indented JSON, as CSV (one row per stored event), or
//! as OpenMetrics text for Prometheus.

use std::fmt::Write;

use metrics_types::{AgentProfile, DashboardState};

use crate::cli::ExportFormat;
use crate::commands::Context;
use crate::error::CliError;

pub(crate) fn run(context: &mut Context, format: ExportFormat) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let state = &loaded.state;
    Ok(match format {
        ExportFormat::Json => {
            let mut text = String::from_utf8_lossy(&state.to_json_pretty()).into_owned();
            text.push('\n');
            text
        }
        ExportFormat::Csv => csv(state),
        ExportFormat::Openmetrics => openmetrics(state),
    })
}

const CSV_HEADER: [&str; 15] = [
    "event_id",
    "agent_name",
    "session_id",
    "ticket_key",
    "started_at",
    "ended_at",
    "status",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "estimated_cost_usd",
    "duration_seconds",
    "model_used",
    "error_message",
    "artifacts",
];

fn csv(state: &DashboardState) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![CSV_HEADER.map(str::to_owned).to_vec()];
    for event in state.events() {
        let optional = |count: Option<u64>| count.map(|n| n.to_string()).unwrap_or_default();
        rows.push(vec![
            event.event_id().to_owned(),
            event.agent_name().to_owned(),
            event.session_id().to_owned(),
            event.ticket_key().to_owned(),
            event.started_at().to_string(),
            event.ended_at().to_string(),
            event.status().to_string(),
            optional(event.input_tokens()),
            optional(event.output_tokens()),
            event.total_tokens().to_string(),
            event.estimated_cost_usd().to_string(),
            event.duration_seconds().to_string(),
            event.model_used().to_owned(),
            event.error_message().to_owned(),
            event.artifacts().join(";"),
        ]);
    }
    for row in rows {
        // Writing CSV into memory cannot fail.
        let _ = writer.write_record(&row);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One metric family: name, type, help, and a value per agent.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&AgentProfile) -> f64,
}

const FAMILIES: [Family; 10] = [
    Family {
        name: "agent_metrics_invocations",
        kind: "counter",
        help: "Invocations recorded for the agent.",
        value: |p| p.total_invocations() as f64,
    },
    Family {
        name: "agent_metrics_failed_invocations",
        kind: "counter",
        help: "Invocations that did not succeed.",
        value: |p| p.failed_invocations() as f64,
    },
    Family {
        name: "agent_metrics_tokens",
        kind: "counter",
        help: "Tokens used.",
        value: |p| p.total_tokens() as f64,
    },
    Family {
        name: "agent_metrics_cost_usd",
        kind: "counter",
        help: "Estimated cost in US dollars.",
        value: AgentProfile::total_cost_usd,
    },
    Family {
        name: "agent_metrics_duration_seconds",
        kind: "counter",
        help: "Wall-clock time of all invocations.",
        value: AgentProfile::total_duration_seconds,
    },
    Family {
        name: "agent_metrics_success_ratio",
        kind: "gauge",
        help: "Successful invocations divided by all invocations.",
        value: AgentProfile::success_rate,
    },
    Family {
        name: "agent_metrics_xp",
        kind: "gauge",
        help: "Experience points.",
        value: |p| p.xp() as f64,
    },
    Family {
        name: "agent_metrics_level",
        kind: "gauge",
        help: "Level from 1 (Intern) to 8 (Fellow).",
        value: |p| p.level() as f64,
    },
    Family {
        name: "agent_metrics_current_streak",
        kind: "gauge",
        help: "Consecutive successes up to the latest invocation.",
        value: |p| p.current_streak() as f64,
    },
    Family {
        name: "agent_metrics_last_active_timestamp_seconds",
        kind: "gauge",
        help: "When the agent's latest invocation ended, as Unix seconds.",
        value: |p| p.last_active().map_or(0.0, |at| at.instant().as_millisecond() as f64 / 1e3),
    },
];

/// OpenMetrics text exposition (<https://prometheus.io/docs/specs/om/open_metrics_spec/>).
fn openmetrics(state: &DashboardState) -> String {
    let mut out = String::new();
    for family in &FAMILIES {
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let suffix = if family.kind == "counter" { "_total" } else { "" };
        for (name, profile) in state.agents() {
            let _ = writeln!(
                out,
                "{}{suffix}{{agent=\"{}\"}} {}",
                family.name,
                escape_label(name),
                (family.value)(profile)
            );
        }
    }
    let project = [
        ("agent_metrics_sessions", "counter", "Sessions recorded.", state.total_sessions() as f64),
        (
            "agent_metrics_events_stored",
            "gauge",
            "Events currently stored (older ones are evicted).",
            state.events().len() as f64,
        ),
    ];
    for (name, kind, help, value) in project {
        let suffix = if kind == "counter" { "_total" } else { "" };
        let _ = writeln!(out, "# TYPE {name} {kind}\n# HELP {name} {help}\n{name}{suffix} {value}");
    }
    out.push_str("# EOF\n");
    out
}

/// Escapes a label value: backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    value.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}
