//! Tests of the `agent-metrics` binary, run as a real process in a fresh directory.

mod bad_input;
mod commands;
mod completions;
mod concurrency;
mod export;
mod journal;
mod python;
mod reads;
mod serve;
mod support;
mod takeover;
mod tour;
mod watch;
