//! SASL/PLAIN on a Kafka listener (KIP-43, KIP-152): when the host requires it (`kite serve
//! --token`), a connection may send only ApiVersions, SaslHandshake and SaslAuthenticate until it
//! has authenticated; the password is the host's token (any user name). A wrong one is answered
//! SASL_AUTHENTICATION_FAILED and the connection closes, as Kafka closes it; the host counts the
//! failures per address and locks guessers out.

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, malformed, respond};

/// The one mechanism served.
const PLAIN: &str = "PLAIN";
/// Kafka's UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE and SASL_AUTHENTICATION_FAILED.
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// Where a connection is in SASL's exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SaslState {
    /// The listener asks for no authentication, or the client has authenticated.
    Open,
    /// Nothing yet: a SaslHandshake must come first.
    AwaitingHandshake,
    /// PLAIN was chosen: a SaslAuthenticate must come next.
    AwaitingAuthenticate,
    /// PLAIN was chosen with a SaslHandshake v0: the next frame is the bare token (KIP-43).
    AwaitingRawToken,
}

/// Whether `api` may be sent in `state`: before authentication only the exchange itself and
/// ApiVersions (clients ask it first).
pub(super) fn allowed(state: SaslState, api: ApiKey) -> bool {
    state == SaslState::Open
        || matches!(api, ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
}

/// SaslHandshake: PLAIN is taken (after v0 the bare token follows, after v1 a
/// SaslAuthenticate); any other mechanism gets UNSUPPORTED_SASL_MECHANISM with the list.
pub(super) fn handshake(
    connection: &mut KafkaConnection,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: SaslHandshakeRequest = decode(request, body)?;
    let response = SaslHandshakeResponse::default().with_mechanisms(vec![StrBytes::from_static_str(PLAIN)]);
    if connection.sasl != SaslState::AwaitingHandshake {
        return respond(request, &response.with_error_code(ILLEGAL_SASL_STATE));
    }
    if asked.mechanism.as_str() != PLAIN {
        return respond(request, &response.with_error_code(UNSUPPORTED_SASL_MECHANISM));
    }
    connection.sasl =
        if request.version == 0 { SaslState::AwaitingRawToken } else { SaslState::AwaitingAuthenticate };
    respond(request, &response)
}

/// The bare PLAIN token after a SaslHandshake v0: an empty frame back on success; on failure the
/// connection closes without a word, as Kafka closes it.
pub(super) fn raw_token(connection: &mut KafkaConnection, token: &[u8]) -> Result<Vec<u8>, KafkaClose> {
    if !plain_ok(connection, token) {
        connection.failed_logins += 1;
        return Err(malformed("SASL/PLAIN authentication failed".into()));
    }
    connection.sasl = SaslState::Open;
    Ok(0i32.to_be_bytes().to_vec())
}

/// Whether PLAIN's `[authzid] NUL user NUL password` carries the listener's password.
fn plain_ok(connection: &KafkaConnection, token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == 0);
    let (_authzid, user, password) = (parts.next(), parts.next(), parts.next());
    let expected = connection.listener.sasl_plain_password.as_deref().unwrap_or_default();
    user.is_some() && parts.next().is_none() && password.is_some_and(|p| same_secret(expected, p))
}

/// SaslAuthenticate with PLAIN's `[authzid] NUL user NUL password`: the password must be the
/// listener's. A failure is answered, then the connection closes.
pub(super) fn authenticate(
    connection: &mut KafkaConnection,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: SaslAuthenticateRequest = decode(request, body)?;
    if connection.sasl != SaslState::AwaitingAuthenticate {
        // After authenticating (or on a listener without SASL) it is only out of place; before
        // the handshake it ends the connection.
        let response = SaslAuthenticateResponse::default()
            .with_error_code(ILLEGAL_SASL_STATE)
            .with_error_message(Some(StrBytes::from_static_str("SaslAuthenticate is not expected now.")));
        connection.closing = connection.sasl == SaslState::AwaitingHandshake;
        return respond(request, &response);
    }
    if !plain_ok(connection, &asked.auth_bytes) {
        connection.failed_logins += 1;
        connection.closing = true;
        let response = SaslAuthenticateResponse::default()
            .with_error_code(SASL_AUTHENTICATION_FAILED)
            .with_error_message(Some(StrBytes::from_static_str(
                "Authentication failed: Invalid username or password",
            )));
        return respond(request, &response);
    }
    connection.sasl = SaslState::Open;
    respond(request, &SaslAuthenticateResponse::default())
}

/// The close for a request sent before authenticating, as Kafka closes it.
pub(super) fn unauthenticated(api: ApiKey) -> KafkaClose {
    malformed(format!("{api:?} before SASL authentication"))
}

/// Compares a secret in time that does not depend on where the bytes differ.
fn same_secret(expected: &str, given: &[u8]) -> bool {
    let expected = expected.as_bytes();
    let mut difference = expected.len() ^ given.len();
    for (i, &byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(i).copied().unwrap_or(!byte));
    }
    std::hint::black_box(difference) == 0
}
