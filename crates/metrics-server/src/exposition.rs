//! The store as Prometheus metrics, written by the `prometheus-client` encoder in either
//! text format: OpenMetrics 1.0 (`# UNIT`, counters as `name_total` under `# TYPE name
//! counter`, `# EOF`) or the classic Prometheus text 0.0.4 (counters named `name_total` in
//! their `# TYPE` line too, so the classic parsers keep their type). The CLI's `export
//! --format openmetrics|prometheus` and the server's `/metrics` both call [`encode`].
//!
//! Every sample carries a `project` label (the store's project name); per-agent families
//! add `agent`.

use std::borrow::Cow;

use metrics_store::StoreStats;
use metrics_types::{AgentProfile, DashboardState};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeMetric, prometheus_text, text as openmetrics_text,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::IngestStats;

/// Which text format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
    /// Prometheus text 0.0.4 (`text/plain; version=0.0.4`).
    Prometheus,
}

impl Format {
    /// The format a scraper asks for in its `Accept` header: OpenMetrics when it lists
    /// `application/openmetrics-text` (Prometheus does, first), else the classic text.
    pub fn negotiate(accept: Option<&str>) -> Format {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    /// The `Content-Type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Prometheus => prometheus_text::CONTENT_TYPE,
        }
    }
}

/// What the server adds about itself: the store handle's counters and the ingest path's.
#[derive(Debug, Clone)]
pub struct Operations<'a> {
    /// The serving handle's store counters.
    pub store: StoreStats,
    /// The ingest counters.
    pub ingest: IngestStats,
    /// Requests per group-committed write.
    pub batch_sizes: &'a Histogram,
    /// Seconds per group-committed write.
    pub write_seconds: &'a Histogram,
    /// What the accept loop did (connections accepted, evicted, refused, open).
    pub connections: crate::ConnectionStats,
}

type Labels = Vec<(&'static str, String)>;

/// A per-agent family: name, help, unit, and the value of a profile.
struct AgentFamily {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    counter: bool,
    value: fn(&AgentProfile) -> f64,
}

fn agent_families() -> [AgentFamily; 10] {
    let counter = |name, help, unit, value| AgentFamily { name, help, unit, counter: true, value };
    let gauge = |name, help, unit, value| AgentFamily { name, help, unit, counter: false, value };
    [
        counter(
            "agent_metrics_invocations",
            "Invocations recorded for the agent",
            None,
            |p: &AgentProfile| p.total_invocations() as f64,
        ),
        counter(
            "agent_metrics_failed_invocations",
            "Invocations that did not succeed",
            None,
            |p: &AgentProfile| p.failed_invocations() as f64,
        ),
        counter("agent_metrics_tokens", "Tokens used", None, |p: &AgentProfile| {
            p.total_tokens() as f64
        }),
        counter(
            "agent_metrics_cost",
            "Estimated cost in US dollars",
            Some(Unit::Other("usd".into())),
            AgentProfile::total_cost_usd,
        ),
        counter(
            "agent_metrics_duration",
            "Wall-clock time of all invocations",
            Some(Unit::Seconds),
            AgentProfile::total_duration_seconds,
        ),
        gauge(
            "agent_metrics_success",
            "Successful invocations divided by all invocations",
            Some(Unit::Other("ratio".into())),
            AgentProfile::success_rate,
        ),
        gauge("agent_metrics_xp", "Experience points", None, |p: &AgentProfile| p.xp() as f64),
        gauge(
            "agent_metrics_level",
            "Level from 1 (Intern) to 8 (Fellow)",
            None,
            |p: &AgentProfile| p.level() as f64,
        ),
        gauge(
            "agent_metrics_current_streak",
            "Consecutive successes up to the latest invocation",
            None,
            |p: &AgentProfile| p.current_streak() as f64,
        ),
        gauge(
            "agent_metrics_last_active_timestamp",
            "When the agent's latest invocation ended, as Unix time",
            Some(Unit::Seconds),
            |p: &AgentProfile| {
                p.last_active().map_or(0.0, |at| at.instant().as_millisecond() as f64 / 1e3)
            },
        ),
    ]
}

/// One family whose samples are written in the order given (agents by name), so the
/// same state always gives the same text: a collector, because the crate's `Family` keeps
/// its samples in a hash map.
#[derive(Debug)]
struct Ordered {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    counter: bool,
    samples: Vec<(Labels, f64)>,
}

impl Collector for Ordered {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let kind = if self.counter { MetricType::Counter } else { MetricType::Gauge };
        let mut metric =
            encoder.encode_descriptor(self.name, self.help, self.unit.as_ref(), kind)?;
        for (labels, value) in &self.samples {
            let sample = metric.encode_family(labels)?;
            if self.counter {
                ConstCounter::new(*value).encode(sample)?;
            } else {
                ConstGauge::new(*value).encode(sample)?;
            }
        }
        Ok(())
    }
}

fn project_metric(
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    counter: bool,
    value: f64,
) -> Box<Ordered> {
    Box::new(Ordered { name, help, unit, counter, samples: vec![(Vec::new(), value)] })
}

