//! The tab's persistent storage: the engine's files (segments, indexes, checkpoints) in
//! IndexedDB, so a reload reopens the cluster through the same log recovery a server runs.
//!
//! Object store `files`: key `[dir, file, position]` → a `Uint8Array` chunk of that file starting
//! at byte `position` (an append is one chunk; a whole-file write is one chunk at 0), or a number:
//! the key of a chunk in `blobs` that several files share. Reading a file is its chunks in key
//! order, concatenated while they are contiguous. Object store `blobs`: number → `Uint8Array`,
//! bytes that identical appends of one commit share — a partition's replicas append the same
//! batches at the same positions, so with replication factor 3 each batch is stored once, not
//! three times. A blob is deleted with the last chunk that names it (a blob found named by no
//! chunk at load is deleted by the next commit). Object store `meta`: key
//! `"seed"` → the engine's seed, as a decimal string.
//!
//! The engine runs on a journaled memory store; the worker commits requests' journals in
//! readwrite transactions, and answers only once they completed. rexie
//! opens the database (schema) and reads it at startup; the write transaction is made through
//! web-sys directly, because rexie cannot pass IndexedDB's `durability` option ("strict" makes
//! Chromium flush to disk before `complete`, "relaxed" is its default).

use std::cell::RefCell;

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
/// Version 2 added `blobs`; a version-1 database opens as it was (its chunks are all bytes).
const DATABASE_VERSION: u32 = 2;
const FILES_STORE: &str = "files";
const BLOBS_STORE: &str = "blobs";
const META_STORE: &str = "meta";
const SEED_KEY: &str = "seed";
/// How long an engine waits for another tab (or the page a reload replaces) to let go of the
/// database before it runs in memory instead.
pub const DATABASE_LOCK_WAIT_MS: u32 = 3_000;

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

/// This tab's claim on a database: a Web Lock named after it, held while an engine runs on the
/// database, so two tabs never write the same stored cluster (each would append to the same
/// files from its own idea of them). Released when dropped; a closed tab's locks go with it.
pub struct DatabaseLock {
    release: Option<js_sys::Function>,
}

impl Drop for DatabaseLock {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

impl DatabaseLock {
    /// Waits up to `wait_ms` for database `name`'s lock. Without Web Locks (a page that is not
    /// a secure context) it claims nothing and succeeds, as before locks.
    pub async fn claim(name: &str, wait_ms: u32) -> Result<DatabaseLock, String> {
        let global = js_sys::global();
        let locks = Reflect::get(&global, &JsValue::from_str("navigator"))
            .and_then(|navigator| Reflect::get(&navigator, &JsValue::from_str("locks")))
            .unwrap_or(JsValue::UNDEFINED);
        if locks.is_undefined() {
            return Ok(DatabaseLock { release: None });
        }
        let request: js_sys::Function = Reflect::get(&locks, &JsValue::from_str("request"))
            .map_err(|e| js_message(&e))?
            .dyn_into()
            .map_err(|_| "navigator.locks.request is not a function".to_string())?;
        let abort_signal =
            Reflect::get(&global, &JsValue::from_str("AbortSignal")).map_err(|e| js_message(&e))?;
        let timeout: js_sys::Function = Reflect::get(&abort_signal, &JsValue::from_str("timeout"))
            .map_err(|e| js_message(&e))?
            .dyn_into()
            .map_err(|_| "AbortSignal.timeout is not a function".to_string())?;
        let options = js_sys::Object::new();
        let signal = timeout.call1(&abort_signal, &JsValue::from(wait_ms)).map_err(|e| js_message(&e))?;
        Reflect::set(&options, &JsValue::from_str("signal"), &signal).map_err(|e| js_message(&e))?;
        // The lock is held until `held` resolves: `release` resolves it.
        let mut release = None;
        let held = Promise::new(&mut |resolve, _| release = Some(resolve));
        let mut granted_resolve = None;
        let granted = Promise::new(&mut |resolve, _| granted_resolve = Some(resolve));
        let granted_resolve = granted_resolve.expect_throw("Promise::new runs its executor at once");
        let on_grant = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            let _ = granted_resolve.call0(&JsValue::NULL);
            held
        });
        let lock_name = JsValue::from_str(&format!("kite-database:{name}"));
        // Settles when the lock is released, or rejects if the wait timed out; the race with
        // `granted` says which came first.
        let requested = request.call3(&locks, &lock_name, &options, &on_grant).map_err(|e| js_message(&e))?;
        match JsFuture::from(Promise::race(&Array::of2(&granted, &requested))).await {
            Ok(_) => Ok(DatabaseLock { release }),
            Err(e) => Err(format!(
                "the cluster stored in this browser is open in another tab (its database lock was still held after {wait_ms} ms: {}); this tab keeps its own cluster in memory — close the other tab and reload to use the stored one",
                js_message(&e)
            )),
        }
    }
}

