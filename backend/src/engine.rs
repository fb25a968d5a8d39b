//! The engine every connection shares, locked for one turn at a time. A panic inside a turn ends
//! the process at once, loudly, with `ENGINE_PANIC_EXIT_CODE`: the engine's memory cannot be
//! trusted after it, and a restart recovers every log from disk (no clean-shutdown marker is
//! written). Kept up, the process would be a zombie: its lock poisoned, serving nobody.

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
        if IN_TURN.with(Cell::get) {
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
