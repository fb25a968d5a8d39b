//! The replicated cluster, as Kafka runs it: brokers holding partition replicas (`broker`,
//! `partition`) and replaying the metadata log they fetch (`metadata_image`), a controller
//! keeping the metadata (`controller`), moving replicas (`reassignment`), throttling what that
//! moves (`quota`) and decommissioning brokers (`decommission`), the KRaft quorum's consensus
//! (`quorum`) and the controllers running on it (`kraft`), the messages between them
//! (`protocol`), the deterministic simulator that runs them under faults (`sim`), the checker
//! that judges a run (`check`), and an in-process cluster with a perfect network for the hosts,
//! tests and benchmarks (`local`). All sans-IO: time, the network and randomness are inputs.

pub mod broker;
pub mod check;
pub mod controller;
pub mod decommission;
pub mod kraft;
pub mod local;
pub mod metadata_image;
pub mod partition;
pub mod protocol;
pub mod quorum;
pub mod quota;
pub mod reassignment;
pub mod sim;
