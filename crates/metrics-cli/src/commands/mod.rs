//! The commands, one module each, and what they share: the resolved store and the notes
//! printed to standard error.

mod check;
mod demo;
mod export;
mod init;
mod record;
mod report;
mod serve;
mod show;
mod watch;

use std::path::PathBuf;
use std::time::Duration;

use metrics_store::{Loaded, MetricsStore};
use metrics_types::Limits;

use crate::cli::{Command, GlobalArgs, RecordCommand};
use crate::error::CliError;
use crate::style::Painter;

/// What every command needs.
pub(crate) struct Context {
    pub(crate) store_path: PathBuf,
    pub(crate) verbose: bool,
    pub(crate) lock_timeout: Duration,
    pub(crate) max_events: usize,
    pub(crate) painter: Painter,
    /// Lines for standard error, printed before the output.
    pub(crate) notes: Vec<String>,
    /// Whether the user named the store (`--file`, `--dir`, or the environment).
    pub(crate) store_named: bool,
}

impl Context {
    pub(crate) fn new(global: &GlobalArgs) -> Context {
        let store_named = global.file.is_some()
            || global.dir.is_some()
            || std::env::var_os(crate::locate::FILE_ENV).is_some_and(|value| !value.is_empty());
        Context {
            store_path: crate::locate::store_path(global),
            verbose: global.verbose,
            lock_timeout: global.lock_timeout,
            max_events: global.max_events as usize,
            painter: Painter::for_stdout(global.color),
            notes: Vec::new(),
            store_named,
        }
    }

    pub(crate) fn open_store(&mut self) -> Result<MetricsStore, CliError> {
        Ok(self.store_builder().open()?)
    }

    /// The settings every command opens the store with.
    pub(crate) fn store_builder(&mut self) -> metrics_store::StoreBuilder {
        if self.verbose {
            self.notes.push(format!("agent-metrics: using {}", self.store_path.display()));
        }
        let limits = metrics_types::Limits { max_events: self.max_events, ..Limits::DEFAULT };
        MetricsStore::builder(&self.store_path).lock_timeout(self.lock_timeout).limits(limits)
    }

    /// Loads the state for a read command: a missing store is an error; a damaged file shows
    /// its backup, with a note. Never writes.
    pub(crate) fn load_existing(&mut self) -> Result<(MetricsStore, Loaded), CliError> {
        let store = self.open_store()?;
        let exists = [store.path(), store.backup_path()].iter().any(|path| path.exists());
        if !exists {
            return Err(CliError::NoStore { path: self.store_path.clone() });
        }
        let loaded = store.load()?;
        if loaded.state.is_from_newer_format() {
            self.notes.push(format!(
                "agent-metrics: warning: {} has format version {}, newer than this build's {}: shown as read (fields this version does not know are not shown), never rewritten; upgrade agent-metrics",
                store.path().display(),
                loaded.state.version(),
                metrics_types::FORMAT_VERSION
            ));
        }
        if let Some(fallback) = &loaded.fallback {
            self.notes.push(format!("agent-metrics: warning: {fallback}"));
        }
        if let Some(journal) = &loaded.journal {
            self.note_journal(journal);
        }
        Ok((store, loaded))
    }

    /// Notes what a read found wrong in the journal (and, verbose, what it added).
    fn note_journal(&mut self, journal: &metrics_store::JournalReport) {
        let path = journal.path.display();
        for problem in &journal.problems {
            let problem = crate::style::safe(problem);
            self.notes.push(format!(
                "agent-metrics: warning: {path}: {problem}; skipped (the next write keeps the journal aside)"
            ));
        }
        for refused in &journal.refused {
            let refused = crate::style::safe(refused);
            self.notes.push(format!("agent-metrics: warning: {path}: cannot apply {refused}"));
        }
        if journal.restored > 0 {
            self.notes.push(format!(
                "agent-metrics: warning: {} event(s) and session(s) that a write of an older state dropped from the file are shown from its backup; the next write puts them back",
                journal.restored
            ));
        }
        if self.verbose {
            self.notes.push(format!(
                "agent-metrics: {path}: {} applied on top of the store{}",
                crate::style::plural(journal.applied, "entry", "entries"),
                journal.torn_tail.map_or(String::new(), |bytes| format!(
                    ", {bytes} bytes of an unfinished entry ignored"
                ))
            ));
        }
    }

    /// Notes what an update recovered from, if anything.
    pub(crate) fn note_recovery(&mut self, store: &MetricsStore) {
        if let Some(recovery) = store.take_recovery() {
            self.notes.push(format!("agent-metrics: warning: {recovery}"));
        }
        if let Some(shared) = store.shared_directory_warning() {
            self.notes.push(format!("agent-metrics: warning: {shared}"));
        }
        if self.verbose {
            let stats = store.stats();
            self.notes.push(format!(
                "agent-metrics: {} write(s), {} bytes, waited {:.1} ms for the lock",
                stats.writes,
                stats.bytes_written,
                stats.lock_wait_total.as_secs_f64() * 1e3
            ));
        }
    }
}

/// Runs one command, returning what it prints on standard output.
pub(crate) fn run(command: &Command, context: &mut Context) -> Result<String, CliError> {
    match command {
        Command::Init { project, journal } => init::run(context, project.as_deref(), *journal),
        Command::Config { journal, output } => init::config(context, *journal, output.json),
        Command::Checkpoint { output } => init::checkpoint(context, output.json),
        Command::Record(RecordCommand::Event(args)) => record::event(context, args),
        Command::Record(RecordCommand::Session(args)) => record::session(context, args),
        Command::Record(RecordCommand::Stream { stats }) => record::stream(context, *stats),
        Command::Status { watch: true, limit, .. } => watch::run(context, *limit),
        Command::Status { output, limit, .. } => show::status(context, output.json, *limit),
        Command::Agents { output } => show::agents(context, output.json),
        Command::Agent { name, output } => show::agent(context, name, output.json),
        Command::Events { agent, session, status, ticket, since, until, limit, output } => {
            let mut filter = metrics_types::view::EventQuery::default();
            filter.agent.clone_from(agent);
            filter.session.clone_from(session);
            filter.status.clone_from(status);
            filter.ticket.clone_from(ticket);
            (filter.since, filter.until, filter.limit) = (*since, *until, Some(*limit));
            show::events(context, &filter, output.json)
        }
        Command::Sessions { limit, output } => show::sessions(context, *limit, output.json),
        Command::Report { measure, by, since, until, output } => {
            let mut window = metrics_types::view::EventQuery::default();
            (window.since, window.until) = (*since, *until);
            report::report(context, (*measure).into(), (*by).into(), &window, output.json)
        }
        Command::Ticket { key, output } => report::ticket(context, key, output.json),
        Command::Session { id, output } => report::session(context, id, output.json),
        Command::Check { output } => check::check(context, output.json),
        Command::Recover { force, from, output } => {
            check::recover(context, *force, from.as_deref(), output.json)
        }
        Command::Export { format, output } => export::run(context, *format, output.as_deref()),
        Command::Serve(args) => serve::run(context, args),
        Command::Demo { agents, events } => demo::run(context, *agents, *events),
        Command::DemoWorker { agent, events, seed, session } => {
            demo::worker(context, agent, *events, *seed, *session)
        }
        Command::Completions { shell } => Ok(crate::completions::script(*shell)),
    }
}

/// Pretty JSON with a trailing newline.
pub(crate) fn json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
