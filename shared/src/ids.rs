//! The names everything else uses for the cluster's parts: a broker's id, a node of the network
//! (the controller, a broker, a client), and a topic's partition.

/// A broker's `node.id`.
pub type BrokerId = i32;

/// Every participant the network connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum NodeId {
    Controller,
    Broker(BrokerId),
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

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}
