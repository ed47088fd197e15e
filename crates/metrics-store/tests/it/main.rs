//! Integration tests of `metrics-store` through its public API, with real OS processes for the
//! cross-process claims (this binary re-executed with `METRICS_STORE_CHILD` set).

mod child;
mod corpus;
mod crash;
mod eviction;
mod faults;
mod io_faults;
mod journal;
mod processes;
mod recovery;
mod support;
mod threads;
