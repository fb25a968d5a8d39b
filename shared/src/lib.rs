//! Kite's engine: Kafka's topics, partitions, offsets and partitioners as plain data and pure functions.
//!
//! This crate is sans-IO. It never reads a clock, a random source, a file or a socket, and it has no
//! async runtime: every host (the browser worker, `kite serve`, the tests) passes time in as a value
//! and carries the engine's replies out. That is what lets the same code run in a tab, on a server and
//! in a deterministic simulator.
//!
//! Its surface is every module below: the hosts use `api`, `host`, `kafka`, `cluster`, `scenario`,
//! `snapshot` and the codecs; the simulator, the fuzzers and the tests reach the engine's parts
//! (`log`, `record`, `replication`, `group`) too. Every public item says what it is
//! (`missing_docs`); items no other crate may use are `pub(crate)` (`unreachable_pub`).

// Every public item documented, checked by clippy in `cargo xtask test`.
#![warn(missing_docs)]

pub mod api;
pub mod avro;
pub mod cluster;
pub mod code;
pub mod config;
pub mod connect;
pub mod error;
pub mod group;
pub mod host;
pub mod host_sim;
pub mod ids;
pub mod kafka;
pub mod limits;
pub mod log;
pub mod partitioner;
pub mod random;
pub mod record;
pub mod replication;
pub mod scenario;
pub mod schema_registry;
pub mod serializer;
pub mod snapshot;
pub mod tagged;
pub mod topic;
pub mod trace;
pub mod txn;
pub mod untrusted;