/// An open Kite database.
pub struct TabStorage {
    rexie: Rexie,
    /// A second connection to the same database, for the write transactions.
    raw: IdbDatabase,
    /// Which stored chunks name a blob: read at load, kept up to date by each commit.
    shared: RefCell<SharedChunks>,
}

/// A chunk's key: `(dir, file, position)`.
type ChunkKey = (String, String, usize);

/// The chunks stored as a blob's number, and how many chunks name each blob. Sorted vectors
/// rather than maps: each map type costs the tab's bundle its own copy of the map's code.
#[derive(Default)]
struct SharedChunks {
    /// The chunks that name a blob, sorted by chunk.
    blob_of: Vec<(ChunkKey, u64)>,
    /// How many chunks name each blob, sorted by blob.
    chunks_naming: Vec<(u64, usize)>,
    next_blob: u64,
    /// Blobs no chunk named at load (left by a connection that had not loaded them), deleted
    /// by the next commit.
    orphans: Vec<u64>,
}

impl SharedChunks {
    /// The chunk at `key` names `blob`.
    fn name(&mut self, key: ChunkKey, blob: u64) {
        match self.blob_of.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => self.blob_of[at].1 = blob,
            Err(at) => self.blob_of.insert(at, (key, blob)),
        }
    }

    /// How many chunks name `blob` (0 for one not known yet).
    fn count_mut(&mut self, blob: u64) -> &mut usize {
        let at = match self.chunks_naming.binary_search_by_key(&blob, |(b, _)| *b) {
            Ok(at) => at,
            Err(at) => {
                self.chunks_naming.insert(at, (blob, 0));
                at
            }
        };
        &mut self.chunks_naming[at].1
    }

    /// The chunk at `key` is replaced or deleted: if it named a blob, that blob has one chunk
    /// fewer, and goes when it has none.
    fn release(&mut self, key: &ChunkKey, blobs: &IdbObjectStore) -> Result<(), JsValue> {
        let Ok(at) = self.blob_of.binary_search_by(|(k, _)| k.cmp(key)) else { return Ok(()) };
        let (_, blob) = self.blob_of.remove(at);
        let count = self.count_mut(blob);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.chunks_naming.retain(|(b, _)| *b != blob);
            blobs.delete(&JsValue::from_f64(blob as f64))?;
        }
        Ok(())
    }

    /// Every chunk of `(dir, file)` that names a blob.
    fn chunks_of(&self, dir: &str, file: &str) -> Vec<ChunkKey> {
        let start = self.blob_of.partition_point(|((d, f, _), _)| (d.as_str(), f.as_str()) < (dir, file));
        self.blob_of[start..]
            .iter()
            .take_while(|((d, f, _), _)| d == dir && f == file)
            .map(|(key, _)| key.clone())
            .collect()
    }
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
            .add_object_store(ObjectStore::new(BLOBS_STORE))
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
        // New blobs are numbered after the last one stored, even on a connection that commits
        // without loading first: a number is never reused while its blob exists.
        let last_blob = {
            let transaction = rexie
                .transaction(&[BLOBS_STORE], TransactionMode::ReadOnly)
                .map_err(|e| format!("cannot read IndexedDB: {}", describe(e)))?;
            let blobs = transaction.store(BLOBS_STORE).map_err(describe)?;
            let last =
                blobs.scan(None, Some(1), None, Some(rexie::Direction::Prev)).await.map_err(describe)?;
            last.first().and_then(|(key, _)| key.as_f64())
        };
        let shared =
            SharedChunks { next_blob: last_blob.map_or(0, |last| last as u64 + 1), ..Default::default() };
        Ok(TabStorage { rexie, raw, shared: RefCell::new(shared) })
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
            .transaction(&[FILES_STORE, BLOBS_STORE, META_STORE], TransactionMode::ReadOnly)
            .map_err(|e| format!("cannot read IndexedDB: {}", describe(e)))?;
        let files_store = transaction.store(FILES_STORE).map_err(describe)?;
        let chunks = files_store.scan(None, None, None, None).await.map_err(describe)?;
        let blobs_store = transaction.store(BLOBS_STORE).map_err(describe)?;
        // In key order (IndexedDB scans in it), so a blob is found by binary search.
        let mut blobs: Vec<(u64, Vec<u8>)> = Vec::new();
        for (key, value) in blobs_store.scan(None, None, None, None).await.map_err(describe)? {
            let blob = key.as_f64().ok_or_else(|| format!("a blob key is not a number: {key:?}"))? as u64;
            let bytes =
                value.dyn_into::<Uint8Array>().map_err(|_| format!("blob {blob} is not bytes"))?.to_vec();
            blobs.push((blob, bytes));
        }
        let seed = transaction
            .store(META_STORE)
            .map_err(describe)?
            .get(JsValue::from_str(SEED_KEY))
            .await
            .map_err(describe)?
            .and_then(|value| value.as_string())
            .and_then(|text| text.parse().ok());
        let mut shared =
            SharedChunks { next_blob: blobs.last().map_or(0, |(last, _)| last + 1), ..Default::default() };
        let mut files = FileMap::new();
        let mut dropped_bytes = 0;
        // The file whose chunks stopped being contiguous: the rest of its chunks are left out.
        let mut gap_in: Option<(String, String)> = None;
        // Keys sort by dir, then file, then position: each file's chunks come in order.
        for (key, value) in chunks {
            let key: Array = key.dyn_into().map_err(|_| "a chunk key is not an array".to_string())?;
            let (Some(dir), Some(file), Some(position)) =
                (key.get(0).as_string(), key.get(1).as_string(), key.get(2).as_f64())
            else {
                return Err(format!("a chunk key is not [dir, file, position]: {key:?}"));
            };
            let bytes: Option<Vec<u8>> = match value.as_f64() {
                Some(blob) => {
                    let blob = blob as u64;
                    shared.name((dir.clone(), file.clone(), position as usize), blob);
                    *shared.count_mut(blob) += 1;
                    blobs.binary_search_by_key(&blob, |(b, _)| *b).ok().map(|at| blobs[at].1.clone())
                }
                None => Some(
                    value
                        .dyn_into::<Uint8Array>()
                        .map_err(|_| format!("chunk {dir}/{file}@{position} is neither bytes nor a blob"))?
                        .to_vec(),
                ),
            };
            let name = (dir, file);
            let contents = files.entry(name.clone()).or_default();
            // A gap (a missing chunk, or a blob that is not there) means what follows in this
            // file cannot be placed; log recovery treats the file as ending at the gap.
            match bytes {
                Some(bytes) if position == contents.len() as f64 && gap_in.as_ref() != Some(&name) => {
                    contents.extend_from_slice(&bytes);
                }
                bytes => {
                    dropped_bytes += bytes.map_or(0, |b| b.len());
                    gap_in = Some(name);
                }
            }
        }
        shared.orphans = blobs
            .iter()
            .map(|(blob, _)| *blob)
            .filter(|blob| shared.chunks_naming.binary_search_by_key(blob, |(b, _)| *b).is_err())
            .collect();
        *self.shared.borrow_mut() = shared;
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
        let stores = Array::of2(&JsValue::from_str(FILES_STORE), &JsValue::from_str(BLOBS_STORE));
        let transaction: IdbTransaction = method
            .call3(&self.raw, &stores, &JsValue::from_str("readwrite"), &options)
            .map_err(|e| format!("cannot start an IndexedDB transaction: {}", js_message(&e)))?
            .dyn_into()
            .map_err(|_| "IDBDatabase.transaction gave no transaction".to_string())?;
        let files = transaction.object_store(FILES_STORE).map_err(|e| js_message(&e))?;
        let blobs = transaction.object_store(BLOBS_STORE).map_err(|e| js_message(&e))?;
        if let Err(e) = queue(&files, &blobs, &mut self.shared.borrow_mut(), ops) {
            let _ = transaction.abort();
            return Err(e);
        }
        let done = Box::pin(wait_for(&transaction, "complete", &["error", "abort"]));
        Ok(PendingCommit { transaction: Some(transaction), done })
    }
}

