//! `kite crash-writer` (hidden): the child process of the crash tests. It opens a broker on disk
//! exactly as `kite serve` does (recovering after the previous kill), then appends records to
//! topic `crash` partition 0 in a loop, printing `acked OFFSET` after each append the engine
//! acknowledged, until it is killed. Each record's value is its offset, padded, so the test can
//! check every record it finds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use kite_backend::data_dir::DataDir;
use kite_backend::disk::DiskBrokerStore;
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::partitioner::PartitionerKind;
use kite_shared::serializer::SerializerKind;

/// The topic the crash tests write.
pub(crate) const CRASH_TOPIC: &str = "crash";
/// Small segments, so kills land in rolls and in many segments.
const CRASH_SEGMENT_BYTES: &str = "16384";

#[derive(clap::Args)]
pub(crate) struct CrashWriterArgs {
    #[arg(long)]
    data_dir: PathBuf,
    /// Flush every append before acknowledging it (`kite serve --fsync`).
    #[arg(long)]
    fsync: bool,
    /// Bytes in each record's value.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
}

/// The value the record at `offset` carries: its offset, zero-padded to `bytes`.
pub(crate) fn value_for(offset: i64, bytes: usize) -> String {
    format!("{offset:0bytes$}")
}

pub(crate) fn run(args: CrashWriterArgs) -> Result<(), String> {
    let data_dir = DataDir::open(&args.data_dir)?;
    let store = DiskBrokerStore::open(data_dir.path(), 0)?;
    let options = StorageOptions { flush_every_append: args.fsync, max_partition_bytes: usize::MAX };
    let (mut cluster, _) = Cluster::open(0, Box::new(store), options)?;
    let mut stdout = std::io::stdout().lock();
    let now = crate::session::now_ms;
    let configs = BTreeMap::from([("segment.bytes".to_string(), CRASH_SEGMENT_BYTES.to_string())]);
    // Already there after the first run: the error is expected then.
    let _ = cluster.handle(
        now(),
        Command::CreateTopic { name: CRASH_TOPIC.into(), partitions: 1, configs, replication_factor: None },
    );
    writeln!(stdout, "opened").map_err(|e| e.to_string())?;
    let mut next = match cluster.handle(now(), fetch_end()) {
        Reply::Records { log_end_offset, .. } => log_end_offset,
        other => return Err(format!("cannot read the log end: {other:?}")),
    };
    loop {
        let produce = Command::Produce {
            acks: Default::default(),
            topic: CRASH_TOPIC.into(),
            partition: Some(0),
            key: None,
            value: Some(value_for(next, args.value_bytes)),
            timestamp_ms: None,
            partitioner: PartitionerKind::Default,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::String,
            headers: vec![],
            producer: None,
        };
        match cluster.handle(now(), produce) {
            Reply::Produced { offset, .. } if offset == next => {
                writeln!(stdout, "acked {offset}").map_err(|e| e.to_string())?;
                stdout.flush().map_err(|e| e.to_string())?;
                next += 1;
            }
            other => return Err(format!("append at {next} answered {other:?}")),
        }
    }
}

fn fetch_end() -> Command {
    Command::Fetch {
        topic: CRASH_TOPIC.into(),
        partition: 0,
        offset: 0,
        max_records: 0,
        key_deserializer: SerializerKind::String,
        value_deserializer: SerializerKind::String,
        isolation_level: Default::default(),
    }
}
