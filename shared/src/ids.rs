//! The names everything else uses for the cluster's parts: a broker's id, a node of the network
//! (the controller, a broker, a client), and a topic's partition.

/// A broker's `node.id`.
pub type BrokerId = i32;

/// Every participant the network connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum NodeId {
    /// The KRaft controller, which keeps the metadata log (topics, leaders, ISRs).
    Controller,
    /// A broker, by its `node.id`.
    Broker(BrokerId),
    /// A client (a producer, a consumer or an admin), by its number on the network.
    Client(u32),
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeId::Controller => write!(f, "controller"),
            NodeId::Broker(id) => write!(f, "broker-{id}"),
            NodeId::Client(id) => write!(f, "client-{id}"),
        }
    }
}

/// One partition of a topic; shown as Kafka names it, `topic-partition` (e.g. `orders-0`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TopicPartition {
    /// The topic's name.
    pub topic: String,
    /// The partition's number within the topic, from 0.
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}