/// The metrics of `state` (and of the server, when given) in `format`.
pub fn encode(
    state: &DashboardState,
    format: Format,
    operations: Option<&Operations<'_>>,
) -> String {
    let project = [(Cow::Borrowed("project"), Cow::Owned(state.project_name().to_owned()))];
    let mut registry = Registry::with_labels(project.into_iter());
    for family in agent_families() {
        let samples = state
            .agents()
            .iter()
            .map(|(name, profile)| (vec![("agent", name.clone())], (family.value)(profile)))
            .collect();
        let AgentFamily { name, help, unit, counter, .. } = family;
        registry.register_collector(Box::new(Ordered { name, help, unit, counter, samples }));
    }
    let usd = || Some(Unit::Other("usd".into()));
    for metric in [
        project_metric(
            "agent_metrics_sessions",
            "Sessions recorded",
            None,
            true,
            state.total_sessions() as f64,
        ),
        project_metric(
            "agent_metrics_project_tokens",
            "Tokens recorded over all agents",
            None,
            true,
            state.total_tokens() as f64,
        ),
        project_metric(
            "agent_metrics_project_cost",
            "Cost recorded over all agents, in US dollars",
            usd(),
            true,
            state.total_cost_usd(),
        ),
        project_metric(
            "agent_metrics_events_stored",
            "Events currently stored (older ones are evicted)",
            None,
            false,
            state.events().len() as f64,
        ),
    ] {
        registry.register_collector(metric);
    }
    if let Some(operations) = operations {
        register_operations(&mut registry, operations);
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = match format {
        Format::OpenMetrics => openmetrics_text::encode(&mut out, &registry),
        Format::Prometheus => prometheus_text::encode(&mut out, &registry),
    };
    out
}

fn register_operations(registry: &mut Registry, operations: &Operations<'_>) {
    let store = &operations.store;
    let ingest = &operations.ingest;
    let seconds = || Some(Unit::Seconds);
    let metrics = [
        project_metric(
            "agent_metrics_store_writes",
            "Durable writes of the metrics file by the server",
            None,
            true,
            store.writes as f64,
        ),
        project_metric(
            "agent_metrics_store_lock_acquisitions",
            "Times the server took the store's lock",
            None,
            true,
            store.lock_acquisitions as f64,
        ),
        project_metric(
            "agent_metrics_store_lock_wait",
            "Time the server waited for the store's lock",
            seconds(),
            true,
            store.lock_wait_total.as_secs_f64(),
        ),
        project_metric(
            "agent_metrics_store_lock_timeouts",
            "Lock waits that ran out of time",
            None,
            true,
            store.lock_timeouts as f64,
        ),
        project_metric(
            "agent_metrics_store_recoveries",
            "Recoveries of a damaged or missing file",
            None,
            true,
            store.recoveries as f64,
        ),
        project_metric(
            "agent_metrics_store_journal_appends",
            "Entries appended to the journal",
            None,
            true,
            store.journal_appends as f64,
        ),
        project_metric(
            "agent_metrics_store_checkpoints",
            "Journal checkpoints",
            None,
            true,
            store.checkpoints as f64,
        ),
        project_metric(
            "agent_metrics_ingest_requests",
            "Event requests acknowledged",
            None,
            true,
            ingest.requests as f64,
        ),
        project_metric(
            "agent_metrics_ingest_batches",
            "Group-committed writes for event requests",
            None,
            true,
            ingest.batches as f64,
        ),
        project_metric(
            "agent_metrics_ingest_failures",
            "Event requests that failed (busy, refused, store errors)",
            None,
            true,
            ingest.failures as f64,
        ),
        project_metric(
            "agent_metrics_server_connections_accepted",
            "Connections the server accepted",
            None,
            true,
            operations.connections.accepted as f64,
        ),
        project_metric(
            "agent_metrics_server_connections_evicted",
            "Idle connections closed to make room at the connection cap",
            None,
            true,
            operations.connections.evicted as f64,
        ),
        project_metric(
            "agent_metrics_server_connections_refused",
            "Connections answered 503 because every open one was busy at the cap",
            None,
            true,
            operations.connections.refused_busy as f64,
        ),
        project_metric(
            "agent_metrics_server_connections_open",
            "Connections open now",
            None,
            false,
            operations.connections.open as f64,
        ),
    ];
    for metric in metrics {
        registry.register_collector(metric);
    }
    registry.register_collector(Box::new(Ordered {
        name: "agent_metrics_ingest_events",
        help: "Events received, by what became of them",
        unit: None,
        counter: true,
        samples: vec![
            (vec![("outcome", "recorded".to_owned())], ingest.events_recorded as f64),
            (vec![("outcome", "duplicate".to_owned())], ingest.events_duplicate as f64),
        ],
    }));
    registry.register(
        "agent_metrics_ingest_batch_requests",
        "Requests per group-committed write",
        operations.batch_sizes.clone(),
    );
    registry.register_with_unit(
        "agent_metrics_ingest_write",
        "Time of each group-committed write (lock, append or replace, flush)",
        Unit::Seconds,
        operations.write_seconds.clone(),
    );
}

#[cfg(test)]
mod tests;