/// Issues every op's requests on `files` (and `blobs`); the transaction completes when they all
/// succeed. Appends of the same bytes to the same file name at the same position (a partition's
/// replicas, in different directories) are stored as one blob that each of their chunks names.
fn queue(
    files: &IdbObjectStore,
    blobs: &IdbObjectStore,
    shared: &mut SharedChunks,
    ops: &[StorageOp],
) -> Result<(), String> {
    let failed = |e: JsValue| format!("IndexedDB refused a request: {}", js_message(&e));
    for blob in std::mem::take(&mut shared.orphans) {
        blobs.delete(&JsValue::from_f64(blob as f64)).map_err(failed)?;
    }
    // For each append, the first append of this commit it is a copy of (itself if none), and per
    // first append how many copies it has.
    let mut first_of = Vec::with_capacity(ops.len());
    let mut copies = vec![0usize; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        let first = match op {
            StorageOp::Append { file, position, bytes, .. } => ops[..i]
                .iter()
                .position(|earlier| {
                    matches!(earlier, StorageOp::Append { file: f, position: p, bytes: b, .. }
                        if f == file && p == position && b == bytes)
                })
                .unwrap_or(i),
            _ => i,
        };
        copies[first] += 1;
        first_of.push(first);
    }
    // The blob of each first append that has copies, once put.
    let mut blob_of_first: Vec<Option<u64>> = vec![None; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        match op {
            StorageOp::Append { dir, file, position, bytes } => {
                let key = (dir.clone(), file.clone(), *position);
                shared.release(&key, blobs).map_err(failed)?;
                let first = first_of[i];
                let value: JsValue = if copies[first] > 1 {
                    let blob = match blob_of_first[first] {
                        Some(blob) => blob,
                        None => {
                            let blob = shared.next_blob;
                            shared.next_blob += 1;
                            blobs
                                .put_with_key(
                                    &Uint8Array::from(bytes.as_slice()),
                                    &JsValue::from_f64(blob as f64),
                                )
                                .map_err(failed)?;
                            // Counted whole at once, so a copy deleted before the others are
                            // put (a file deleted later in this commit) cannot free it early.
                            *shared.count_mut(blob) = copies[first];
                            blob_of_first[first] = Some(blob);
                            blob
                        }
                    };
                    shared.name(key, blob);
                    JsValue::from_f64(blob as f64)
                } else {
                    Uint8Array::from(bytes.as_slice()).into()
                };
                files.put_with_key(&value, &chunk_key(dir, file, *position as f64)).map_err(failed)?;
            }
            StorageOp::Write { dir, file, bytes } => {
                for key in shared.chunks_of(dir, file) {
                    shared.release(&key, blobs).map_err(failed)?;
                }
                files.delete(&file_range(dir, file)?.into()).map_err(failed)?;
                let chunk = Uint8Array::from(bytes.as_slice());
                files.put_with_key(&chunk, &chunk_key(dir, file, 0.0)).map_err(failed)?;
            }
            StorageOp::Delete { dir, file } => {
                for key in shared.chunks_of(dir, file) {
                    shared.release(&key, blobs).map_err(failed)?;
                }
                files.delete(&file_range(dir, file)?.into()).map_err(failed)?;
            }
        }
    }
    Ok(())
}
