//! Integration tests of the server: a real server on an ephemeral loopback port, a real
//! HTTP client, real store files (and, for cross-process claims, real CLI processes in the
//! metrics-cli tests).

mod ingest;
mod live;
mod routes;
mod security;
mod support;
