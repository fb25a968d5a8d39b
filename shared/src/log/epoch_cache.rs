//! The leader epoch cache (Kafka's `LeaderEpochFileCache`): for each leader epoch, the first offset
//! written in it. Followers use it to find where their log diverged from a new leader's (KIP-101),
//! and it is persisted as the `leader-epoch-checkpoint` file.

/// Version line of Kafka's checkpoint files.
const CHECKPOINT_VERSION: u32 = 0;
/// Epochs one cache keeps; a partition that changes leaders this often has bigger problems.
pub const MAX_EPOCH_ENTRIES: usize = 10_000;

/// A partition's leader epochs, oldest first, each with the first offset written in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    /// (epoch, start offset), both strictly increasing.
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// An empty cache: no epoch known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// (epoch, start offset) pairs, oldest epoch first.
    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    /// The newest epoch recorded; `None` before any.
    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|&(epoch, _)| epoch)
    }

    /// Records that `epoch` starts at `start_offset`, if it is newer than the latest epoch. Entries
    /// whose start offset is not below the new one are superseded and dropped, as Kafka does.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) {
        if self.latest_epoch().is_some_and(|latest| epoch <= latest) {
            return;
        }
        self.entries.retain(|&(_, offset)| offset < start_offset);
        if self.entries.len() >= MAX_EPOCH_ENTRIES {
            self.entries.remove(0);
        }
        self.entries.push((epoch, start_offset));
    }

    /// Kafka's `endOffsetFor`: where `epoch` ended — the start offset of the next epoch, or
    /// `log_end_offset` for the latest — with the epoch this log actually has there (the floor
    /// epoch, or `epoch` itself when it is older than everything cached). `None` is Kafka's
    /// UNDEFINED: `epoch` is newer than any epoch here.
    pub fn end_offset_for(&self, epoch: i32, log_end_offset: i64) -> Option<(i32, i64)> {
        if self.latest_epoch() == Some(epoch) {
            return Some((epoch, log_end_offset));
        }
        let after = self.entries.partition_point(|&(e, _)| e <= epoch);
        let (_, higher_start) = *self.entries.get(after)?;
        match after.checked_sub(1) {
            Some(floor) => Some((self.entries[floor].0, higher_start)),
            None => Some((epoch, higher_start)),
        }
    }

    /// Drops epochs that start at or after `offset` (the log was truncated there).
    pub fn truncate_from_end(&mut self, offset: i64) {
        self.entries.retain(|&(_, start)| start < offset);
    }

    /// Moves the first kept epoch's start up to `offset` (the log start moved there).
    pub fn truncate_from_start(&mut self, offset: i64) {
        let first_kept = self.entries.partition_point(|&(_, start)| start <= offset).saturating_sub(1);
        self.entries.drain(..first_kept);
        if let Some(first) = self.entries.first_mut() {
            first.1 = first.1.max(offset);
        }
    }

    /// The `leader-epoch-checkpoint` file: version, count, then `epoch offset` lines.
    pub fn to_checkpoint(&self) -> String {
        let mut out = format!("{CHECKPOINT_VERSION}\n{}\n", self.entries.len());
        for (epoch, offset) in &self.entries {
            out.push_str(&format!("{epoch} {offset}\n"));
        }
        out
    }

    /// Reads a `leader-epoch-checkpoint` file; refuses an unknown version, a bad count or line,
    /// and entries out of order.
    pub fn from_checkpoint(text: &str) -> Result<LeaderEpochCache, String> {
        let mut lines = text.lines();
        let version = lines.next().ok_or("empty leader-epoch-checkpoint")?;
        if version.trim() != CHECKPOINT_VERSION.to_string() {
            return Err(format!("unknown leader-epoch-checkpoint version {version:?}"));
        }
        let count: usize = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or("leader-epoch-checkpoint has no entry count")?;
        if count > MAX_EPOCH_ENTRIES {
            return Err(format!("leader-epoch-checkpoint claims {count} entries"));
        }
        let mut cache = LeaderEpochCache::new();
        for line_no in 0..count {
            let line = lines
                .next()
                .ok_or(format!("leader-epoch-checkpoint ends after {line_no} of {count} entries"))?;
            let mut fields = line.split_whitespace();
            let parsed =
                (|| Some((fields.next()?.parse::<i32>().ok()?, fields.next()?.parse::<i64>().ok()?)))();
            let (epoch, offset) =
                parsed.ok_or(format!("malformed leader-epoch-checkpoint entry {line:?}"))?;
            if cache.entries.last().is_some_and(|&(e, o)| epoch <= e || offset < o) {
                return Err(format!("leader-epoch-checkpoint entry {line:?} is out of order"));
            }
            cache.entries.push((epoch, offset));
        }
        Ok(cache)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_and_their_end_offsets() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(0, 0);
        cache.assign(0, 5); // same epoch again: no change
        cache.assign(2, 10);
        cache.assign(3, 25);
        assert_eq!(cache.entries(), &[(0, 0), (2, 10), (3, 25)]);
        assert_eq!(cache.end_offset_for(0, 40), Some((0, 10)));
        assert_eq!(cache.end_offset_for(1, 40), Some((0, 10)), "an unknown epoch answers for the one before");
        assert_eq!(cache.end_offset_for(3, 40), Some((3, 40)));
        assert_eq!(cache.end_offset_for(4, 40), None, "newer than any epoch here: undefined");
        assert_eq!(
            cache.end_offset_for(-1, 40),
            Some((-1, 0)),
            "older than all: ends where the first starts"
        );
        cache.truncate_from_end(25);
        assert_eq!(cache.entries(), &[(0, 0), (2, 10)]);
        cache.truncate_from_start(12);
        assert_eq!(cache.entries(), &[(2, 12)]);
    }

    #[test]
    fn checkpoint_file_round_trips_and_refuses_garbage() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(0, 0);
        cache.assign(4, 170);
        let text = cache.to_checkpoint();
        assert_eq!(text, "0\n2\n0 0\n4 170\n");
        assert_eq!(LeaderEpochCache::from_checkpoint(&text).unwrap(), cache);
        for bad in ["", "1\n0\n", "0\n2\n0 0\n", "0\n1\nx y\n", "0\n2\n4 170\n0 0\n", "0\n99999999\n"] {
            assert!(LeaderEpochCache::from_checkpoint(bad).is_err(), "{bad:?}");
        }
    }
}
