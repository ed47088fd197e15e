//! `agent-metrics export`: the state as indented JSON, as CSV (one row per stored event), or
//! as OpenMetrics or Prometheus text (the server's encoder), to standard output or atomically
//! to a file.

use metrics_server::exposition::{Format, encode};
use metrics_types::DashboardState;

use crate::cli::ExportFormat;
use crate::commands::Context;
use crate::error::CliError;

pub(crate) fn run(
    context: &mut Context,
    format: ExportFormat,
    output: Option<&std::path::Path>,
) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let text = render(&loaded.state, format);
    match output {
        None => Ok(text),
        Some(path) => {
            metrics_store::write_file_atomically(path, text.as_bytes())?;
            Ok(String::new())
        }
    }
}

fn render(state: &DashboardState, format: ExportFormat) -> String {
    match format {
        ExportFormat::Json => {
            let mut text = String::from_utf8_lossy(&state.to_json_pretty()).into_owned();
            text.push('\n');
            text
        }
        ExportFormat::Csv => csv(state),
        ExportFormat::Openmetrics => encode(state, Format::OpenMetrics, None),
        ExportFormat::Prometheus => encode(state, Format::Prometheus, None),
    }
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
