//! A topic's deletion on disk, crashed half-way: its directories left whole (the crash came right
//! after the metadata write) or renamed `-delete` (the crash came during the removal). The next
//! open removes both, and a topic created again under the name starts empty.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kite_backend::disk::DiskBrokerStore;
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::{Cluster, StorageOptions};

const OPTIONS: StorageOptions = StorageOptions { flush_every_append: true, max_partition_bytes: usize::MAX };

fn open(data_dir: &Path) -> Cluster {
    let store = DiskBrokerStore::open(data_dir, 0).unwrap();
    Cluster::open(1, Box::new(store), OPTIONS).unwrap().0
}

fn create_orders(cluster: &mut Cluster) {
    let command = Command::CreateTopic {
        name: "orders".into(),
        partitions: 2,
        configs: BTreeMap::new(),
        replication_factor: None,
    };
    assert!(matches!(cluster.handle(0, command), Reply::TopicCreated { .. }));
}

fn records_in_orders(cluster: &mut Cluster) -> i64 {
    match cluster.handle(0, Command::ListTopics) {
        Reply::Topics { topics } => {
            let orders = topics.iter().find(|t| t.name == "orders").expect("orders is listed");
            orders.partitions.iter().map(|p| p.log_end_offset).sum()
        }
        other => panic!("{other:?}"),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn dirs(broker: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(broker)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_deletion_cut_short_by_a_crash_is_finished_at_the_next_open() {
    let data_dir: PathBuf =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deletion-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let broker = data_dir.join("broker-0");
    let mut cluster = open(&data_dir);
    create_orders(&mut cluster);
    for n in 0..10 {
        let produce = Command::produce_text("orders", Some(n % 2), None, &format!("order {n}"));
        assert!(matches!(cluster.handle(0, produce), Reply::Produced { .. }));
    }
    let aside = data_dir.join("aside");
    copy_dir(&broker.join("orders-0"), &aside.join("orders-0"));
    copy_dir(&broker.join("orders-1"), &aside.join("orders-1"));
    assert!(matches!(
        cluster.handle(0, Command::DeleteTopic { name: "orders".into() }),
        Reply::TopicDeleted { .. }
    ));
    assert_eq!(dirs(&broker), Vec::<String>::new(), "a deletion removes its directories");
    drop(cluster);

    // The crash: one directory still whole, the other renamed but not yet removed.
    copy_dir(&aside.join("orders-0"), &broker.join("orders-0"));
    copy_dir(&aside.join("orders-1"), &broker.join("orders-1.0000000000000000000000000000002a-delete"));
    let mut reopened = open(&data_dir);
    assert_eq!(dirs(&broker), Vec::<String>::new(), "the open swept what the crash left");
    create_orders(&mut reopened);
    assert_eq!(records_in_orders(&mut reopened), 0, "the new topic starts empty");
    drop(reopened);
    std::fs::remove_dir_all(&data_dir).unwrap();
}
