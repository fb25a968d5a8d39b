//! The tab's persistent storage: the engine's files (segments, indexes, checkpoints) in
//! IndexedDB, so a reload reopens the cluster through the same log recovery a server runs.
//!
//! Object store `files`: key `[dir, file, position]` → a `Uint8Array` chunk of that file starting
//! at byte `position` (an append is one chunk; a whole-file write is one chunk at 0). Reading a
//! file is its chunks in key order, concatenated while they are contiguous. Object store `meta`:
//! key `"seed"` → the engine's seed, as a decimal string.
//!
//! The engine runs on a journaled memory store; after each request the worker commits the
//! request's journal in one readwrite transaction, and answers only once it completed. rexie
//! opens the database (schema) and reads it at startup; the write transaction is made through
//! web-sys directly, because rexie cannot pass IndexedDB's `durability` option ("strict" makes
//! Chromium flush to disk before `complete`, "relaxed" is its default).

use js_sys::{Array, Promise, Reflect, Uint8Array};
use kite_shared::log::storage::{FileMap, StorageOp};
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen::{JsCast, UnwrapThrowExt};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbOpenDbRequest, IdbTransaction,
};

/// The database the playground keeps its cluster in.
pub const DEFAULT_DATABASE_NAME: &str = "kite";
/// The schema version; bump it (and declare every store again) when the schema changes.
const DATABASE_VERSION: u32 = 1;
const FILES_STORE: &str = "files";
const META_STORE: &str = "meta";
const SEED_KEY: &str = "seed";

/// How a commit waits for the browser's storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// The browser's default: `complete` once the data is in the OS.
    Relaxed,
    /// `complete` once the data is flushed to disk.
    Strict,
}

impl Durability {
    fn as_str(self) -> &'static str {
        match self {
            Durability::Relaxed => "relaxed",
            Durability::Strict => "strict",
        }
    }
}

/// An open Kite database.
pub struct TabStorage {
    rexie: Rexie,
    /// A second connection to the same database, for the write transactions.
    raw: IdbDatabase,
}

/// What the database held at open.
pub struct Loaded {
    pub files: FileMap,
    pub seed: Option<u64>,
    /// Bytes of chunks that did not continue their file contiguously, left out.
    pub dropped_bytes: usize,
}

fn describe(error: impl std::fmt::Debug) -> String {
    format!("{error:?}")
}

fn js_message(value: &JsValue) -> String {
    if let Some(exception) = value.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", exception.name(), exception.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// `indexedDB`, in a window or a worker.
fn factory() -> Result<IdbFactory, String> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .ok()
        .and_then(|value| value.dyn_into::<IdbFactory>().ok())
        .ok_or_else(|| "this browser context has no IndexedDB".to_string())
}

fn chunk_key(dir: &str, file: &str, position: f64) -> JsValue {
    Array::of3(&JsValue::from_str(dir), &JsValue::from_str(file), &JsValue::from_f64(position)).into()
}

/// Every chunk of one file.
fn file_range(dir: &str, file: &str) -> Result<IdbKeyRange, String> {
    IdbKeyRange::bound(&chunk_key(dir, file, 0.0), &chunk_key(dir, file, f64::INFINITY))
        .map_err(|e| js_message(&e))
}

/// Resolves when one of `events` fires on `target`, with whether it was the first (success).
/// Listens on `target` now, and resolves on its first `success` event (or rejects on a failure
/// event). The listeners are added before this returns, not when the future is first polled, so
/// an event that fires while the caller awaits something else is not missed.
fn wait_for(
    target: &web_sys::EventTarget,
    success: &'static str,
    failures: &'static [&'static str],
) -> impl std::future::Future<Output = Result<(), JsValue>> + use<> {
    let mut handler: Option<Closure<dyn FnMut(Event)>> = None;
    let promise = Promise::new(&mut |resolve, reject| {
        let closure = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if event.type_() == success {
                let _ = resolve.call0(&JsValue::NULL);
            } else {
                let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&event.type_()));
            }
        });
        handler = Some(closure);
    });
    let callback = handler.expect_throw("Promise::new runs its executor at once");
    let names = move || std::iter::once(success).chain(failures.iter().copied());
    let listening: Result<(), JsValue> = names().try_for_each(|name| {
        target.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref())
    });
    let target = target.clone();
    async move {
        listening?;
        let result = JsFuture::from(promise).await.map(|_| ());
        for name in names() {
            let _ = target.remove_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        }
        result
    }
}

