//! Where a cluster's files live, the same for every host: each broker's in `broker-N/`, and, with
//! more than one broker, the cluster's own files in `controller/` and each KRaft controller's
//! metadata log in `controller-N/`. A host says which directories
//! hold files and gives a store for one ([`LayoutStores`]); [`open`] decides the rest.

use crate::cluster::quorum_store::controller_dir;
use crate::cluster::{Cluster, StorageOptions};
use crate::log::local_log::OpenReport;
use crate::log::power_cut::PowerCutDisk;
use crate::log::storage::BrokerStore;
use crate::replication::kraft::{DEFAULT_CONTROLLERS, check_quorum_size};

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

/// How many brokers, or controllers, the host asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// This many, and a stored cluster of another count is refused (`kite serve --brokers N`,
    /// `--controllers N`).
    Exactly(u32),
    /// This many for a new cluster; a stored one keeps its own count (the tab's `?brokers=N`,
    /// `?controllers=N`).
    ForNew(u32),
}

/// The controllers of a new cluster when the host does not say: Kafka's three, a stored
/// cluster keeping the quorum it has.
pub const DEFAULT_QUORUM: Count = Count::ForNew(DEFAULT_CONTROLLERS as u32);

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
/// reported, as a restarting broker finds them), more as replicating brokers with a controller
/// quorum of `controllers`.
pub fn open(
    seed: u64,
    now_ms: i64,
    stores: &mut dyn LayoutStores,
    count: Count,
    controllers: Count,
    options: StorageOptions,
) -> Result<(Cluster, OpenReports, Found), String> {
    let found = find(stores, count)?;
    let controllers = quorum(stores, found, controllers)?;
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
fn find(stores: &dyn LayoutStores, count: Count) -> Result<Found, String> {
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
        (None, Count::Exactly(n) | Count::ForNew(n)) => Ok(Found::New(n)),
        (Some(found), Count::ForNew(_)) => Ok(found),
        (Some(found), Count::Exactly(n)) if found.brokers() == n => Ok(found),
        (Some(Found::Replicated(stored)), Count::Exactly(_)) => {
            // Removed brokers keep their directories: the count is of broker ids given out.
            Err(format!(
                "holds a cluster of {stored} broker directories; start it without --brokers to open it as it is (or with --brokers {stored})"
            ))
        }
        (Some(_), Count::Exactly(_)) => {
            Err("holds a single-broker cluster; start it with --brokers 1".to_string())
        }
    }
}

/// How many controllers the cluster `found` runs: those it kept, or the number asked for a new
/// one (or one from before the KRaft quorum); none for a single broker, which has no quorum.
fn quorum(stores: &dyn LayoutStores, found: Found, asked: Count) -> Result<usize, String> {
    let kept = (0..).take_while(|&id| stores.holds(&controller_dir(id))).count();
    match (found, asked) {
        (Found::Replicated(_), _) if kept > 0 => match asked {
            Count::Exactly(n) if n as usize != kept => Err(format!(
                "holds a quorum of {kept} controllers; start it without --controllers to open it as it is (or with --controllers {kept})"
            )),
            _ => Ok(kept),
        },
        (Found::Replicated(_) | Found::New(2..), Count::Exactly(n) | Count::ForNew(n)) => {
            check_quorum_size(n as usize).map_err(|e| format!("would hold {e}"))
        }
        (_, Count::Exactly(_)) => {
            Err("runs a single broker, without a controller quorum: --controllers needs --brokers 2 or more"
                .to_string())
        }
        (_, Count::ForNew(_)) => Ok(0),
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
        use Count::{Exactly, ForNew};
        let replicated = Held(vec!["controller", "broker-0", "broker-1", "broker-2"]);
        let cases: [(&Held, Count, Result<Found, &str>); 9] = [
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

    #[test]
    fn a_stored_quorum_is_kept_unless_the_host_insists_on_another() {
        use Count::{Exactly, ForNew};
        let kept =
            Held(vec!["controller", "broker-0", "broker-1", "controller-0", "controller-1", "controller-2"]);
        let before_the_quorum = Held(vec!["controller", "broker-0", "broker-1"]);
        let refused_even = "would hold 4 controllers: a quorum has an odd number of voters, 1 to 7 (an even one survives no more failures than one voter fewer)";
        let cases: [(&Held, Found, Count, Result<usize, &str>); 9] = [
            (&Held(vec![]), Found::New(3), DEFAULT_QUORUM, Ok(3)),
            (&Held(vec![]), Found::New(3), Exactly(5), Ok(5)),
            (&Held(vec![]), Found::New(3), Exactly(4), Err(refused_even)),
            (&Held(vec![]), Found::New(1), DEFAULT_QUORUM, Ok(0)),
            (
                &Held(vec![]),
                Found::New(1),
                Exactly(3),
                Err(
                    "runs a single broker, without a controller quorum: --controllers needs --brokers 2 or more",
                ),
            ),
            (&kept, Found::Replicated(2), ForNew(5), Ok(3)),
            (&kept, Found::Replicated(2), Exactly(3), Ok(3)),
            (
                &kept,
                Found::Replicated(2),
                Exactly(1),
                Err(
                    "holds a quorum of 3 controllers; start it without --controllers to open it as it is (or with --controllers 3)",
                ),
            ),
            (&before_the_quorum, Found::Replicated(2), ForNew(1), Ok(1)),
        ];
        for (held, found, asked, expected) in cases {
            assert_eq!(
                quorum(held, found, asked),
                expected.map_err(str::to_string),
                "{:?} {asked:?}",
                held.0
            );
        }
    }
}
