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
            metrics_store::write_file_atomically(path, text.as_bytes())
                .map_err(CliError::ExportFile)?;
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

/// One row per event, one column per field of the file format, in its order
/// (`AgentEvent::field_names`), so a new field is a new column without a change here.
fn csv(state: &DashboardState) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = metrics_types::AgentEvent::field_names().iter().map(|name| (*name).to_owned());
    let mut rows = vec![header.collect::<Vec<_>>()];
    rows.extend(state.events().iter().map(metrics_types::AgentEvent::field_texts));
    for row in rows {
        // Writing CSV into memory cannot fail.
        let _ = writer.write_record(&row);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
