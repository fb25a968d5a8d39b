//! The engine every connection shares, taken for one turn at a time. A panic inside a turn ends
//! the process at once, loudly, with `ENGINE_PANIC_EXIT_CODE`: the engine's memory cannot be
//! trusted after it, and a restart recovers every log from disk (no clean-shutdown marker is
//! written). Kept up, the process would serve every client from an engine left half-changed. A panic
//! while decoding a client's bytes is the exception: nothing in the engine was being changed, so
//! `kite_shared::untrusted` catches it and only that request fails.
//!
//! Waiting for a turn is asynchronous (a fair, first-come queue), and the turn itself runs off
//! the async runtime's workers (`block_in_place`): its storage work (fsyncs; a wide topic's
//! thousands of files) blocks one thread the runtime has handed its other tasks away from, so
//! pages, pings and every connection's bytes keep moving while the engine is busy. Only the turn
//! that holds the engine has a thread of its own: a hundred clients waiting cost no threads.
//! Turns are still one at a time: requests wait for each other, not for a partition of their own.
//! So the cluster is told to pace creations (`Cluster::pace_creations`): a wide topic's replica
//! logs are created a slice per turn, each later slice in a turn of its own (`Cluster::resume`,
//! which the ticker runs when `deferred_work` wakes it) queued behind the requests waiting.

use std::cell::Cell;

use kite_shared::cluster::Cluster;

/// `kite serve`'s exit status after a panic in the engine (`EX_SOFTWARE`: an internal error).
pub(crate) const ENGINE_PANIC_EXIT_CODE: i32 = 70;

thread_local! {
    /// Whether this thread is inside an engine turn (holds the engine).
    static IN_TURN: Cell<bool> = const { Cell::new(false) };
}

/// The cluster, shared by every connection, the ticker and the shutdown.
pub(crate) struct Engine {
    cluster: tokio::sync::Mutex<Cluster>,
    /// Woken when a turn leaves replica logs to create (`Cluster::has_deferred_work`).
    deferred: tokio::sync::Notify,
}

impl Engine {
    pub(crate) fn new(mut cluster: Cluster) -> Engine {
        cluster.pace_creations(kite_shared::limits::MAX_REPLICA_LOGS_CREATED_PER_TURN);
        Engine { cluster: tokio::sync::Mutex::new(cluster), deferred: tokio::sync::Notify::new() }
    }

    /// Waits until a turn has left replica logs to create.
    pub(crate) async fn deferred_work(&self) {
        self.deferred.notified().await;
    }

    /// Waits for the engine without holding a thread, then runs `work` in one turn, off the
    /// async runtime's workers when there is a multi-threaded runtime to hand them to.
    pub(crate) async fn turn<T>(&self, work: impl FnOnce(&mut Cluster) -> T) -> T {
        let mut cluster = self.cluster.lock().await;
        let run = || in_turn(|| work(&mut cluster));
        let result = match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        };
        if cluster.has_deferred_work() {
            self.deferred.notify_one();
        }
        result
    }
}

/// Runs `work` marked as inside a turn, for the panic hook below.
fn in_turn<T>(work: impl FnOnce() -> T) -> T {
    struct Marked;
    impl Drop for Marked {
        fn drop(&mut self) {
            IN_TURN.with(|in_turn| in_turn.set(false));
        }
    }
    IN_TURN.with(|in_turn| in_turn.set(true));
    let _marked = Marked;
    work()
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn engine() -> Arc<Engine> {
        Arc::new(Engine::new(Cluster::replicated_in_memory(1, 1, 1_700_000_000_000)))
    }

    /// A decoder that panics inside a turn fails its request and the process goes on: were the
    /// hook to end it, this test binary would exit with status 70 and the run would fail.
    #[test]
    fn a_decoder_panic_inside_a_turn_fails_only_its_request() {
        end_on_panic_in_turn();
        let decoded = in_turn(|| kite_shared::untrusted::decode(|| -> u8 { panic!("a crafted length") }));
        assert_eq!(decoded, Err("the decoder panicked: a crafted length".to_string()));
    }

    /// While one task's turn blocks (in a turn's fsyncs), the runtime's other tasks still run:
    /// here the only worker's turn waits for a task spawned after it. Were the turn to block that
    /// worker, the task would never run and the turn would give up.
    #[test]
    fn a_turn_does_not_keep_the_runtimes_other_tasks_from_running() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let engine = engine();
        let other_ran = Arc::new(AtomicBool::new(false));
        let saw_it = runtime.block_on({
            let other_ran = other_ran.clone();
            async move {
                tokio::spawn(async move {
                    let flag = other_ran.clone();
                    tokio::spawn(async move { flag.store(true, Ordering::SeqCst) });
                    engine
                        .turn(|_| {
                            let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
                            while std::time::Instant::now() < give_up {
                                if other_ran.load(Ordering::SeqCst) {
                                    return true;
                                }
                                std::thread::sleep(std::time::Duration::from_millis(1));
                            }
                            false
                        })
                        .await
                })
                .await
                .unwrap()
            }
        });
        assert!(saw_it, "the other task ran while the turn held the engine");
    }

    /// Clients waiting for the engine hold no thread: only the turn in progress has one. (The
    /// soak found `kite serve` at 395 threads with 100 clients when each waiter blocked a thread
    /// of its own on the lock, and its memory growing with them.)
    #[test]
    fn tasks_waiting_for_the_engine_do_not_each_take_a_thread() {
        const WAITERS: usize = 32;
        let started = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .on_thread_start({
                let started = started.clone();
                move || {
                    started.fetch_add(1, Ordering::SeqCst);
                }
            })
            .build()
            .unwrap();
        let engine = engine();
        runtime.block_on(async {
            let turns: Vec<_> = (0..WAITERS)
                .map(|_| {
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        engine.turn(|_| std::thread::sleep(std::time::Duration::from_millis(5))).await
                    })
                })
                .collect();
            for turn in turns {
                turn.await.unwrap();
            }
        });
        let threads = started.load(Ordering::SeqCst);
        assert!(threads <= 4, "{WAITERS} tasks taking turns started {threads} threads");
    }
}
