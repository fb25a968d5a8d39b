//! Records in Kafka's bytes: `batch` frames them in RecordBatch v2, `compression` compresses a
//! batch's records, `varint` is the integer encoding inside.

pub mod batch;
pub mod compression;
pub mod varint;
