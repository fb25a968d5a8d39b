//! A partition's log, the way Kafka keeps it: segments of RecordBatch v2 bytes with sparse offset
//! and time indexes (`segment`, `index`), the leader epoch cache (`epoch_cache`), and `LocalLog`,
//! which puts them together (appends, reads, truncation, retention). Everything here is in memory
//! and IO-free; the storage backends that persist the same bytes are still to come.

pub mod epoch_cache;
pub mod index;
pub mod local_log;
pub mod segment;
