//! The engine every connection shares, locked for one turn at a time. A panic inside a turn ends
//! the process at once, loudly, with `ENGINE_PANIC_EXIT_CODE`: the engine's memory cannot be
//! trusted after it, and a restart recovers every log from disk (no clean-shutdown marker is
//! written). Kept up, the process would be a zombie: its lock poisoned, serving nobody. A panic
//! while decoding a client's bytes is the exception: nothing in the engine was being changed, so
//! `kite_shared::untrusted` catches it and only that request fails.
//!
//! A turn runs off the async runtime's workers (`with_turn`): waiting for the lock and the
//! turn's storage work (fsyncs; a wide topic's thousands of files) block a thread the runtime has
//! handed its other tasks away from, so pages, pings and every connection's bytes keep moving
//! while the engine is busy. Turns are still one at a time: requests wait for each other, not
//! for a partition of their own.

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

/// Runs `work` in one turn of the engine, off the async runtime's workers when there is a
/// multi-threaded runtime to hand them to (`kite serve` has one; a plain thread just waits).
pub(crate) fn with_turn<T>(engine: &Mutex<Cluster>, work: impl FnOnce(&mut Cluster) -> T) -> T {
    let run = || work(&mut turn(engine));
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        _ => run(),
    }
}

/// Waits for the engine and takes it for one turn.
fn turn(engine: &Mutex<Cluster>) -> Turn<'_> {
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

    /// While one task's turn blocks (on the lock, or in a turn's fsyncs), the runtime's other
    /// tasks still run: here the only worker's turn waits for a task spawned after it. Were the
    /// turn to block that worker, the task would never run and the turn would give up.
    #[test]
    fn a_turn_does_not_keep_the_runtimes_other_tasks_from_running() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let engine = std::sync::Arc::new(Mutex::new(Cluster::replicated_in_memory(1, 1, 1_700_000_000_000)));
        let other_ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let saw_it = runtime.block_on({
            let other_ran = other_ran.clone();
            async move {
                tokio::spawn(async move {
                    let flag = other_ran.clone();
                    tokio::spawn(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
                    with_turn(&engine, |_| {
                        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
                        while std::time::Instant::now() < give_up {
                            if other_ran.load(std::sync::atomic::Ordering::SeqCst) {
                                return true;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                        false
                    })
                })
                .await
                .unwrap()
            }
        });
        assert!(saw_it, "the other task ran while the turn held the engine");
    }
}
