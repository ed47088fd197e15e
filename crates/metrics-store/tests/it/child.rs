//! The role a re-executed test binary plays: a writer process recording events.

use std::path::Path;
use std::process::{Child, Command};

use metrics_store::MetricsStore;

use crate::support::event;

/// Starts this binary as a writer recording `count` events `{name}-{i}` into `path`.
pub(crate) fn spawn_writer(path: &Path, name: &str, count: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child::entry", "--nocapture", "--test-threads=1", "--quiet"])
        .env("METRICS_STORE_CHILD", "writer")
        .env("METRICS_STORE_ARGS", format!("{}\n{name}\n{count}", path.display()))
        .spawn()
        .unwrap()
}

#[test]
fn entry() {
    let Ok(role) = std::env::var("METRICS_STORE_CHILD") else { return };
    let args = std::env::var("METRICS_STORE_ARGS").unwrap();
    let args: Vec<&str> = args.split('\n').collect();
    match role.as_str() {
        "writer" => writer(&args),
        other => panic!("unknown role {other}"),
    }
    std::process::exit(0);
}

fn writer(args: &[&str]) {
    let store = MetricsStore::open(Path::new(args[0])).unwrap();
    let (name, count): (&str, usize) = (args[1], args[2].parse().unwrap());
    for idx in 0..count {
        // Alternate single events and batches of two, as harnesses do.
        if idx % 3 == 2 {
            let batch =
                vec![event(&format!("{name}-{idx}"), name), event(&format!("{name}-{idx}"), name)];
            assert_eq!(store.record_events(batch).unwrap().recorded, 1);
        } else {
            let _ = store.record_event(event(&format!("{name}-{idx}"), name)).unwrap();
        }
    }
}
