//! The native host's library half: what `kite` and its tests share. `client` is the blocking
//! websocket client of Kite's API; `connect_sqlite` the JDBC sink's SQLite databases; `data_dir`
//! locks the data directory; `disk` keeps a broker's logs in files, in Kafka's layout, with at
//! most `segment_files::MAX_OPEN_SEGMENT_FILES` segment files open; `huge_alloc` is the
//! process's allocator.

pub mod client;
pub mod connect_sqlite;
pub mod data_dir;
pub mod disk;
pub mod huge_alloc;
pub mod segment_files;

/// Every binary that links this library (`kite`, its tests) maps huge blocks lazily.
#[global_allocator]
static ALLOCATOR: huge_alloc::HugeLazily = huge_alloc::HugeLazily;
