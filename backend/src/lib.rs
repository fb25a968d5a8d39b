//! The native host's library half: what `kite` and its tests share. `data_dir` locks the data
//! directory; `disk` keeps a broker's logs in files, in Kafka's layout.

pub mod data_dir;
pub mod disk;
