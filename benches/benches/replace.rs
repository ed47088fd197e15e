//! Durable replace with a backup, against the floor of the same bytes in the same run.
//!
//! - `floor`: temporary write + `fdatasync` + rename + directory `fsync`, written with `std`
//!   directly: the least a durable atomic replace can cost.
//! - `replace_no_backup`: `atomic_fs::replace` without a backup.
//! - `replace_hardlink_backup`: `atomic_fs::replace` keeping the previous generation.
//! - `naive_copy_backup`: the floor plus a second full durable copy as the backup (what the
//!   Python seed did), for comparison.
//!
//! After the runs, the ratios to the floor are printed; `docs/benchmarks.md` records them.

use std::path::Path;

use agent_metrics_benches::{floor_replace, mean_ns};
use atomic_fs::{Backup, Durability, ReplaceConfig, replace};
use criterion::Criterion;

/// About the size of a store holding 500 events.
const PAYLOAD_LEN: usize = 380 * 1024;
const GROUP: &str = "replace_380k";

fn naive_copy_backup(target: &Path, bytes: &[u8]) {
    let backup = target.with_extension("naive-bak");
    if let Ok(old) = std::fs::read(target) {
        floor_replace(&backup, &old);
    }
    floor_replace(target, bytes);
}

fn benches(c: &mut Criterion) {
    let dir =
        tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into())).unwrap();
    let payload: Vec<u8> = (0..PAYLOAD_LEN).map(|idx| b'a' + (idx % 26) as u8).collect();
    let mut group = c.benchmark_group(GROUP);
    let floor_target = dir.path().join("floor.json");
    group.bench_function("floor", |b| b.iter(|| floor_replace(&floor_target, &payload)));
    let target = dir.path().join("plain.json");
    let plain = ReplaceConfig { durability: Durability::Full, backup: Backup::None };
    group.bench_function("replace_no_backup", |b| {
        b.iter(|| replace(&target, &payload, &plain).unwrap())
    });
    let target = dir.path().join("backup.json");
    let backed_up =
        ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };
    group.bench_function("replace_hardlink_backup", |b| {
        b.iter(|| replace(&target, &payload, &backed_up).unwrap())
    });
    let target = dir.path().join("naive.json");
    group.bench_function("naive_copy_backup", |b| b.iter(|| naive_copy_backup(&target, &payload)));
    group.finish();
}

#[expect(clippy::print_stdout, reason = "a benchmark reports its results")]
fn print_ratios() {
    let Some(floor) = mean_ns(GROUP, "floor") else { return };
    println!("\n{GROUP}: mean time and ratio to the floor in this run");
    for name in ["floor", "replace_no_backup", "replace_hardlink_backup", "naive_copy_backup"] {
        if let Some(mean) = mean_ns(GROUP, name) {
            println!("  {name:<24} {:>8.3} ms  {:>5.2}x", mean / 1e6, mean / floor);
        }
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    print_ratios();
}
