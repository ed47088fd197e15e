//! Lock waits with 4 processes contending, for four ways of waiting:
//!
//! - `FileLock::lock`: a non-blocking attempt, then a blocking `flock` on a helper thread
//!   (the kernel's queue) with the caller waiting on a channel with a timeout;
//! - `blocking`: a plain blocking `flock(LOCK_EX)`, the reference (it cannot time out);
//! - `old_backoff`: the polling backoff `FileLock::lock` used before issue 13 (20 us start,
//!   doubling to a 250 us cap, equal jitter, ageing so the longest waiter polls fastest),
//!   kept here only to be compared;
//! - `poll_10ms`: non-blocking attempts every 10 ms, as the Python dashboard does.
//!
//! Each process loops: take the lock, hold it for one durable replace of a 380 KiB file (the
//! size of a full store), release, then work outside the lock for 0 to 1 ms (as a writer that
//! builds its next event does), repeat. All processes start together. Every wait is recorded
//! with the CPU the process used while waiting (the process CPU clock,
//! `CLOCK_PROCESS_CPUTIME_ID`: user + system time of all its threads, as `getrusage` counts
//! it). The parent prints p50, p99 and max wait per mode, CPU per second waited, and how
//! unevenly the turns were shared (the longest run of consecutive turns one process took).
//!
//! Two scenarios: the 4 lockers alone, and oversubscribed (one busy loop per core beside
//! them, so that a waiter that spins takes CPU from the holder). Run with
//! `cargo bench -p agent-metrics-benches --bench lock_contention`.

use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig};
use rustix::fs::FlockOperation;
use rustix::time::{ClockId, clock_gettime};

const PROCESSES: usize = 4;
const ITERATIONS: usize = 150;
const MODES: [&str; 4] = ["FileLock::lock", "blocking", "old_backoff", "poll_10ms"];

/// The lock file, opened as the hand-written contenders need it.
fn open_lock_file(lock: &Path) -> std::fs::File {
    std::fs::File::options().read(true).write(true).create(true).truncate(false).open(lock).unwrap()
}

fn try_flock(file: &std::fs::File) -> bool {
    rustix::fs::flock(file.as_fd(), FlockOperation::NonBlockingLockExclusive).is_ok()
}

/// The ageing jittered backoff `FileLock::lock` used before it waited in the kernel's queue.
fn old_backoff_sleep(step: &mut Duration, waited: Duration) -> Duration {
    const INITIAL: Duration = Duration::from_micros(20);
    const CAP: Duration = Duration::from_micros(250);
    const AGEING_AFTER: Duration = Duration::from_millis(1);
    let this_step = if waited > AGEING_AFTER {
        CAP.mul_f64((AGEING_AFTER.as_secs_f64() / waited.as_secs_f64()).powi(2)).max(INITIAL)
    } else {
        let current = *step;
        *step = (*step * 2).min(CAP);
        current
    };
    let half = this_step / 2;
    half + half.mul_f64(fastrand::f64())
}

/// A held lock of any of the modes, released on drop.
enum Held {
    Guard(#[expect(dead_code, reason = "held for its Drop")] FileLock),
    File(#[expect(dead_code, reason = "held for its Drop")] std::fs::File),
}

fn wait_for_lock(mode: &str, lock: &Path) -> Held {
    match mode {
        "FileLock::lock" => Held::Guard(FileLock::lock(lock, Duration::from_secs(60)).unwrap()),
        "blocking" => {
            let file = open_lock_file(lock);
            rustix::fs::flock(file.as_fd(), FlockOperation::LockExclusive).unwrap();
            Held::File(file)
        }
        "old_backoff" => {
            let (file, start) = (open_lock_file(lock), Instant::now());
            let mut step = Duration::from_micros(20);
            while !try_flock(&file) {
                std::thread::sleep(old_backoff_sleep(&mut step, start.elapsed()));
            }
            Held::File(file)
        }
        _ => {
            let file = open_lock_file(lock);
            while !try_flock(&file) {
                std::thread::sleep(Duration::from_millis(10));
            }
            Held::File(file)
        }
    }
}

fn cpu_now() -> Duration {
    let spec = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(spec.tv_sec as u64, spec.tv_nsec as u32)
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
        let (start, cpu_start) = (Instant::now(), cpu_now());
        let held = wait_for_lock(mode, &lock);
        let (waited, cpu) = (start.elapsed(), cpu_now().saturating_sub(cpu_start));
        atomic_fs::replace(&target, &payload, &config).unwrap();
        let turn =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        drop(held);
        println!("{} {} {turn}", waited.as_nanos(), cpu.as_nanos());
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..1000)));
    }
}

