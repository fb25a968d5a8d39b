//! The Kafka clients connected to the brokers' listeners, as `describe_cluster` lists them (the
//! UI's cluster view shows who is connected, where from, and what they ask): each connection is
//! listed when it opens, counts its requests by API, and is gone when it closes.

use super::{Cluster, ListenerReach};

/// A broker as Metadata advertises it: where clients reach its listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvertisedBroker {
    /// The broker's `node.id`.
    pub id: i32,
    /// The host name or address clients connect to.
    pub host: String,
    /// The listener's TCP port.
    pub port: i32,
}
use crate::api::KafkaClientView;
use crate::limits::{MAX_LISTED_KAFKA_CLIENTS, MAX_LISTED_PER_KAFKA_CLIENT};

impl Cluster {
    /// How many broker ids the cluster has given out (removed ones counted): the host binds a
    /// Kafka listener for each, a broker added since the last look included.
    pub fn broker_ids_given(&self) -> i32 {
        self.brokers.next_broker_id()
    }

    /// How many brokers the cluster has now (removed ones not counted).
    pub fn broker_count(&self) -> usize {
        self.brokers.broker_count()
    }

    /// How many KRaft controllers the cluster has (none for a single broker).
    pub fn controller_count(&self) -> usize {
        self.brokers.controllers().len()
    }

    /// The listener the host opened for a broker added while it ran: Metadata advertises it
    /// beside the listeners every connection was started with.
    pub fn add_kafka_listener(&mut self, broker: AdvertisedBroker) {
        self.kafka_listeners_added.retain(|b| b.id != broker.id);
        self.kafka_listeners_added.push(broker);
    }

    /// The listeners of brokers added while the host ran (`add_kafka_listener`).
    pub fn kafka_listeners_added(&self) -> &[AdvertisedBroker] {
        &self.kafka_listeners_added
    }

    /// The protocol inspector's exchanges after number `after`.
    pub(super) fn inspect_kafka(&self, after: u64) -> crate::api::Reply {
        crate::api::Reply::KafkaExchanges { exchanges: self.kafka_exchanges.view(after) }
    }

    /// What a Kafka client finds at `broker`'s listener now: a stopped broker refuses, a paused
    /// or cut-off one leaves requests unanswered.
    pub fn kafka_listener_reach(&self, broker: i32) -> ListenerReach {
        self.brokers.listener_reach(broker)
    }

    /// A Kafka connection opened on `broker`'s listener from `address`: the id it is listed
    /// under, or `None` past `MAX_LISTED_KAFKA_CLIENTS` (it is served all the same).
    pub fn kafka_client_connected(&mut self, broker: i32, address: &str) -> Option<u64> {
        if self.kafka_clients.len() >= MAX_LISTED_KAFKA_CLIENTS {
            return None;
        }
        self.next_kafka_client += 1;
        let id = self.next_kafka_client;
        let view = KafkaClientView {
            connection: id,
            broker,
            address: address.to_string(),
            ..KafkaClientView::default()
        };
        self.kafka_clients.insert(id, view);
        Some(id)
    }

    /// A request of `api` (Kafka's name) on the listed connection `id`, with what the client
    /// says of itself.
    pub fn kafka_client_request(&mut self, id: u64, api: &str, client_id: &str, software: &str) {
        let Some(view) = self.kafka_clients.get_mut(&id) else { return };
        if view.client_id != client_id {
            view.client_id = client_id.to_string();
        }
        if view.software != software {
            view.software = software.to_string();
        }
        match view.requests.get_mut(api) {
            Some(count) => *count += 1,
            None => {
                view.requests.insert(api.to_string(), 1);
            }
        }
    }

    /// InitProducerId gave the listed connection `id` a producer id.
    pub fn kafka_client_producer(&mut self, id: u64, producer_id: i64) {
        if let Some(view) = self.kafka_clients.get_mut(&id) {
            newest(&mut view.producer_ids, producer_id);
        }
    }

    /// The listed connection `id` joined (or rejoined) a consumer group.
    pub fn kafka_client_group(&mut self, id: u64, group: &str) {
        if let Some(view) = self.kafka_clients.get_mut(&id)
            && !view.groups.iter().any(|g| g == group)
        {
            newest(&mut view.groups, group.to_string());
        }
    }

    /// The listed connection `id` fetched with this isolation level.
    pub fn kafka_client_isolation(&mut self, id: u64, read_committed: bool) {
        if let Some(view) = self.kafka_clients.get_mut(&id) {
            view.read_committed = read_committed;
        }
    }

    /// The protocol inspector's exchanges, which the Kafka listeners' connections add to.
    pub fn kafka_exchanges(&mut self) -> &mut crate::kafka::inspector::Exchanges {
        &mut self.kafka_exchanges
    }

    /// The listed connection `id` closed.
    pub fn kafka_client_closed(&mut self, id: u64) {
        self.kafka_clients.remove(&id);
    }
}

/// `item` last in `list`, the oldest dropped past `MAX_LISTED_PER_KAFKA_CLIENT`.
fn newest<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= MAX_LISTED_PER_KAFKA_CLIENT {
        list.remove(0);
    }
    list.push(item);
}
