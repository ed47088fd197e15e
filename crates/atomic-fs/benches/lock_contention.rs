//! Lock wait times with 4 processes contending, for three ways of waiting:
//!
//! - `backoff`: `atomic_fs::FileLock::lock` (microsecond start, doubling, 1 ms cap, jitter);
//! - `blocking`: a blocking `flock(LOCK_EX)`, the kernel's own queue (the reference);
//! - `poll_10ms`: non-blocking attempts every 10 ms, as the Python seed did.
//!
//! Each process loops: take the lock, hold it for one durable replace of a 380 KiB file (the
//! size of a full store), release, then work outside the lock for 0 to 1 ms (as a writer that
//! builds its next event does), repeat. All processes start together. Every wait is recorded;
//! the parent prints p50, p99 and max per mode, and how unevenly the turns were shared (the
//! longest run of consecutive turns one process took). Run with
//! `cargo bench -p atomic-fs --bench lock_contention`.

use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig};
use rustix::fs::FlockOperation;

const PROCESSES: usize = 4;
const ITERATIONS: usize = 150;
const MODES: [&str; 3] = ["backoff", "blocking", "poll_10ms"];

/// The lock file, opened as the blocking and polling contenders need it.
fn open_lock_file(lock: &Path) -> std::fs::File {
    std::fs::File::options().read(true).write(true).create(true).truncate(false).open(lock).unwrap()
}

fn wait_for_lock(mode: &str, lock: &Path) -> (Duration, Option<FileLock>, Option<std::fs::File>) {
    let start = Instant::now();
    match mode {
        "backoff" => {
            let guard = FileLock::lock(lock, Duration::from_secs(60)).unwrap();
            (start.elapsed(), Some(guard), None)
        }
        "blocking" => {
            let file = open_lock_file(lock);
            rustix::fs::flock(file.as_fd(), FlockOperation::LockExclusive).unwrap();
            (start.elapsed(), None, Some(file))
        }
        _ => {
            let file = open_lock_file(lock);
            while rustix::fs::flock(file.as_fd(), FlockOperation::NonBlockingLockExclusive).is_err()
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            (start.elapsed(), None, Some(file))
        }
    }
}

#[expect(clippy::print_stdout, reason = "the child reports its waits to the parent")]
fn child(mode: &str, dir: &Path) {
    let lock = dir.join("bench.lock");
    let target = dir.join("bench.data");
    let payload = vec![b'x'; 380 * 1024];
    while !dir.join("start").exists() {
        std::thread::sleep(Duration::from_micros(100));
    }
    let config = ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };
    for _ in 0..ITERATIONS {
        let (waited, guard, file) = wait_for_lock(mode, &lock);
        atomic_fs::replace(&target, &payload, &config).unwrap();
        let turn =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        drop(guard);
        drop(file);
        println!("{} {turn}", waited.as_nanos());
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..1000)));
    }
}

fn percentile(sorted: &[u128], fraction: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[idx] as f64 / 1e6
}

#[expect(clippy::print_stdout, reason = "a benchmark reports its results")]
#[expect(clippy::disallowed_methods, reason = "the start signal is a scratch file")]
fn main() {
    if let (Ok(mode), Ok(dir)) = (std::env::var("LOCK_BENCH_MODE"), std::env::var("LOCK_BENCH_DIR"))
    {
        child(&mode, Path::new(&dir));
        return;
    }
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo test --benches` lists benchmarks; there is nothing to list.
    }
    println!(
        "{PROCESSES} processes x {ITERATIONS} cycles: lock, 380 KiB durable replace, unlock, 0-1 ms outside"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "mode", "p50 ms", "p99 ms", "max ms", "total s", "longest run"
    );
    for mode in MODES {
        let dir = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))
            .unwrap();
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .env("LOCK_BENCH_MODE", mode)
                    .env("LOCK_BENCH_DIR", dir.path())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        std::fs::write(dir.path().join("start"), b"").unwrap();
        let mut waits: Vec<u128> = Vec::new();
        let mut turns: Vec<(u128, usize)> = Vec::new();
        for (writer, mut child) in children.into_iter().enumerate() {
            let stdout = BufReader::new(child.stdout.take().unwrap());
            for line in stdout.lines() {
                let line = line.unwrap();
                let (wait, turn) = line.split_once(' ').unwrap();
                waits.push(wait.parse().unwrap());
                turns.push((turn.parse().unwrap(), writer));
            }
            assert!(child.wait().unwrap().success());
        }
        waits.sort_unstable();
        turns.sort_unstable();
        let longest_run =
            turns.chunk_by(|a, b| a.1 == b.1).map(<[(u128, usize)]>::len).max().unwrap_or(0);
        println!(
            "{mode:<10} {:>9.3} {:>9.3} {:>9.3} {:>9.2} {:>11}",
            percentile(&waits, 0.50),
            percentile(&waits, 0.99),
            percentile(&waits, 1.0),
            started.elapsed().as_secs_f64(),
            longest_run
        );
    }
}