/// A process that spins until the stop file appears.
fn busy_loop(dir: &Path) {
    let stop = dir.join("stop");
    let mut spins = 0u64;
    loop {
        for _ in 0..100_000 {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        if stop.exists() {
            return;
        }
    }
}

fn percentile(sorted: &[u128], fraction: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[idx] as f64 / 1e6
}

fn spawn_self(role: &str, mode: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env("LOCK_BENCH_ROLE", role)
        .env("LOCK_BENCH_MODE", mode)
        .env("LOCK_BENCH_DIR", dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// One scenario for one mode: (p50, p99, max) in ms, CPU per second waited in %, total
/// seconds, longest run.
#[expect(clippy::disallowed_methods, reason = "the start and stop signals are scratch files")]
fn run(mode: &str, busy_loops: usize) -> (f64, f64, f64, f64, f64, usize) {
    let dir =
        tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into())).unwrap();
    let mut spinners: Vec<Child> =
        (0..busy_loops).map(|_| spawn_self("busy", mode, dir.path())).collect();
    let children: Vec<Child> =
        (0..PROCESSES).map(|_| spawn_self("locker", mode, dir.path())).collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    std::fs::write(dir.path().join("start"), b"").unwrap();
    let (mut waits, mut turns) = (Vec::<u128>::new(), Vec::<(u128, usize)>::new());
    let (mut waited_ns, mut cpu_ns) = (0u128, 0u128);
    for (writer, mut child) in children.into_iter().enumerate() {
        let stdout = BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines() {
            let line = line.unwrap();
            let fields: Vec<u128> = line.split(' ').map(|field| field.parse().unwrap()).collect();
            waits.push(fields[0]);
            waited_ns += fields[0];
            cpu_ns += fields[1];
            turns.push((fields[2], writer));
        }
        assert!(child.wait().unwrap().success());
    }
    let total = started.elapsed().as_secs_f64();
    std::fs::write(dir.path().join("stop"), b"").unwrap();
    for spinner in &mut spinners {
        spinner.wait().unwrap();
    }
    waits.sort_unstable();
    turns.sort_unstable();
    let longest_run =
        turns.chunk_by(|a, b| a.1 == b.1).map(<[(u128, usize)]>::len).max().unwrap_or(0);
    let cpu_percent = if waited_ns == 0 { 0.0 } else { cpu_ns as f64 / waited_ns as f64 * 100.0 };
    (
        percentile(&waits, 0.50),
        percentile(&waits, 0.99),
        percentile(&waits, 1.0),
        cpu_percent,
        total,
        longest_run,
    )
}

#[expect(clippy::print_stdout, reason = "a benchmark reports its results")]
fn main() {
    if let (Ok(role), Ok(mode), Ok(dir)) = (
        std::env::var("LOCK_BENCH_ROLE"),
        std::env::var("LOCK_BENCH_MODE"),
        std::env::var("LOCK_BENCH_DIR"),
    ) {
        match role.as_str() {
            "busy" => busy_loop(Path::new(&dir)),
            _ => child(&mode, Path::new(&dir)),
        }
        return;
    }
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo test --benches` lists benchmarks; there is nothing to list.
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for (scenario, busy_loops) in [("alone", 0), ("oversubscribed", cores)] {
        println!(
            "\n{PROCESSES} processes x {ITERATIONS} cycles ({scenario}: {busy_loops} busy loop(s) beside them): lock, 380 KiB durable replace, unlock, 0-1 ms outside"
        );
        println!(
            "{:<15} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>7}",
            "mode", "p50 ms", "p99 ms", "max ms", "CPU/wait", "total s", "longest", "p99 x"
        );
        let mut reference_p99 = None;
        let mut rows = Vec::new();
        for mode in MODES {
            let row = run(mode, busy_loops);
            if mode == "blocking" {
                reference_p99 = Some(row.1);
            }
            rows.push((mode, row));
        }
        for (mode, (p50, p99, max, cpu, total, longest)) in rows {
            let ratio = reference_p99.map_or(f64::NAN, |reference| p99 / reference);
            println!(
                "{mode:<15} {p50:>8.3} {p99:>8.3} {max:>8.3} {cpu:>9.2}% {total:>8.2} {longest:>8} {ratio:>6.2}x"
            );
        }
    }
}