/// A write transaction under way: its requests are issued, and IndexedDB runs them while the
/// worker goes on computing the next answers.
pub struct PendingCommit {
    transaction: Option<IdbTransaction>,
    done: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), JsValue>>>>,
}

impl PendingCommit {
    /// Waits until IndexedDB stored the changes, or says why it did not.
    pub async fn finish(self) -> Result<(), String> {
        let Some(transaction) = self.transaction else { return Ok(()) };
        match self.done.await {
            Ok(()) => Ok(()),
            Err(_) => {
                let reason =
                    transaction.error().map_or_else(|| "aborted".to_string(), |e| js_message(&e.into()));
                Err(format!("IndexedDB did not store the change: {reason}"))
            }
        }
    }
}

impl TabStorage {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<TabStorage, String> {
        // rexie deletes stores not declared on an upgrade: declare them all, every time.
        let rexie = Rexie::builder(name)
            .version(DATABASE_VERSION)
            .add_object_store(ObjectStore::new(FILES_STORE))
            .add_object_store(ObjectStore::new(META_STORE))
            .build()
            .await
            .map_err(|e| format!("cannot open IndexedDB database {name}: {}", describe(e)))?;
        let request: IdbOpenDbRequest =
            factory()?.open_with_u32(name, DATABASE_VERSION).map_err(|e| js_message(&e))?;
        wait_for(&request, "success", &["error", "blocked"])
            .await
            .map_err(|e| format!("cannot open IndexedDB database {name}: {}", js_message(&e)))?;
        let raw: IdbDatabase = request
            .result()
            .map_err(|e| js_message(&e))?
            .dyn_into()
            .map_err(|_| "IndexedDB open gave no database".to_string())?;
        Ok(TabStorage { rexie, raw })
    }

    /// Deletes the database `name` (the playground's reset).
    pub async fn delete(name: &str) -> Result<(), String> {
        Rexie::delete(name)
            .await
            .map_err(|e| format!("cannot delete IndexedDB database {name}: {}", describe(e)))
    }

    /// Closes the connection the writes go through, as the browser does when the user clears
    /// the site's data: every commit from then on fails (the tests' way to make storage fail).
    pub fn close_write_connection(&self) {
        self.raw.close();
    }

    /// Closes both connections.
    pub fn close(self) {
        self.raw.close();
        self.rexie.close();
    }

    /// Every file and the seed.
    pub async fn load(&self) -> Result<Loaded, String> {
        let transaction = self
            .rexie
            .transaction(&[FILES_STORE, META_STORE], TransactionMode::ReadOnly)
            .map_err(|e| format!("cannot read IndexedDB: {}", describe(e)))?;
        let files_store = transaction.store(FILES_STORE).map_err(describe)?;
        let chunks = files_store.scan(None, None, None, None).await.map_err(describe)?;
        let seed = transaction
            .store(META_STORE)
            .map_err(describe)?
            .get(JsValue::from_str(SEED_KEY))
            .await
            .map_err(describe)?
            .and_then(|value| value.as_string())
            .and_then(|text| text.parse().ok());
        let mut files = FileMap::new();
        let mut dropped_bytes = 0;
        // Keys sort by dir, then file, then position: each file's chunks come in order.
        for (key, value) in chunks {
            let key: Array = key.dyn_into().map_err(|_| "a chunk key is not an array".to_string())?;
            let (Some(dir), Some(file), Some(position)) =
                (key.get(0).as_string(), key.get(1).as_string(), key.get(2).as_f64())
            else {
                return Err(format!("a chunk key is not [dir, file, position]: {key:?}"));
            };
            let bytes = value
                .dyn_into::<Uint8Array>()
                .map_err(|_| format!("chunk {dir}/{file}@{position} is not bytes"))?
                .to_vec();
            let contents = files.entry((dir, file)).or_default();
            // A gap means a chunk is missing; what follows cannot be placed, and log recovery
            // treats the file as ending at the gap.
            if position == contents.len() as f64 && dropped_bytes == 0 {
                contents.extend_from_slice(&bytes);
            } else {
                dropped_bytes += bytes.len();
            }
        }
        Ok(Loaded { files, seed, dropped_bytes })
    }

