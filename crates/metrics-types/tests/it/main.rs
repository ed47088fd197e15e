//! Integration tests of `metrics-types` through its public API only.

mod reference;
mod roundtrip;
mod snapshots;
