//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  internal error (a bug: please report it)
  2  usage error (unknown option, bad value such as an unknown status or negative tokens)
  3  invalid data (malformed input, a damaged store that `check` reports, a newer format)
  4  lock timeout (another writer held the store longer than --lock-timeout)
  5  I/O error (missing directory, permissions, disk full)
  6  no store (a read command found no metrics file)

The store is found from --file, else $AGENT_METRICS_FILE, else --dir/.agent_metrics.json,
else ./.agent_metrics.json.";

/// Record what your AI coding agents did, and see how the fleet is doing.
#[derive(Debug, Parser)]
#[command(name = "agent-metrics", version, after_help = EXIT_CODES, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The metrics file [env: AGENT_METRICS_FILE]
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,
    /// A directory holding .agent_metrics.json (used when no file is given)
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// How long to wait for another writer's lock: seconds (`0.5`) or a duration (`500ms`,
    /// `2s`, `1m`)
    #[arg(long, global = true, value_name = "TIME", default_value = "10s", value_parser = parse_lock_timeout)]
    pub(crate) lock_timeout: std::time::Duration,
    /// How many of the latest events a write keeps (older ones are evicted; the Python
    /// dashboard keeps 500)
    #[arg(long, global = true, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_events: u32,
    /// Say which file is used, and what the store did
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
    /// Colour: `auto` (a terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE
    /// forces it), `always` or `never`
    #[arg(long, global = true, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto)]
    pub(crate) color: ColorArg,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorArg {
    /// Colour on a terminal, as the environment allows
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create an empty store (refuses to replace an existing one)
    Init {
        /// The project name written into the store
        #[arg(long)]
        project: Option<String>,
        /// Start in journal mode: each write appends to NAME.journal, folded into the store
        /// every 64 entries or 2 seconds (see `config --journal`)
        #[arg(long)]
        journal: bool,
    },
    /// Show the store's storage mode, or switch it for every writer
    ///
    /// Journal mode: a write appends one flushed line to NAME.journal instead of rewriting
    /// the store, and a checkpoint folds the journal into the store every 64 entries or 2
    /// seconds. Readers of this tool see every write at once; the Python dashboard sees the
    /// store as of the last checkpoint. Turning it off folds the journal in first.
    Config {
        /// Switch journal mode on or off
        #[arg(long, value_enum, value_name = "on|off")]
        journal: Option<OnOff>,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Fold the journal into the store now (journal mode); repairs a torn or damaged journal
    Checkpoint {
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Record an event or a session
    #[command(subcommand)]
    Record(RecordCommand),
    /// The dashboard: totals, one row per agent, the latest events
    Status {
        #[command(flatten)]
        output: JsonFlag,
        /// How many of the latest events to show
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Keep the status on screen and redraw it whenever the store changes (a terminal
        /// only); `q` or Ctrl-C quits and restores the terminal
        #[arg(long, conflicts_with = "json")]
        watch: bool,
    },
    /// One row per agent
    Agents {
        #[command(flatten)]
        output: JsonFlag,
    },
    /// One agent in detail: profile, badges, recent events
    Agent {
        /// The agent's name
        name: String,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// The stored events, newest first
    Events {
        /// Only this agent's events
        #[arg(long)]
        agent: Option<String>,
        /// Only this session's events
        #[arg(long)]
        session: Option<String>,
        /// Only events with this status
        #[arg(long, value_parser = known(metrics_types::EventStatus::KNOWN, metrics_types::EventStatus::parse_known))]
        status: Option<metrics_types::EventStatus>,
        /// Only this ticket's events
        #[arg(long)]
        ticket: Option<String>,
        /// Only events that ended at or after this time: RFC 3339, a date such as
        /// 2026-12-03 (its UTC midnight), or an age such as `1h`, `30m`, `2d`
        #[arg(long, value_name = "WHEN", value_parser = parse_when)]
        since: Option<metrics_types::Timestamp>,
        /// Only events that ended before this time (as --since)
        #[arg(long, value_name = "WHEN", value_parser = parse_when)]
        until: Option<metrics_types::Timestamp>,
        /// At most this many
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Cost or tokens of the stored events, grouped by agent, model, ticket or day
    Report {
        /// What to add up
        #[arg(value_enum)]
        measure: MeasureArg,
        /// How to group the events
        #[arg(long, value_enum, default_value_t = GroupByArg::Agent)]
        by: GroupByArg,
        /// Only events that ended at or after this time (RFC 3339, a date such as 2026-12-03, or an age such as 7d)
        #[arg(long, value_name = "WHEN", value_parser = parse_when)]
        since: Option<metrics_types::Timestamp>,
        /// Only events that ended before this time (as --since)
        #[arg(long, value_name = "WHEN", value_parser = parse_when)]
        until: Option<metrics_types::Timestamp>,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// One ticket's story: its stored events oldest first, the agents and sessions, totals
    Ticket {
        /// The ticket key, e.g. AI-7
        key: String,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// One session: its summary (once recorded) and its stored events oldest first
    Session {
        /// The session id
        id: String,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// The stored sessions, newest first
    Sessions {
        /// At most this many
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Validate the store and its backup; never modifies anything
    Check {
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Restore the store from its backup (or --from a file), keeping the current file aside
    ///
    /// On a store that loads, restoring the backup would discard the latest write: it is
    /// refused (exit 2, saying what would be discarded) unless --force.
    Recover {
        /// Restore even though the current file loads (it is kept aside as NAME.replaced-*)
        #[arg(long)]
        force: bool,
        /// Restore this file instead of the backup (e.g. a NAME.corrupt-* kept aside); it
        /// must load under the same rules as the store
        #[arg(long, value_name = "FILE")]
        from: Option<std::path::PathBuf>,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Write the state for other tools
    Export {
        /// Output format
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to this file atomically (a temporary file renamed over it, flushed), as
        /// node_exporter's textfile collector needs, instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Serve the live dashboard page, Prometheus /metrics, the JSON API and ingest over the
    /// store, until SIGTERM or Ctrl-C
    ///
    /// Other writers (the CLI, library handles, the Python dashboard) keep writing the same
    /// store; the server sees their writes. Routes: / (the page), /metrics, /healthz,
    /// /api/v1/status, /api/v1/agents, /api/v1/agents/NAME, /api/v1/events,
    /// /api/v1/sessions, /api/v1/sessions/ID, /api/v1/tickets/KEY, /api/v1/report (GET),
    /// /api/v1/events and /api/v1/sessions (POST, Content-Type application/json or
    /// application/x-ndjson, from the server's own origin only), /api/v1/stream
    /// (server-sent events). Requests whose Host is not an IP address, localhost or an
    /// --allowed-host name get 421 (docs/server.md, "Security").
    Serve(ServeArgs),
    /// Several processes record a realistic stream into a new store, then show the status
    ///
    /// The store goes into --dir (or --file), which must not hold a store yet; by default into
    /// a new temporary directory, which is kept so you can explore it.
    Demo {
        /// How many agents (one writer process each)
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
        agents: u16,
        /// Events in total
        #[arg(long, default_value_t = 120)]
        events: u32,
    },
    /// Print a shell completion script
    ///
    /// Where each shell wants the file:
    ///   bash: ~/.local/share/bash-completion/completions/agent-metrics
    ///   zsh:  a directory on $fpath, as _agent-metrics (e.g. ~/.zfunc/_agent-metrics, with
    ///         `fpath=(~/.zfunc $fpath); autoload -U compinit; compinit` in ~/.zshrc)
    ///   fish: ~/.config/fish/completions/agent-metrics.fish
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// One writer process of `demo` (internal)
    #[command(hide = true)]
    DemoWorker {
        #[arg(long)]
        agent: String,
        #[arg(long)]
        events: u32,
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        session: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordCommand {
    /// Record one event (or, with --json -, one or many from standard input in one write)
    Event(EventArgs),
    /// Keep recording from standard input: each line is one JSON event, or a JSON array of
    /// events written together; each is acknowledged on standard output (`ok ID` or
    /// `duplicate ID`) once it is durably stored
    Stream {
        /// After the input ends, print the store's counters as a final `stats {...}` line
        #[arg(long)]
        stats: bool,
    },
    /// Record a session summary
    Session(metrics_types::SessionInput),
}

/// `record event`: the event's fields are `metrics_types::EventInput`'s (one definition for
/// these flags, the JSON input and the server).
#[derive(Debug, Args)]
pub(crate) struct EventArgs {
    /// Without a value: print the result as JSON (the ids, and whether each was new).
    /// With `-`: read the events from standard input as JSON (one object, an array, or one
    /// object per line), all in one write, and print the result as JSON
    #[arg(long, value_name = "-", num_args = 0..=1, default_missing_value = "")]
    pub(crate) json: Option<String>,
    #[command(flatten, next_help_heading = "The event")]
    pub(crate) event: metrics_types::EventInput,
}

/// `--json` for machine-readable output.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct JsonFlag {
    /// Machine-readable JSON output with a stable shape
    #[arg(long)]
    pub(crate) json: bool,
}

/// What `report` adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MeasureArg {
    /// Estimated cost in US dollars
    Cost,
    /// Tokens
    Tokens,
}

/// How `report` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GroupByArg {
    /// By agent
    Agent,
    /// By model
    Model,
    /// By ticket
    Ticket,
    /// By the UTC day the event ended
    Day,
}

impl From<MeasureArg> for metrics_types::view::Measure {
    fn from(arg: MeasureArg) -> Self {
        match arg {
            MeasureArg::Cost => metrics_types::view::Measure::Cost,
            MeasureArg::Tokens => metrics_types::view::Measure::Tokens,
        }
    }
}

impl From<GroupByArg> for metrics_types::view::GroupBy {
    fn from(arg: GroupByArg) -> Self {
        use metrics_types::view::GroupBy;
        match arg {
            GroupByArg::Agent => GroupBy::Agent,
            GroupByArg::Model => GroupBy::Model,
            GroupByArg::Ticket => GroupBy::Ticket,
            GroupByArg::Day => GroupBy::Day,
        }
    }
}

/// A switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnOff {
    /// On
    On,
    /// Off
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// The store's JSON document, indented
    Json,
    /// One row per stored event
    Csv,
    /// OpenMetrics 1.0 text, with `# UNIT` and `# EOF`
    Openmetrics,
    /// Prometheus text 0.0.4 (the classic format)
    Prometheus,
}

/// A parser for the known values of one of the file format's string enums (`EventStatus`,
/// `SessionType`, `SessionStatus`): the values come from `metrics-types`, so the flags, their
/// `--help` and the completions list exactly what the format knows.
fn known<T>(
    values: &'static [T],
    parse: fn(&str) -> Option<T>,
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: StringEnum + Clone + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(values.iter().map(StringEnum::name))
        .try_map(move |text| parse(&text).ok_or_else(|| format!("unknown value {text:?}")))
}

/// The name of a string enum's value, for the parser above.
trait StringEnum {
    fn name(&'static self) -> &'static str;
}

impl StringEnum for metrics_types::EventStatus {
    fn name(&'static self) -> &'static str {
        self.as_str()
    }
}

impl StringEnum for metrics_types::SessionType {
    fn name(&'static self) -> &'static str {
        self.as_str()
    }
}

impl StringEnum for metrics_types::SessionStatus {
    fn name(&'static self) -> &'static str {
        self.as_str()
    }
}

/// `--since`/`--until`: an RFC 3339 time, a date, or an age before now (`90s`, `1h`, `7d`):
/// `Timestamp::parse_when`, the parser the API uses too.
pub(crate) fn parse_when(text: &str) -> Result<metrics_types::Timestamp, String> {
    metrics_types::Timestamp::parse_when(text, crate::clock::now()).map_err(|err| err.to_string())
}

/// `--lock-timeout`: plain seconds (`0.5`) or a duration jiff understands (`500ms`, `2s`,
/// `1m 30s`); never negative, never `nan` or infinite.
fn parse_lock_timeout(text: &str) -> Result<std::time::Duration, String> {
    let refuse = || format!("{text:?} is not a duration (e.g. 0.5, 500ms, 2s, 1m)");
    if let Ok(seconds) = text.trim().parse::<f64>() {
        return std::time::Duration::try_from_secs_f64(seconds).map_err(|_| refuse());
    }
    let duration: jiff::SignedDuration = text.trim().parse().map_err(|_| refuse())?;
    std::time::Duration::try_from(duration).map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser as _;

    use super::{Cli, Command, RecordCommand, parse_lock_timeout, parse_when};

    /// The `record event` flags, parsed as the command line would be.
    fn event_flags(flags: &[&str]) -> metrics_types::EventInput {
        let args = ["agent-metrics", "record", "event"].iter().chain(flags);
        match Cli::try_parse_from(args).unwrap().command {
            Command::Record(RecordCommand::Event(args)) => args.event,
            _ => unreachable!("`record event` parses as a record event"),
        }
    }

    /// The flags are `EventInput`'s fields: every flag lands where the same JSON field does,
    /// so the command line and `--json -` cannot drift apart.
    #[test]
    fn event_flags_and_json_give_the_same_input() {
        let flags = event_flags(&[
            "--agent=coding",
            "--status=error",
            "--session=s-1",
            "--ticket=AI-7",
            "--input-tokens=10",
            "--output-tokens=5",
            "--total-tokens=15",
            "--cost=0.25",
            "--duration=3.5",
            "--model=m-1",
            "--artifact=a",
            "--artifact=b",
            "--error=boom",
            "--event-id=e-1",
            "--started-at=2026-02-14T17:00:00Z",
            "--ended-at=2026-02-14T17:00:03.5Z",
        ]);
        let json = r#"{"agent": "coding", "status": "error", "session": "s-1", "ticket": "AI-7",
            "input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "cost": 0.25,
            "duration": 3.5, "model": "m-1", "artifacts": ["a", "b"], "error_message": "boom",
            "event_id": "e-1", "started_at": "2026-02-14T17:00:00Z",
            "ended_at": "2026-02-14T17:00:03.5Z"}"#;
        let parsed = metrics_types::EventInput::parse_many(json).unwrap();
        assert_eq!(parsed, vec![flags]);
        let least = event_flags(&["--agent=coding", "--status=success"]);
        let parsed =
            metrics_types::EventInput::parse_many(r#"{"agent": "coding", "status": "success"}"#);
        assert_eq!(parsed.unwrap(), vec![least]);
    }

    #[test]
    fn lock_timeouts_read_like_people_write_them() {
        assert_eq!(parse_lock_timeout("0.2"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_lock_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_lock_timeout("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_lock_timeout("1m 30s"), Ok(Duration::from_secs(90)));
        for bad in ["nan", "inf", "-1", "-2s", "soon", ""] {
            assert!(parse_lock_timeout(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn since_and_until_take_a_time_or_an_age() {
        let at = parse_when("2026-02-14T17:00:00Z").unwrap();
        assert_eq!(at.to_string(), "2026-02-14T17:00:00Z");
        let now = crate::clock::now().instant();
        for (age, seconds) in
            [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172_800), ("1h 30m", 5400)]
        {
            let then = parse_when(age).unwrap().instant();
            let back = now.duration_since(then).as_secs();
            assert!((seconds - 5..=seconds).contains(&back), "{age}: {back} s");
        }
        let date = parse_when("2026-12-03").unwrap();
        assert_eq!(
            date.instant().to_string(),
            "2026-12-03T00:00:00Z",
            "a date is its UTC midnight"
        );
        for bad in ["soon", "", "yesterday", "1 fortnight", "2026-13-01", "42"] {
            assert!(parse_when(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

/// The flags of `agent-metrics serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed)
    #[arg(long, value_name = "ADDR", default_value = metrics_server::DEFAULT_LISTEN)]
    pub(crate) listen: std::net::SocketAddr,
    /// File whose first line is the bearer token POST requests must carry; required on
    /// any address but loopback
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<std::path::PathBuf>,
    /// Require the token on reads too (every route but /healthz); needs --token-file
    #[arg(long)]
    pub(crate) token_for_reads: bool,
    /// Another name the server answers to in Host (a reverse proxy's or a DNS name);
    /// repeatable. IP addresses and localhost are always accepted
    #[arg(long, value_name = "NAME")]
    pub(crate) allowed_host: Vec<String>,
    /// Largest request body accepted, in bytes (larger: 413)
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub(crate) max_body: usize,
    /// Seconds a client has to send a request's headers; idle connections close after it
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub(crate) header_timeout: u64,
    /// Most connections open at once (lowered to fit the descriptor limit); at the cap the
    /// oldest idle connection is closed for a new one
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub(crate) max_connections: usize,
}
