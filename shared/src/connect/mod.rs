//! Kite Connect: Kafka Connect's model inside the engine — a worker that is a client of the
//! cluster, connectors split into tasks, Kafka Connect's internal topics and REST API, the
//! converters, the file connectors, datagen and the JDBC sink. docs/connect.md.

pub mod avro_data;
pub mod converter;
pub mod datagen;
pub mod file_stream;
pub mod files;
pub mod jdbc_sink;
pub mod plugins;
pub mod rest;
pub mod storage;
pub mod tables;
mod task;
pub mod transforms;
pub mod worker;

pub use task::{Moved, PRODUCER_BATCH_SIZE_BYTES, SINK_MAX_POLL_RECORDS, encode_batches};

pub use worker::Worker;
