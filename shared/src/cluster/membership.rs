//! Brokers joining and leaving a running cluster (`kite cluster add-broker` / `remove-broker`):
//! a new broker gets a directory from the host and the next id; a leaving one is decommissioned
//! by the controller (its replicas moved, then unregistered).

use super::Cluster;
use crate::api::Reply;
use crate::error::{ErrorCode, KafkaError};
use crate::limits::MAX_BROKERS_PER_CLUSTER;

impl Cluster {
    /// `add_broker` or `remove_broker`.
    pub(super) fn membership(
        &mut self,
        now_ms: i64,
        command: crate::api::Command,
    ) -> Result<Reply, KafkaError> {
        match command {
            crate::api::Command::RemoveBroker { broker } => self.remove_broker(now_ms, broker),
            crate::api::Command::AddBroker { rack } => self.add_broker(now_ms, rack),
            other => Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("not a membership command: {other:?}"),
            )),
        }
    }

    /// Adds a broker, over a new directory the host makes, on `rack` if given: refused past
    /// `MAX_BROKERS_PER_CLUSTER`, where the host makes no directories, and for a rack name
    /// `broker.rack` does not take.
    fn add_broker(&mut self, now_ms: i64, rack: Option<String>) -> Result<Reply, KafkaError> {
        let rack = match rack {
            Some(name) => crate::config::broker_racks(&name, 1)
                .map_err(|e| KafkaError::new(ErrorCode::InvalidRequest, format!("broker.rack: {e}")))?
                .pop()
                .flatten(),
            None => None,
        };
        let id = self.brokers.next_broker_id();
        if usize::try_from(id).map_or(true, |n| n >= MAX_BROKERS_PER_CLUSTER) {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "A cluster here runs at most {MAX_BROKERS_PER_CLUSTER} brokers, removed ones counted."
                ),
            ));
        }
        let Some(new_store) = self.new_broker_stores.as_mut() else {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "This host cannot add brokers: it has nowhere to keep a new one's logs.",
            ));
        };
        let store = new_store(&super::layout::broker_dir(id as u32))
            .map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, format!("broker-{id}: {e}")))?;
        let broker = self.brokers.add_broker(now_ms, store, rack)?;
        // A new broker is a new process: it learns the topics' configs as a started one does.
        for state in self.topics.values() {
            self.brokers.set_topic_config(now_ms, &state.name, &state.config);
        }
        Ok(Reply::BrokerAdded { broker })
    }

    /// Starts decommissioning `broker`.
    fn remove_broker(&mut self, now_ms: i64, broker: i32) -> Result<Reply, KafkaError> {
        let moving = self.brokers.remove_broker(now_ms, broker)?;
        Ok(Reply::BrokerRemoval { broker, moving })
    }
}
