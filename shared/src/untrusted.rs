//! Decoding what a client sent, fenced off from the engine. Every decoder is bounded and fuzzed,
//! but one that panics on crafted bytes (a bug in it, or in a crate under it) must fail that
//! request, not the engine's turn: decoding changes nothing in the engine, so the engine is still
//! whole after such a panic. A host that ends the process on a panic inside an engine turn asks
//! [`decoding`] first (`kite serve`'s panic hook does).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// Whether this thread is inside [`decode`] now.
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `decode` over a client's bytes: its result, or the panic's message as an error. On
/// wasm32, where panics abort, there is nothing to catch.
pub fn decode<T>(decode: impl FnOnce() -> T) -> Result<T, String> {
    let outer = DECODING.with(|d| d.replace(true));
    let result = catch_unwind(AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(outer));
    result.map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        format!("the decoder panicked: {message}")
    })
}

/// Whether this thread is decoding a client's bytes: a panic now is [`decode`]'s to catch.
pub fn decoding() -> bool {
    DECODING.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoder_that_panics_fails_its_request_only() {
        assert_eq!(decode(|| 7), Ok(7));
        assert!(!decoding());
        let failed = decode(|| -> u8 {
            assert!(decoding());
            panic!("a crafted length")
        });
        assert_eq!(failed, Err("the decoder panicked: a crafted length".to_string()));
        assert!(!decoding(), "the flag is down again after a panic");
    }
}
