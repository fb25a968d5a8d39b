//! Where a cluster's files live, the same for every host: each broker's in `broker-N/`, and, with
//! more than one broker, the cluster's own files in `controller/` and each KRaft controller's
//! metadata log in `controller-N/`. A host says which directories
//! hold files and gives a store for one ([`LayoutStores`]); [`open`] decides the rest.

use crate::cluster::quorum_store::controller_dir;
use crate::cluster::{Cluster, StorageOptions};
use crate::log::local_log::OpenReport;
use crate::log::power_cut::PowerCutDisk;
use crate::log::storage::BrokerStore;
use crate::replication::kraft::DEFAULT_CONTROLLERS;

/// The replicated cluster's own directory: the controller's metadata snapshot, topics and
/// configs, schemas, and the cluster id.
pub const CONTROLLER_DIR: &str = "controller";

/// Broker `id`'s directory.
pub fn broker_dir(id: u32) -> String {
    format!("broker-{id}")
}

/// A data directory on a disk that can lose power (the power-loss tests and the simulator).
impl LayoutStores for PowerCutDisk {
    fn holds(&self, dir: &str) -> bool {
        PowerCutDisk::holds(self, dir)
    }
    fn store(&mut self, dir: &str) -> Result<Box<dyn BrokerStore>, String> {
        Ok(Box::new(PowerCutDisk::store(self, dir)))
    }
    fn new_broker_stores(&self) -> Option<NewBrokerStore> {
        let disk = self.clone();
        Some(Box::new(move |dir| Ok(Box::new(disk.store(dir)) as Box<dyn BrokerStore>)))
    }
}

/// How a host makes the store of a broker added to the running cluster: given its directory
/// (`broker-N`), new and empty.
pub type NewBrokerStore = Box<dyn FnMut(&str) -> Result<Box<dyn BrokerStore>, String> + Send>;

/// What opening a cluster needs of a host's storage.
pub trait LayoutStores {
    /// Whether `dir` (a directory of the cluster's root) holds anything.
    fn holds(&self, dir: &str) -> bool;
    /// Whether one broker's files lie directly in the root: how the tab kept a single broker
    /// before the layout was shared (still opened, as it is).
    fn holds_broker_at_root(&self) -> bool {
        false
    }
    /// The store for `dir` (`""`: the root), made if it is not there.
    fn store(&mut self, dir: &str) -> Result<Box<dyn BrokerStore>, String>;
    /// How the cluster makes stores for brokers added later; `None`: this host adds none.
    fn new_broker_stores(&self) -> Option<NewBrokerStore> {
        None
    }
}

/// What opening found in each partition's log (reported by a single broker, which opens them all
/// at once).
pub type OpenReports = Vec<(String, OpenReport)>;

/// How many brokers the host asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerCount {
    /// This many, and a stored cluster of another count is refused (`kite serve --brokers N`).
    Exactly(u32),
    /// This many for a new cluster; a stored one keeps its own count (the tab's `?brokers=N`).
    ForNew(u32),
}

/// What opening found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing stored: a new cluster of this many brokers.
    New(u32),
    /// One broker's files at the root (the tab's earlier layout).
    BrokerAtRoot,
    /// One broker in `broker-0/`.
    Single,
    /// `controller/` and this many `broker-N/`.
    Replicated(u32),
}

impl Found {
    /// How many brokers the cluster runs.
    pub fn brokers(self) -> u32 {
        match self {
            Found::BrokerAtRoot | Found::Single => 1,
            Found::New(n) | Found::Replicated(n) => n,
        }
    }
}

