//! Kafka's transactions: the coordinator's state machine (`coordinator`), the records it keeps in
//! `__transaction_state` (`log`), and the COMMIT/ABORT markers it writes to each partition of a
//! transaction (`marker`). The cluster drives them (`cluster::transactions`); each partition's
//! side — open transactions, the last stable offset, aborted transactions — is in
//! `log::producer_state`. docs/transactions.md.

pub mod coordinator;
pub mod log;
pub mod marker;

/// Kafka's transaction state topic.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";
