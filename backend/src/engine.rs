//! The engine every connection shares, locked for one turn at a time. A panic inside a turn ends
//! the process at once, loudly, with `ENGINE_PANIC_EXIT_CODE`: the engine's memory cannot be
//! trusted after it, and a restart recovers every log from disk (no clean-shutdown marker is
//! written). Kept up, the process would be a zombie: its lock poisoned, serving nobody. A panic
//! while decoding a client's bytes is the exception: nothing in the engine was being changed, so
//! `kite_shared::untrusted` catches it and only that request fails.

use std::cell::Cell;
use std::sync::{Mutex, MutexGuard};

use kite_shared::cluster::Cluster;

/// `kite serve`'s exit status after a panic in the engine (`EX_SOFTWARE`: an internal error).
pub(crate) const ENGINE_PANIC_EXIT_CODE: i32 = 70;

thread_local! {
    /// Whether this thread is inside an engine turn (holds the engine's lock).
    static IN_TURN: Cell<bool> = const { Cell::new(false) };
}

/// The engine, locked for one turn; the lock goes when this does.
pub(crate) struct Turn<'a> {
    engine: MutexGuard<'a, Cluster>,
}

impl std::ops::Deref for Turn<'_> {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.engine
    }
}

impl std::ops::DerefMut for Turn<'_> {
    fn deref_mut(&mut self) -> &mut Cluster {
        &mut self.engine
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        IN_TURN.with(|in_turn| in_turn.set(false));
    }
}

/// Waits for the engine and takes it for one turn.
pub(crate) fn turn(engine: &Mutex<Cluster>) -> Turn<'_> {
    // A poisoned lock cannot happen while the hook below is installed (it exits first); if it
    // does (a panic before the hook), the process ends the same way.
    let engine =
        engine.lock().unwrap_or_else(|_| ended("the engine's lock was poisoned by an earlier panic"));
    IN_TURN.with(|in_turn| in_turn.set(true));
    Turn { engine }
}

/// Makes a panic inside an engine turn end the process; panics elsewhere (one connection's
/// transport) unwind as before and take only their task. Called once, before serving.
pub(crate) fn end_on_panic_in_turn() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        // A decoder's panic over a client's bytes is caught where it decodes: the engine was not
        // being changed, and only that request fails.
        if IN_TURN.with(Cell::get) && !kite_shared::untrusted::decoding() {
            ended(&format!("the engine panicked ({info})"));
        }
    }));
}

fn ended(why: &str) -> ! {
    tracing::error!(
        "{why}: kite serve exits with status {ENGINE_PANIC_EXIT_CODE}; the next start recovers every log from disk"
    );
    std::process::exit(ENGINE_PANIC_EXIT_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoder that panics inside a turn fails its request and the process goes on: were the
    /// hook to end it, this test binary would exit with status 70 and the run would fail.
    #[test]
    fn a_decoder_panic_inside_a_turn_fails_only_its_request() {
        end_on_panic_in_turn();
        let engine = Mutex::new(Cluster::replicated_in_memory(1, 1, 1_700_000_000_000));
        let taken = turn(&engine);
        let decoded = kite_shared::untrusted::decode(|| -> u8 { panic!("a crafted length") });
        assert_eq!(decoded, Err("the decoder panicked: a crafted length".to_string()));
        drop(taken);
        assert!(engine.lock().is_ok(), "the engine's lock is not poisoned");
    }
}
