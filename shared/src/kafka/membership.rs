//! UnregisterBroker (`kafka-cluster unregister`, the admin clients' `unregisterBroker`), on the
//! engine's own `remove_broker`. Kafka's controller drops the registration at once and leaves
//! the broker's replicas offline in their assignments; Kite decommissions instead — the
//! replicas move to the other brokers first, then the broker is unregistered — so a learner
//! never strands a partition by unregistering a broker that still holds one.

use bytes::Bytes;
use kafka_protocol::messages::{UnregisterBrokerRequest, UnregisterBrokerResponse};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::api::{Command, Reply};
use crate::cluster::Cluster;

pub(super) fn unregister_broker(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: UnregisterBrokerRequest = decode(request, body)?;
    let broker = asked.broker_id.0;
    let response = match connection.ask(cluster, request.now_ms, Command::RemoveBroker { broker }) {
        Reply::Error(error) => UnregisterBrokerResponse::default()
            .with_error_code(error_code(&error))
            .with_error_message(Some(StrBytes::from_string(error.message))),
        _ => UnregisterBrokerResponse::default(),
    };
    respond(request, &response)
}
