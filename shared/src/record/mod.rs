//! Records in Kafka's bytes: `batch` frames them in RecordBatch v2, `compression` compresses a
//! batch's records, `varint` is the integer encoding inside, `dump` shows one stored record and its
//! batch field by field, as `kafka-dump-log.sh` does.

pub mod batch;
pub mod compression;
pub mod dump;
pub mod varint;
