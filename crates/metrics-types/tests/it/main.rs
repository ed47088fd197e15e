//! Integration tests of `metrics-types` through its public API only.

mod loading;
mod reference;
mod roundtrip;
mod snapshots;
