//! Snapshots of every command's human and `--json` output on the Python dashboard's sample
//! store, with the clock fixed.

use insta::assert_snapshot;

use crate::support::TestEnv;

#[test]
fn status() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["status"]).snapshot(), @"
    Agent metrics: agent-status-dashboard
    2 sessions · 12.9k tokens · $0.1161 · 2m 32s of agent time · 5 events stored

    AGENT        LEVEL               XP CALLS  OK% STRK    AVG    COST     LAST
    coding       1 Intern            23     3   67    0  39.3s $0.0882   5m ago
    github       1 Intern            11     1  100    1  15.0s $0.0180  30m ago
    linear       1 Intern            11     1  100    1  18.5s $0.0099   5m ago

    Latest events
    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:45 linear       success     1.1k  $0.0099   18.5s  AI-45
    2026-02-14 17:44 coding       error       3.3k  $0.0297   39.5s  AI-45
    2026-02-14 17:20 github       success     2.0k  $0.0180   15.0s  AI-44
    2026-02-14 17:12 coding       success     3.0k  $0.0270   37.0s  AI-44
    2026-02-14 17:10 coding       success     3.5k  $0.0315   41.5s  AI-44
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["status", "--json", "--limit", "1"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "status",
      "project_name": "agent-status-dashboard",
      "totals": {
        "total_sessions": 2,
        "total_tokens": 12900,
        "total_cost_usd": 0.1161,
        "total_duration_seconds": 151.5,
        "total_invocations": 5,
        "events_stored": 5,
        "sessions_stored": 2,
        "updated_at": "2026-02-14T17:45:12.482113+00:00"
      },
      "agents": [
        {
          "agent_name": "coding",
          "level": 1,
          "level_title": "Intern",
          "xp": 23,
          "total_invocations": 3,
          "successful_invocations": 2,
          "failed_invocations": 1,
          "success_rate": 0.6666666666666666,
          "current_streak": 0,
          "best_streak": 2,
          "total_tokens": 9800,
          "total_cost_usd": 0.0882,
          "total_duration_seconds": 118.0,
          "avg_duration_seconds": 39.333333333333336,
          "last_active": "2026-02-14T17:44:30.100000+00:00"
        },
        {
          "agent_name": "github",
          "level": 1,
          "level_title": "Intern",
          "xp": 11,
          "total_invocations": 1,
          "successful_invocations": 1,
          "failed_invocations": 0,
          "success_rate": 1.0,
          "current_streak": 1,
          "best_streak": 1,
          "total_tokens": 2000,
          "total_cost_usd": 0.018,
          "total_duration_seconds": 15.0,
          "avg_duration_seconds": 15.0,
          "last_active": "2026-02-14T17:20:03+00:00"
        },
        {
          "agent_name": "linear",
          "level": 1,
          "level_title": "Intern",
          "xp": 11,
          "total_invocations": 1,
          "successful_invocations": 1,
          "failed_invocations": 0,
          "success_rate": 1.0,
          "current_streak": 1,
          "best_streak": 1,
          "total_tokens": 1100,
          "total_cost_usd": 0.0099,
          "total_duration_seconds": 18.5,
          "avg_duration_seconds": 18.5,
          "last_active": "2026-02-14T17:45:12.482113+00:00"
        }
      ],
      "latest_events": [
        {
          "event_id": "3f1c2b9e-0005",
          "agent_name": "linear",
          "session_id": "sess-0002",
          "ticket_key": "AI-45",
          "started_at": "2026-02-14T17:44:53.982113+00:00",
          "ended_at": "2026-02-14T17:45:12.482113+00:00",
          "status": "success",
          "input_tokens": 800,
          "output_tokens": 300,
          "total_tokens": 1100,
          "estimated_cost_usd": 0.0099,
          "duration_seconds": 18.5,
          "artifacts": [
            "issue:AI-45"
          ],
          "error_message": "",
          "model_used": "claude-haiku-4-5"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
}

#[test]
fn agents() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["agents"]).snapshot(), @"
    AGENT        LEVEL               XP CALLS  OK% STRK    AVG    COST     LAST
    coding       1 Intern            23     3   67    0  39.3s $0.0882   5m ago
    github       1 Intern            11     1  100    1  15.0s $0.0180  30m ago
    linear       1 Intern            11     1  100    1  18.5s $0.0099   5m ago
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["agents", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "agents",
      "agents": [
        {
          "agent_name": "coding",
          "level": 1,
          "level_title": "Intern",
          "xp": 23,
          "total_invocations": 3,
          "successful_invocations": 2,
          "failed_invocations": 1,
          "success_rate": 0.6666666666666666,
          "current_streak": 0,
          "best_streak": 2,
          "total_tokens": 9800,
          "total_cost_usd": 0.0882,
          "total_duration_seconds": 118.0,
          "avg_duration_seconds": 39.333333333333336,
          "last_active": "2026-02-14T17:44:30.100000+00:00"
        },
        {
          "agent_name": "github",
          "level": 1,
          "level_title": "Intern",
          "xp": 11,
          "total_invocations": 1,
          "successful_invocations": 1,
          "failed_invocations": 0,
          "success_rate": 1.0,
          "current_streak": 1,
          "best_streak": 1,
          "total_tokens": 2000,
          "total_cost_usd": 0.018,
          "total_duration_seconds": 15.0,
          "avg_duration_seconds": 15.0,
          "last_active": "2026-02-14T17:20:03+00:00"
        },
        {
          "agent_name": "linear",
          "level": 1,
          "level_title": "Intern",
          "xp": 11,
          "total_invocations": 1,
          "successful_invocations": 1,
          "failed_invocations": 0,
          "success_rate": 1.0,
          "current_streak": 1,
          "best_streak": 1,
          "total_tokens": 1100,
          "total_cost_usd": 0.0099,
          "total_duration_seconds": 18.5,
          "avg_duration_seconds": 18.5,
          "last_active": "2026-02-14T17:45:12.482113+00:00"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
}

#[test]
fn agent() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["agent", "coding"]).snapshot(), @"
    coding level 1 Intern
      XP           23 (27 to Junior)
      Invocations  3 (2 succeeded, 1 failed, 67% success)
      Streak       0 now, 2 best
      Tokens       9.8k (3.3k per call)
      Cost         $0.0882 ($0.0441 per success)
      Time         1m 58s (39.3s per call)
      Last active  5m ago
      Achievements first_blood
      Strengths    none
      Weaknesses   high_error_rate

    Recent events
    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:44 coding       error       3.3k  $0.0297   39.5s  AI-45
    2026-02-14 17:12 coding       success     3.0k  $0.0270   37.0s  AI-44
    2026-02-14 17:10 coding       success     3.5k  $0.0315   41.5s  AI-44
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["agent", "github", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "agent",
      "agent": {
        "agent_name": "github",
        "level": 1,
        "level_title": "Intern",
        "xp": 11,
        "total_invocations": 1,
        "successful_invocations": 1,
        "failed_invocations": 0,
        "success_rate": 1.0,
        "current_streak": 1,
        "best_streak": 1,
        "total_tokens": 2000,
        "total_cost_usd": 0.018,
        "total_duration_seconds": 15.0,
        "avg_duration_seconds": 15.0,
        "last_active": "2026-02-14T17:20:03+00:00"
      },
      "achievements": [
        "first_blood"
      ],
      "strengths": [
        "fast_execution"
      ],
      "weaknesses": [],
      "recent_events": [
        "3f1c2b9e-0003"
      ],
      "latest_events": [
        {
          "event_id": "3f1c2b9e-0003",
          "agent_name": "github",
          "session_id": "sess-0001",
          "ticket_key": "AI-44",
          "started_at": "2026-02-14T17:19:48+00:00",
          "ended_at": "2026-02-14T17:20:03+00:00",
          "status": "success",
          "input_tokens": 1500,
          "output_tokens": 500,
          "total_tokens": 2000,
          "estimated_cost_usd": 0.018,
          "duration_seconds": 15.0,
          "artifacts": [
            "pr:#12"
          ],
          "error_message": "",
          "model_used": "claude-haiku-4-5"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    assert_snapshot!(env.run(&["agent", "nobody"]).snapshot(), @r#"
    --- stderr ---
    agent-metrics: error: no agent named "nobody" in ./.agent_metrics.json (known: coding, github, linear)
    --- exit 2 ---
    "#);
}

#[test]
fn events() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["events"]).snapshot(), @"
    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:45 linear       success     1.1k  $0.0099   18.5s  AI-45
    2026-02-14 17:44 coding       error       3.3k  $0.0297   39.5s  AI-45
    2026-02-14 17:20 github       success     2.0k  $0.0180   15.0s  AI-44
    2026-02-14 17:12 coding       success     3.0k  $0.0270   37.0s  AI-44
    2026-02-14 17:10 coding       success     3.5k  $0.0315   41.5s  AI-44
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["events", "--agent", "coding", "--status", "error", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "events",
      "events": [
        {
          "event_id": "3f1c2b9e-0004",
          "agent_name": "coding",
          "session_id": "sess-0002",
          "ticket_key": "AI-45",
          "started_at": "2026-02-14T17:43:50.600000+00:00",
          "ended_at": "2026-02-14T17:44:30.100000+00:00",
          "status": "error",
          "input_tokens": 2500,
          "output_tokens": 800,
          "total_tokens": 3300,
          "estimated_cost_usd": 0.0297,
          "duration_seconds": 39.5,
          "artifacts": [],
          "error_message": "tests failed: 2 of 23",
          "model_used": "claude-sonnet-4-5"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    assert_snapshot!(env.run(&["events", "--session", "sess-0001", "--limit", "2"]).snapshot(), @"
    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:20 github       success     2.0k  $0.0180   15.0s  AI-44
    2026-02-14 17:12 coding       success     3.0k  $0.0270   37.0s  AI-44
    --- stderr ---
    --- exit 0 ---
    ");
}

#[test]
fn sessions() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["sessions"]).snapshot(), @"
    #   SESSION        TYPE         STATUS    TOKENS     COST    TIME  AGENTS
    2   sess-0002      continuation error       4.4k  $0.0396  1m 40s  coding,linear
    1   sess-0001      initializer  continue    8.5k  $0.0765 11m 30s  coding,github
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["sessions", "--json", "--limit", "1"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "sessions",
      "sessions": [
        {
          "session_id": "sess-0002",
          "session_number": 2,
          "session_type": "continuation",
          "started_at": "2026-02-14T17:43:40+00:00",
          "ended_at": "2026-02-14T17:45:20+00:00",
          "status": "error",
          "agents_invoked": [
            "coding",
            "linear"
          ],
          "total_tokens": 4400,
          "total_cost_usd": 0.0396,
          "tickets_worked": [
            "AI-45"
          ]
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
}

#[test]
fn check_reports_the_store_and_its_backup() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["check"]).snapshot(), @"
    store   ./.agent_metrics.json: sound (5 events, 2 sessions, 3 agents)
    backup  ./.agent_metrics.json.bak: missing
    lock    ./.agent_metrics.lock: free
    --- stderr ---
    --- exit 0 ---
    ");
    let env = TestEnv::with_two_generations();
    assert_snapshot!(env.run(&["check", "--json"]).snapshot(), @r#"
    {
      "sound": true,
      "main": {
        "path": "./.agent_metrics.json",
        "verdict": "sound",
        "events": 6,
        "sessions": 2,
        "agents": 3
      },
      "backup": {
        "path": "./.agent_metrics.json.bak",
        "verdict": "sound",
        "events": 5,
        "sessions": 2,
        "agents": 3
      },
      "journal": null,
      "lock_free": true,
      "shared_directory": null
    }
    --- stderr ---
    --- exit 0 ---
    "#);
}

#[test]
fn init_and_record() {
    let env = TestEnv::empty();
    assert_snapshot!(env.run(&["init", "--project", "fleet"]).snapshot(), @"
    created ./.agent_metrics.json
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["init"]).snapshot(), @"
    --- stderr ---
    agent-metrics: error: ./.agent_metrics.json already exists; refusing to replace it
    --- exit 2 ---
    ");
    let args = [
        "record",
        "event",
        "--agent",
        "coding",
        "--status",
        "success",
        "--event-id",
        "evt-1",
        "--session",
        "s-1",
        "--ticket",
        "AI-7",
        "--input-tokens",
        "1200",
        "--output-tokens",
        "300",
        "--cost",
        "0.02",
        "--duration",
        "30",
        "--model",
        "claude-sonnet-4-5",
        "--artifact",
        "commit:abc",
        "--artifact",
        "pr:#3",
    ];
    assert_snapshot!(env.run(&args).snapshot(), @"
    evt-1
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&args).snapshot(), @"
    evt-1
    --- stderr ---
    agent-metrics: event evt-1 was already recorded; nothing changed
    --- exit 0 ---
    ");
    let session =
        ["record", "session", "--session", "s-1", "--type", "initializer", "--status", "complete"];
    assert_snapshot!(env.run(&session).snapshot(), @"
    recorded session s-1
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["sessions", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "sessions",
      "sessions": [
        {
          "session_id": "s-1",
          "session_number": 1,
          "session_type": "initializer",
          "started_at": "2026-02-14T17:49:42Z",
          "ended_at": "2026-02-14T17:50:12Z",
          "status": "complete",
          "agents_invoked": [
            "coding"
          ],
          "total_tokens": 1500,
          "total_cost_usd": 0.02,
          "tickets_worked": [
            "AI-7"
          ]
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    assert_snapshot!(env.run(&["events", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "events",
      "events": [
        {
          "event_id": "evt-1",
          "agent_name": "coding",
          "session_id": "s-1",
          "ticket_key": "AI-7",
          "started_at": "2026-02-14T17:49:42Z",
          "ended_at": "2026-02-14T17:50:12Z",
          "status": "success",
          "input_tokens": 1200,
          "output_tokens": 300,
          "total_tokens": 1500,
          "estimated_cost_usd": 0.02,
          "duration_seconds": 30.0,
          "artifacts": [
            "commit:abc",
            "pr:#3"
          ],
          "error_message": "",
          "model_used": "claude-sonnet-4-5"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
}

#[test]
fn record_events_from_standard_input() {
    let env = TestEnv::empty();
    let lines = r#"{"event_id": "a", "agent_name": "coding", "status": "success", "input_tokens": 10, "output_tokens": 5, "ended_at": "2026-02-14T17:00:00Z", "duration_seconds": 4}
{"event_id": "b", "agent": "github", "status": "blocked", "ended_at": "2026-02-14T17:01:00Z"}

{"event_id": "a", "agent_name": "coding", "status": "success", "ended_at": "2026-02-14T17:00:00Z"}
"#;
    assert_snapshot!(env.run_with_stdin(&["record", "event", "--json", "-"], lines).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "recorded",
      "events": [
        {
          "event_id": "a",
          "recorded": true
        },
        {
          "event_id": "b",
          "recorded": true
        },
        {
          "event_id": "a",
          "recorded": false
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    let one = r#"{
        "event_id": "c", "agent_name": "coding", "status": "error", "error_message": "tests failed",
        "started_at": "2026-02-14T17:02:00+00:00", "ended_at": "2026-02-14T17:02:30.5+00:00"
    }"#;
    assert_snapshot!(env.run_with_stdin(&["record", "event", "--json", "-"], one).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "recorded",
      "events": [
        {
          "event_id": "c",
          "recorded": true
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    assert_snapshot!(env.run(&["events"]).snapshot(), @"
    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:02 coding       error          0  $0.0000   30.5s  c
    2026-02-14 17:01 github       blocked        0  $0.0000    0.0s  b
    2026-02-14 17:00 coding       success       15  $0.0000    4.0s  a
    --- stderr ---
    --- exit 0 ---
    ");
}

#[test]
fn record_stream_acknowledges_each_line() {
    let env = TestEnv::empty();
    let input = r#"{"event_id": "s1", "agent_name": "coding", "status": "success", "ended_at": "2026-02-14T17:00:00Z"}
[{"event_id": "s2", "agent_name": "coding", "status": "error", "ended_at": "2026-02-14T17:01:00Z"}, {"event_id": "s3", "agent_name": "github", "status": "success", "ended_at": "2026-02-14T17:02:00Z"}]
{"event_id": "s1", "agent_name": "coding", "status": "success", "ended_at": "2026-02-14T17:00:00Z"}
{"event_id": "s4", "agent_name": "coding", "status": "exploded"}
"#;
    assert_snapshot!(env.run_with_stdin(&["record", "stream"], input).snapshot(), @r#"
    ok s1
    ok s2
    ok s3
    duplicate s1
    invalid line 4: status: unknown status "exploded" (expected success, error, timeout or blocked)
    --- stderr ---
    agent-metrics: error: 1 invalid line(s) were skipped; every other line was recorded and acknowledged
    --- exit 3 ---
    "#);
    assert_eq!(env.run(&["events", "--json"]).json()["events"].as_array().unwrap().len(), 3);
}

#[test]
fn recover_restores_the_backup() {
    let env = TestEnv::with_two_generations();
    let run = env.run(&["recover", "--force"]);
    let normalised = regex_free_aside(&run.snapshot());
    assert_snapshot!(normalised, @"
    restored ./.agent_metrics.json from its backup (asked for over a file that loads); the file it replaced is kept as ./.agent_metrics.json.replaced-[TIMESTAMP]
    --- stderr ---
    --- exit 0 ---
    ");
    assert_eq!(env.run(&["events", "--json"]).json()["events"].as_array().unwrap().len(), 5);
}

#[test]
fn verbose_says_which_file_and_what_was_written() {
    let env = TestEnv::empty();
    let run = env.run(&[
        "-v",
        "record",
        "event",
        "--agent",
        "a",
        "--status",
        "success",
        "--event-id",
        "v1",
    ]);
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("agent-metrics: using ./.agent_metrics.json"), "{}", run.stderr);
    assert!(run.stderr.contains("1 write(s)"), "{}", run.stderr);
}

#[test]
fn help_lists_the_exit_codes() {
    let env = TestEnv::empty();
    let help = env.run(&["--help"]).stdout;
    for line in ["Exit codes:", "4  lock timeout", "6  no store", "AGENT_METRICS_FILE"] {
        assert!(help.contains(line), "{line} missing from:\n{help}");
    }
}

#[test]
fn completions_are_generated() {
    let env = TestEnv::empty();
    for shell in ["bash", "zsh", "fish"] {
        let run = env.run(&["completions", shell]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("agent-metrics"), "{shell}");
        assert!(run.stdout.contains("record"), "{shell}");
    }
}

/// Replaces the timestamp in `.corrupt-YYYYMMDDTHHMMSSZ` names, which depends on the real clock.
pub(crate) fn regex_free_aside(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(idx) = rest.find(".corrupt-").or_else(|| rest.find(".replaced-")) {
        let label_len = if rest[idx..].starts_with(".corrupt-") { 9 } else { 10 };
        out.push_str(&rest[..idx + label_len]);
        rest = &rest[idx + label_len..];
        let stamp_len =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len());
        out.push_str("[TIMESTAMP]");
        rest = &rest[stamp_len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn demo_runs_real_writer_processes_into_a_new_store() {
    let env = TestEnv::empty();
    let run = env.run(&["--dir", ".", "demo", "--agents", "3", "--events", "30"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("3 processes recorded 30 events and 3 sessions"), "{}", run.stderr);
    assert!(run.stdout.starts_with("Agent metrics: demo\n3 sessions"), "{}", run.stdout);
    let agents = env.run(&["agents", "--json"]).json();
    let calls: Vec<u64> = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["total_invocations"].as_u64().unwrap())
        .collect();
    assert_eq!(calls, [10, 10, 10]);
    assert_eq!(env.run(&["check"]).code, 0);
    let again = env.run(&["--dir", ".", "demo"]);
    assert_eq!(again.code, 2, "the demo never writes into an existing store: {}", again.stderr);
}

#[test]
fn human_output_fits_80_columns() {
    let env = TestEnv::with_sample();
    let long = "an-agent-with-a-really-long-name-indeed";
    let args = [
        "record",
        "event",
        "--agent",
        long,
        "--status",
        "success",
        "--ticket",
        "TICKET-WITH-A-LONG-KEY-123",
    ];
    assert_eq!(env.run(&args).code, 0);
    let session = [
        "record",
        "session",
        "--session",
        "a-session-id-that-goes-on-and-on",
        "--type",
        "continuation",
    ];
    assert_eq!(env.run(&[&session[..], &["--status", "complete"]].concat()).code, 0);
    for command in
        [&["status"][..], &["agents"], &["events"], &["sessions"], &["agent", long], &["check"]]
    {
        let run = env.run(command);
        for line in run.stdout.lines() {
            assert!(
                line.chars().count() <= 80,
                "{command:?}: {} columns: {line}",
                line.chars().count()
            );
        }
    }
}

/// Issue 16: the questions an operator asks, as tables and as views.
#[test]
fn reports_tickets_and_sessions() {
    let env = TestEnv::with_sample();
    assert_snapshot!(env.run(&["report", "cost", "--by", "model"]).snapshot(), @"
    MODEL                     EVENTS       COST  SHARE
    claude-sonnet-4-5              3    $0.0882    76%
    claude-haiku-4-5               2    $0.0279    24%
    total                          5    $0.1161   100%
    over the events the store still holds (older ones are evicted; lifetime totals per agent are in `agents`)
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["report", "tokens", "--by", "day", "--since", "2026-02-14T17:30:00Z"]).snapshot(), @"
    DAY (UTC)                 EVENTS     TOKENS  SHARE
    2026-02-14                     2       4.4k   100%
    total                          2       4.4k   100%
    over the events the store still holds (older ones are evicted; lifetime totals per agent are in `agents`)
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["ticket", "AI-44"]).snapshot(), @"
    Ticket AI-44
      Agents    coding, github
      Sessions  sess-0001
      Events    3 (3 success)
      Totals    8.5k tokens · $0.0765 · 1m 34s of agent time
      When      2026-02-14 17:10 to 2026-02-14 17:20 (UTC)

    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:10 coding       success     3.5k  $0.0315   41.5s  AI-44
    2026-02-14 17:12 coding       success     3.0k  $0.0270   37.0s  AI-44
    2026-02-14 17:20 github       success     2.0k  $0.0180   15.0s  AI-44
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["session", "sess-0001"]).snapshot(), @"
    Session sess-0001
      Summary   #1 initializer, continue; it counts 8.5k tokens and $0.0765
      Agents    coding, github
      Tickets   AI-44
      Events    3 (3 success)
      Totals    8.5k tokens · $0.0765 · 1m 34s of agent time
      When      2026-02-14 17:10 to 2026-02-14 17:20 (UTC)

    ENDED (UTC)      AGENT        STATUS    TOKENS     COST    TIME  TICKET / ID
    2026-02-14 17:10 coding       success     3.5k  $0.0315   41.5s  AI-44
    2026-02-14 17:12 coding       success     3.0k  $0.0270   37.0s  AI-44
    2026-02-14 17:20 github       success     2.0k  $0.0180   15.0s  AI-44
    --- stderr ---
    --- exit 0 ---
    ");
    assert_snapshot!(env.run(&["session", "nope"]).snapshot(), @r#"
    --- stderr ---
    agent-metrics: error: no session "nope" (neither a summary nor a stored event) in ./.agent_metrics.json
    --- exit 2 ---
    "#);
    let report = env.run(&["report", "tokens", "--by", "agent", "--json"]).json();
    assert_eq!(
        (report["schema_version"].as_u64(), report["view"].as_str()),
        (Some(1), Some("report"))
    );
    assert_eq!(report["total"]["events"], 5);
    assert_snapshot!(env.run(&["report", "cost", "--by", "ticket", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "report",
      "measure": "cost",
      "by": "ticket",
      "since": null,
      "until": null,
      "rows": [
        {
          "key": "AI-44",
          "events": 3,
          "total_tokens": 8500,
          "total_cost_usd": 0.0765
        },
        {
          "key": "AI-45",
          "events": 2,
          "total_tokens": 4400,
          "total_cost_usd": 0.0396
        }
      ],
      "total": {
        "key": "total",
        "events": 5,
        "total_tokens": 12900,
        "total_cost_usd": 0.1161
      }
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    assert_snapshot!(env.run(&["ticket", "AI-44", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "ticket",
      "ticket_key": "AI-44",
      "agents": [
        "coding",
        "github"
      ],
      "sessions": [
        "sess-0001"
      ],
      "totals": {
        "events": 3,
        "by_status": {
          "success": 3
        },
        "total_tokens": 8500,
        "total_cost_usd": 0.0765,
        "total_duration_seconds": 93.5,
        "first_started_at": "2026-02-14T17:10:00+00:00",
        "last_ended_at": "2026-02-14T17:20:03+00:00"
      },
      "events": [
        {
          "event_id": "3f1c2b9e-0001",
          "agent_name": "coding",
          "session_id": "sess-0001",
          "ticket_key": "AI-44",
          "started_at": "2026-02-14T17:10:00+00:00",
          "ended_at": "2026-02-14T17:10:41.500000+00:00",
          "status": "success",
          "input_tokens": 2400,
          "output_tokens": 1100,
          "total_tokens": 3500,
          "estimated_cost_usd": 0.0315,
          "duration_seconds": 41.5,
          "artifacts": [
            "file:metrics_store.py",
            "commit:9a1b2c3"
          ],
          "error_message": "",
          "model_used": "claude-sonnet-4-5"
        },
        {
          "event_id": "3f1c2b9e-0002",
          "agent_name": "coding",
          "session_id": "sess-0001",
          "ticket_key": "AI-44",
          "started_at": "2026-02-14T17:12:00+00:00",
          "ended_at": "2026-02-14T17:12:37+00:00",
          "status": "success",
          "input_tokens": 2000,
          "output_tokens": 1000,
          "total_tokens": 3000,
          "estimated_cost_usd": 0.027,
          "duration_seconds": 37.0,
          "artifacts": [
            "file:test_metrics_store.py"
          ],
          "error_message": "",
          "model_used": "claude-sonnet-4-5"
        },
        {
          "event_id": "3f1c2b9e-0003",
          "agent_name": "github",
          "session_id": "sess-0001",
          "ticket_key": "AI-44",
          "started_at": "2026-02-14T17:19:48+00:00",
          "ended_at": "2026-02-14T17:20:03+00:00",
          "status": "success",
          "input_tokens": 1500,
          "output_tokens": 500,
          "total_tokens": 2000,
          "estimated_cost_usd": 0.018,
          "duration_seconds": 15.0,
          "artifacts": [
            "pr:#12"
          ],
          "error_message": "",
          "model_used": "claude-haiku-4-5"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    assert_snapshot!(env.run(&["session", "sess-0002", "--json"]).snapshot(), @r#"
    {
      "schema_version": 1,
      "view": "session",
      "session_id": "sess-0002",
      "summary": {
        "session_id": "sess-0002",
        "session_number": 2,
        "session_type": "continuation",
        "started_at": "2026-02-14T17:43:40+00:00",
        "ended_at": "2026-02-14T17:45:20+00:00",
        "status": "error",
        "agents_invoked": [
          "coding",
          "linear"
        ],
        "total_tokens": 4400,
        "total_cost_usd": 0.0396,
        "tickets_worked": [
          "AI-45"
        ]
      },
      "agents": [
        "coding",
        "linear"
      ],
      "tickets": [
        "AI-45"
      ],
      "totals": {
        "events": 2,
        "by_status": {
          "error": 1,
          "success": 1
        },
        "total_tokens": 4400,
        "total_cost_usd": 0.0396,
        "total_duration_seconds": 58.0,
        "first_started_at": "2026-02-14T17:43:50.600000+00:00",
        "last_ended_at": "2026-02-14T17:45:12.482113+00:00"
      },
      "events": [
        {
          "event_id": "3f1c2b9e-0004",
          "agent_name": "coding",
          "session_id": "sess-0002",
          "ticket_key": "AI-45",
          "started_at": "2026-02-14T17:43:50.600000+00:00",
          "ended_at": "2026-02-14T17:44:30.100000+00:00",
          "status": "error",
          "input_tokens": 2500,
          "output_tokens": 800,
          "total_tokens": 3300,
          "estimated_cost_usd": 0.0297,
          "duration_seconds": 39.5,
          "artifacts": [],
          "error_message": "tests failed: 2 of 23",
          "model_used": "claude-sonnet-4-5"
        },
        {
          "event_id": "3f1c2b9e-0005",
          "agent_name": "linear",
          "session_id": "sess-0002",
          "ticket_key": "AI-45",
          "started_at": "2026-02-14T17:44:53.982113+00:00",
          "ended_at": "2026-02-14T17:45:12.482113+00:00",
          "status": "success",
          "input_tokens": 800,
          "output_tokens": 300,
          "total_tokens": 1100,
          "estimated_cost_usd": 0.0099,
          "duration_seconds": 18.5,
          "artifacts": [
            "issue:AI-45"
          ],
          "error_message": "",
          "model_used": "claude-haiku-4-5"
        }
      ]
    }
    --- stderr ---
    --- exit 0 ---
    "#);
    let events = env
        .run(&["events", "--ticket", "AI-44", "--since", "2026-02-14T17:00:00Z", "--json"])
        .json();
    assert!(events["events"].as_array().unwrap().iter().all(|e| e["ticket_key"] == "AI-44"));
}

/// Issue 16: colour follows `--color` and the environment (through anstream), never a guess.
#[test]
fn colour_follows_the_flag_and_the_environment() {
    let env = TestEnv::with_sample();
    let coloured = |args: &[&str], vars: &[(&str, &str)]| {
        let mut command = env.command(args);
        command.env_remove("NO_COLOR");
        for (name, value) in vars {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success());
        output.stdout.contains(&0x1b)
    };
    assert!(!coloured(&["status"], &[]), "a pipe gets no colour by default");
    assert!(coloured(&["--color", "always", "status"], &[]));
    assert!(coloured(&["status"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&["status"], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(!coloured(&["--color", "never", "status"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&["status", "--json"], &[("CLICOLOR_FORCE", "1")]), "JSON is never painted");
}

/// Issue 16: wide characters keep the columns aligned (widths are display columns).
#[test]
fn wide_characters_keep_tables_aligned() {
    use unicode_width::UnicodeWidthStr;
    let env = TestEnv::with_sample();
    for agent in ["日本語エージェント", "短い"] {
        assert_eq!(env.run(&["record", "event", "--agent", agent, "--status", "error"]).code, 0);
    }
    let table = env.run(&["events", "--status", "error", "--limit", "3"]).stdout;
    let columns: Vec<usize> = table
        .lines()
        .map(|line| {
            let at = line.find("error").or_else(|| line.find("STATUS")).unwrap();
            line[..at].width()
        })
        .collect();
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "STATUS starts at different columns: {columns:?}\n{table}"
    );
}