/// Opens the cluster `stores` hold, or a new one: one broker opens as a single broker (its logs
/// reported, as a restarting broker finds them), more as replicating brokers with a controller.
pub fn open(
    seed: u64,
    now_ms: i64,
    stores: &mut dyn LayoutStores,
    count: BrokerCount,
    options: StorageOptions,
) -> Result<(Cluster, OpenReports, Found), String> {
    let found = find(stores, count)?;
    match found {
        Found::BrokerAtRoot => {
            let (cluster, reports) = Cluster::open(seed, stores.store("")?, options)?;
            Ok((cluster, reports, found))
        }
        Found::Single | Found::New(1) => {
            let (cluster, reports) = Cluster::open(seed, stores.store(&broker_dir(0))?, options)?;
            Ok((cluster, reports, found))
        }
        Found::New(brokers) | Found::Replicated(brokers) => {
            let metadata = stores.store(CONTROLLER_DIR)?;
            // The controllers a cluster has kept, or the default number for a new one (or one
            // from before the KRaft quorum).
            let kept = (0..).take_while(|&id| stores.holds(&controller_dir(id))).count();
            let controllers = if kept == 0 { DEFAULT_CONTROLLERS } else { kept };
            let controllers = (0..controllers as i32)
                .map(|id| stores.store(&controller_dir(id)))
                .collect::<Result<_, _>>()?;
            let brokers = (0..brokers).map(|id| stores.store(&broker_dir(id))).collect::<Result<_, _>>()?;
            let mut cluster =
                Cluster::open_replicated(seed, now_ms, metadata, controllers, brokers, options)?;
            if let Some(stores) = stores.new_broker_stores() {
                cluster.set_new_broker_stores(stores);
            }
            Ok((cluster, Vec::new(), found))
        }
    }
}

/// What `stores` hold, checked against the count asked for (a refusal says what the storage
/// "holds …": the host names where).
fn find(stores: &dyn LayoutStores, count: BrokerCount) -> Result<Found, String> {
    let stored = if stores.holds_broker_at_root() {
        Some(Found::BrokerAtRoot)
    } else if stores.holds(CONTROLLER_DIR) {
        let brokers = (0..).take_while(|&id| stores.holds(&broker_dir(id))).count() as u32;
        Some(Found::Replicated(brokers))
    } else if stores.holds(&broker_dir(0)) {
        Some(Found::Single)
    } else {
        None
    };
    match (stored, count) {
        (None, BrokerCount::Exactly(n) | BrokerCount::ForNew(n)) => Ok(Found::New(n)),
        (Some(found), BrokerCount::ForNew(_)) => Ok(found),
        (Some(found), BrokerCount::Exactly(n)) if found.brokers() == n => Ok(found),
        (Some(Found::Replicated(stored)), BrokerCount::Exactly(_)) => {
            // Removed brokers keep their directories: the count is of broker ids given out.
            Err(format!(
                "holds a cluster of {stored} broker directories; start it without --brokers to open it as it is (or with --brokers {stored})"
            ))
        }
        (Some(_), BrokerCount::Exactly(_)) => {
            Err("holds a single-broker cluster; start it with --brokers 1".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Directories that hold something, as a host would report them.
    struct Held(Vec<&'static str>);

    impl LayoutStores for Held {
        fn holds(&self, dir: &str) -> bool {
            self.0.contains(&dir)
        }
        fn holds_broker_at_root(&self) -> bool {
            self.0.contains(&"")
        }
        fn store(&mut self, _dir: &str) -> Result<Box<dyn BrokerStore>, String> {
            Err("not opened in these tests".into())
        }
    }

    #[test]
    fn what_is_stored_decides_unless_the_host_insists() {
        use BrokerCount::{Exactly, ForNew};
        let replicated = Held(vec!["controller", "broker-0", "broker-1", "broker-2"]);
        let cases: [(&Held, BrokerCount, Result<Found, &str>); 9] = [
            (&Held(vec![]), Exactly(3), Ok(Found::New(3))),
            (&Held(vec![]), ForNew(1), Ok(Found::New(1))),
            (&replicated, ForNew(1), Ok(Found::Replicated(3))),
            (&replicated, Exactly(3), Ok(Found::Replicated(3))),
            (
                &replicated,
                Exactly(5),
                Err(
                    "holds a cluster of 3 broker directories; start it without --brokers to open it as it is (or with --brokers 3)",
                ),
            ),
            (
                &replicated,
                Exactly(1),
                Err(
                    "holds a cluster of 3 broker directories; start it without --brokers to open it as it is (or with --brokers 3)",
                ),
            ),
            (
                &Held(vec!["broker-0"]),
                Exactly(3),
                Err("holds a single-broker cluster; start it with --brokers 1"),
            ),
            (&Held(vec!["broker-0"]), ForNew(3), Ok(Found::Single)),
            (&Held(vec![""]), ForNew(3), Ok(Found::BrokerAtRoot)),
        ];
        for (held, count, expected) in cases {
            assert_eq!(find(held, count), expected.map_err(str::to_string), "{:?} {count:?}", held.0);
        }
    }
}
