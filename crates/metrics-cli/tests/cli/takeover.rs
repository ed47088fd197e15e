//! A write never takes over a file that never was a store, and never follows a symbolic
//! link someone else could have planted (issue 24): refused with exit 3 before anything at
//! any path changes; the lock file gets the data file's mode.

#![expect(clippy::disallowed_methods, reason = "the tests plant foreign files, not store data")]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::TestEnv;

const RECORD: [&str; 6] = ["record", "event", "--agent", "a", "--status", "success"];

fn refused_and_untouched(env: &TestEnv, args: &[&str], wanted: &str) {
    let before = env.listing();
    let run = env.run(args);
    assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
    assert!(run.stderr.contains(wanted), "{args:?}: {}", run.stderr);
    assert_eq!(env.listing(), before, "{args:?} changed a file");
}

#[test]
fn a_text_or_binary_file_at_the_store_path_is_refused_on_reads_and_writes() {
    let env = TestEnv::empty();
    std::fs::write(env.dir().join("notes.txt"), "my precious notes\n").unwrap();
    std::fs::write(env.dir().join("a.out"), b"\x7fELF\x02\x01\x01\0\0\0\0\0binary").unwrap();
    std::fs::write(env.dir().join("package.json"), r#"{"version": 3, "name": "x"}"#).unwrap();
    for file in ["notes.txt", "a.out", "package.json"] {
        for args in [&RECORD[..], &["status"], &["recover"], &["checkpoint"]] {
            let mut full = vec!["--file", file];
            full.extend_from_slice(args);
            refused_and_untouched(&env, &full, "is not a metrics store");
        }
    }
}

#[test]
fn a_damaged_store_is_still_recovered_and_kept_aside() {
    // Cut short, no backup and no lock file yet: its bytes say it is a store.
    let env = TestEnv::empty();
    std::fs::write(env.store(), r#"{"version": 1, "project_name": "p", "created_at": "20"#)
        .unwrap();
    let run = env.run(&RECORD);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("kept as"), "{}", run.stderr);
    // Garbage, but a lock file beside it says a store lived here.
    let env = TestEnv::empty();
    std::fs::write(env.store(), "garbage").unwrap();
    std::fs::write(env.dir().join(".agent_metrics.lock"), "").unwrap();
    assert_eq!(env.run(&RECORD).code, 0);
}

#[test]
fn a_dangling_link_is_refused_even_with_a_good_backup_beside_it() {
    let env = TestEnv::empty();
    assert_eq!(env.run(&RECORD).code, 0);
    std::fs::rename(env.store(), env.dir().join("moved.json")).unwrap();
    std::os::unix::fs::symlink("nowhere/.agent_metrics.json", env.store()).unwrap();
    refused_and_untouched(&env, &RECORD, "does not exist");
    refused_and_untouched(&env, &["status"], "does not exist");
    assert!(!env.dir().join("nowhere").exists());
}

#[test]
fn a_link_of_ours_in_our_own_directory_is_followed() {
    let env = TestEnv::empty();
    std::fs::create_dir(env.dir().join("real")).unwrap();
    std::fs::set_permissions(env.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(env.run(&["--dir", "real", "init", "--project", "p"]).code, 0);
    std::os::unix::fs::symlink("real/.agent_metrics.json", env.store()).unwrap();
    let run = env.run(&RECORD);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(env.store().symlink_metadata().unwrap().file_type().is_symlink(), "still a link");
}

#[test]
#[cfg_attr(
    no_runuser_as_root,
    ignore = "planting a link as another user needs root and runuser (runuser -u nobody)"
)]
fn a_link_planted_by_another_user_in_a_sticky_directory_is_not_followed() {
    let env = TestEnv::empty();
    let shared = env.dir().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::set_permissions(env.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let victim = env.dir().join("victim.conf");
    std::fs::write(&victim, "root's file\n").unwrap();
    let planted = Command::new("runuser")
        .args(["-u", "nobody", "--", "ln", "-s"])
        .arg(&victim)
        .arg(shared.join(".agent_metrics.json"))
        .status()
        .unwrap();
    assert!(planted.success());
    let run =
        env.run(&["--dir", "shared", "record", "event", "--agent", "a", "--status", "success"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("refusing to follow the symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root's file\n");
    let beside: Vec<_> =
        std::fs::read_dir(env.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside.len(), 2, "no backup or lock beside the victim: {beside:?}");
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 1, "nothing beside the link");
}

#[test]
fn the_lock_file_gets_the_data_files_mode_and_a_looser_one_is_narrowed() {
    let env = TestEnv::empty();
    assert_eq!(env.run(&RECORD).code, 0);
    let lock = env.dir().join(".agent_metrics.lock");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.store()), 0o600);
    assert_eq!(mode(&lock), 0o600, "a new store's lock file is the owner's only");
    // The Python dashboard creates its lock file 0644; the next write of ours narrows it.
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(env.run(&RECORD).code, 0);
    assert_eq!(mode(&lock), 0o600);
    // A store shared with a group keeps its group's access to the lock.
    std::fs::set_permissions(env.store(), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::remove_file(&lock).unwrap();
    assert_eq!(env.run(&RECORD).code, 0);
    assert_eq!(mode(&lock), 0o640, "the group that reads the data may take the lock");
}

#[test]
fn a_directory_writable_by_others_draws_a_warning_on_writes_and_in_check() {
    let env = TestEnv::empty();
    std::fs::set_permissions(env.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = env.run(&RECORD);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("writable by other users"), "{}", run.stderr);
    assert!(env.run(&["check"]).stdout.contains("finding: the store's directory"));
    std::fs::set_permissions(env.dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!env.run(&RECORD).stderr.contains("writable by other users"));
}

#[test]
fn our_own_link_in_a_directory_others_may_write_is_not_followed() {
    let env = TestEnv::empty();
    assert_eq!(env.run(&["--dir", ".", "init", "--project", "p"]).code, 0);
    let shared = env.dir().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::os::unix::fs::symlink(env.store(), shared.join(".agent_metrics.json")).unwrap();
    let run =
        env.run(&["--dir", "shared", "record", "event", "--agent", "a", "--status", "success"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("writable by others"), "{}", run.stderr);
}

#[test]
#[cfg_attr(
    no_runuser_as_root,
    ignore = "giving a link to another user needs root (chown -h nobody)"
)]
fn a_link_owned_by_another_user_is_not_followed_even_in_our_directory() {
    let env = TestEnv::empty();
    std::fs::set_permissions(env.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(env.run(&["--dir", ".", "init", "--project", "p"]).code, 0);
    std::fs::create_dir(env.dir().join("sub")).unwrap();
    let link = env.dir().join("sub/.agent_metrics.json");
    std::os::unix::fs::symlink(env.store(), &link).unwrap();
    let chown = Command::new("chown").args(["-h", "nobody"]).arg(&link).status().unwrap();
    assert!(chown.success());
    let run = env.run(&["--dir", "sub", "record", "event", "--agent", "a", "--status", "success"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("must both belong to you"), "{}", run.stderr);
}

#[test]
#[cfg_attr(
    no_runuser_as_root,
    ignore = "a directory the user cannot write needs another user than root (runuser -u nobody)"
)]
fn a_directory_without_write_permission_is_named_as_such() {
    let env = TestEnv::empty();
    // The binary and the directory must be reachable by nobody; the directory not writable.
    std::fs::set_permissions(env.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut ancestor = env.dir().parent();
    while let Some(dir) = ancestor {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001)).unwrap();
        }
        ancestor = dir.parent();
    }
    let output = Command::new("runuser")
        .args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_agent-metrics")])
        .args(["record", "event", "--agent", "a", "--status", "success"])
        .current_dir(env.dir())
        .env_remove("AGENT_METRICS_FILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(!stderr.contains("does the directory exist"), "{stderr}");
}

#[test]
fn a_store_of_a_newer_format_is_shown_with_a_warning() {
    let env = TestEnv::empty();
    let newer = r#"{"version": 99, "project_name": "x", "created_at": null, "updated_at": null,
        "total_sessions": 0, "total_tokens": 0, "total_cost_usd": 0, "total_duration_seconds": 0,
        "agents": {}, "events": [], "sessions": []}"#;
    std::fs::write(env.store(), newer).unwrap();
    let run = env.run(&["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("format version 99, newer than"), "{}", run.stderr);
}

#[test]
fn an_export_file_is_readable_by_other_users() {
    let env = TestEnv::empty();
    assert_eq!(env.run(&RECORD).code, 0);
    assert_eq!(env.run(&["export", "--format", "prometheus", "--output", "x.prom"]).code, 0);
    let mode = std::fs::metadata(env.dir().join("x.prom")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644, "node_exporter runs as another user");
    let failed = env.run(&["export", "--output", "missing-dir/x.json"]);
    assert_eq!(failed.code, 5, "{}", failed.stderr);
    assert!(failed.stderr.contains("cannot write the export file"), "{}", failed.stderr);
    assert!(!failed.stderr.contains("metrics store"), "{}", failed.stderr);
}
