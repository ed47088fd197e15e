//! The workspace's criterion benchmarks (`benches/`), in a package of their own so they are
//! built without the `simulation` feature that the tests of `atomic-fs`
//! and `metrics-store` turn on. Run them with `cargo xtask bench` or
//! `cargo bench -p agent-metrics-benches --bench replace|lock_contention|store`.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// The mean of one benchmark (`group/name`) from the estimates criterion wrote in this run,
/// in nanoseconds; `None` when it has not run.
pub fn mean_ns(group: &str, name: &str) -> Option<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["mean"]["point_estimate"].as_f64()
}

/// The floor every durable replace is measured against: write a temporary file, `fdatasync`
/// it, rename it over `target`, `fsync` the directory. No lock, no backup, no checks.
#[expect(clippy::disallowed_methods, reason = "the floor is written without atomic-fs on purpose")]
pub fn floor_replace(target: &Path, bytes: &[u8]) {
    let temp = target.with_extension("floor-tmp");
    let mut file = File::create(&temp).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_data().unwrap();
    std::fs::rename(&temp, target).unwrap();
    File::open(target.parent().unwrap()).unwrap().sync_all().unwrap();
}