    /// Stores the engine's seed.
    pub async fn save_seed(&self, seed: u64) -> Result<(), String> {
        let transaction =
            self.rexie.transaction(&[META_STORE], TransactionMode::ReadWrite).map_err(describe)?;
        let store = transaction.store(META_STORE).map_err(describe)?;
        store
            .put(&JsValue::from_str(&seed.to_string()), Some(&JsValue::from_str(SEED_KEY)))
            .await
            .map_err(describe)?;
        match transaction.done().await.map_err(describe)? {
            rexie::TransactionResult::Committed => Ok(()),
            rexie::TransactionResult::Aborted => Err("IndexedDB aborted saving the seed".into()),
        }
    }

    /// Applies `ops` in one transaction, atomically: all or none of them are stored.
    pub async fn commit(&self, ops: &[StorageOp], durability: Durability) -> Result<(), String> {
        self.begin_commit(ops, durability)?.finish().await
    }

    /// Starts applying `ops` in one transaction, atomically, and returns at once; `finish` waits
    /// for it. IndexedDB runs a database's write transactions in the order they were started.
    pub fn begin_commit(&self, ops: &[StorageOp], durability: Durability) -> Result<PendingCommit, String> {
        if ops.is_empty() {
            return Ok(PendingCommit { transaction: None, done: Box::pin(async { Ok(()) }) });
        }
        // IDBDatabase.transaction(stores, mode, { durability }) — the options argument is not in
        // web-sys's stable API, so the call goes through Reflect.
        let options = js_sys::Object::new();
        Reflect::set(&options, &JsValue::from_str("durability"), &JsValue::from_str(durability.as_str()))
            .map_err(|e| js_message(&e))?;
        let method: js_sys::Function = Reflect::get(&self.raw, &JsValue::from_str("transaction"))
            .map_err(|e| js_message(&e))?
            .dyn_into()
            .map_err(|_| "IDBDatabase.transaction is not a function".to_string())?;
        let transaction: IdbTransaction = method
            .call3(&self.raw, &JsValue::from_str(FILES_STORE), &JsValue::from_str("readwrite"), &options)
            .map_err(|e| format!("cannot start an IndexedDB transaction: {}", js_message(&e)))?
            .dyn_into()
            .map_err(|_| "IDBDatabase.transaction gave no transaction".to_string())?;
        let store = transaction.object_store(FILES_STORE).map_err(|e| js_message(&e))?;
        if let Err(e) = queue(&store, ops) {
            let _ = transaction.abort();
            return Err(e);
        }
        let done = Box::pin(wait_for(&transaction, "complete", &["error", "abort"]));
        Ok(PendingCommit { transaction: Some(transaction), done })
    }
}

/// Issues every op's requests on `store`; the transaction completes when they all succeed.
fn queue(store: &IdbObjectStore, ops: &[StorageOp]) -> Result<(), String> {
    let failed = |e: JsValue| format!("IndexedDB refused a request: {}", js_message(&e));
    for op in ops {
        match op {
            StorageOp::Append { dir, file, position, bytes } => {
                let chunk = Uint8Array::from(bytes.as_slice());
                store.put_with_key(&chunk, &chunk_key(dir, file, *position as f64)).map_err(failed)?;
            }
            StorageOp::Write { dir, file, bytes } => {
                store.delete(&file_range(dir, file)?.into()).map_err(failed)?;
                let chunk = Uint8Array::from(bytes.as_slice());
                store.put_with_key(&chunk, &chunk_key(dir, file, 0.0)).map_err(failed)?;
            }
            StorageOp::Delete { dir, file } => {
                store.delete(&file_range(dir, file)?.into()).map_err(failed)?;
            }
        }
    }
    Ok(())
}
