//! A partition's log, the way Kafka keeps it: segments of RecordBatch v2 bytes with sparse offset
//! and time indexes (`segment`, `index`), the leader epoch cache (`epoch_cache`), the broker's
//! offset checkpoint files (`checkpoint`), `LocalLog`, which puts them together (appends, reads,
//! flushes, truncation, retention, compaction, recovery), each idempotent producer's
//! sequences (`producer_state`) and their snapshots (`producer_snapshot`), each segment's aborted transactions (`txn_index`), the storage interface the host
//! implements (`storage`, with the in-memory backend), and a disk that can lose power
//! (`power_cut`: what survives when nothing unsynced does).

pub mod checkpoint;
pub mod epoch_cache;
pub mod index;
pub mod local_log;
pub mod partition_metadata;
pub mod power_cut;
pub mod producer_snapshot;
pub mod producer_state;
pub mod segment;
pub mod storage;
pub mod txn_index;
