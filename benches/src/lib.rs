//! The workspace's criterion benchmarks (`benches/`), in a package of their own so they are
//! built without the `simulation` and `failpoints` features that the tests of `atomic-fs`
//! and `metrics-store` turn on. Run them with `cargo xtask bench` or
//! `cargo bench -p agent-metrics-benches --bench replace|lock_contention|store`.
