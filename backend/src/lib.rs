//! The native host's library half: what `kite` and its tests share. `client` is the blocking
//! websocket client of Kite's API; `data_dir` locks the data directory; `disk` keeps a broker's
//! logs in files, in Kafka's layout.

pub mod client;
pub mod data_dir;
pub mod disk;
