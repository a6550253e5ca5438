//! The WAL level a template is made for. Each level has its own template
//! (and so its own pool and spares), because a standby checks the level
//! in the control file it starts from: a copy of a `minimal` template can
//! never become a replica, and replicas are copies of the very template
//! their primary was copied from (same system identifier, same starting
//! checkpoint), which is what lets them start without `pg_basebackup`.
//! <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-WAL-LEVEL>

/// What WAL a template's servers write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WalLevel {
    /// Just enough for crash recovery, and the fastest: plain hand-outs.
    #[default]
    Minimal,
    /// Enough for streaming replicas (`--replicas`).
    Replica,
    /// Enough for logical decoding too (`--logical`).
    Logical,
}

/// WAL senders each server has room for: the most replicas of a set, plus
/// some for the user's `pg_basebackup`, `pg_receivewal`, `pg_recvlogical`
/// or subscribers.
pub const WAL_SENDERS: u32 = 16;

/// How much WAL a primary keeps for its replicas, in MB. Replicas start from
/// the template's checkpoint and stream everything written since, so the
/// primary must not recycle that WAL before they have it; a replica that
/// restarts needs what was written meanwhile. Physical slots would keep it
/// without a bound, but then every promotion and restart would have to
/// move them; this bound is far beyond what a replica on the same machine
/// falls behind.
pub const WAL_KEEP_MB: u32 = 512;

impl WalLevel {
    /// For the template key: empty for `minimal`, so the keys of plain
    /// templates stay what they were.
    pub fn key_part(self) -> &'static str {
        match self {
            WalLevel::Minimal => "",
            WalLevel::Replica => "replica",
            WalLevel::Logical => "logical",
        }
    }

    /// The lines added to `postgresql.conf` for this level, for PostgreSQL
    /// `major`.
    pub fn settings(self, major: u32) -> String {
        let level = match self {
            // Without WAL senders, `minimal` may skip WAL for new tables;
            // commits need not wait for their WAL to be flushed.
            WalLevel::Minimal => {
                return "wal_level = minimal\nmax_wal_senders = 0\nsynchronous_commit = off\n"
                    .into();
            }
            WalLevel::Replica => "replica",
            WalLevel::Logical => "logical",
        };
        // wal_keep_segments became wal_keep_size in 13; segments are 1 MB.
        let keep = if major >= 13 {
            format!("wal_keep_size = {WAL_KEEP_MB}MB")
        } else {
            format!("wal_keep_segments = {WAL_KEEP_MB}")
        };
        let mut text = format!(
            "wal_level = {level}\n\
             max_wal_senders = {WAL_SENDERS}\n\
             max_replication_slots = {WAL_SENDERS}\n\
             {keep}\n\
             hot_standby = on\n\
             # WAL senders send only flushed WAL: with asynchronous commits a\n\
             # commit would reach replicas and subscribers only when the WAL\n\
             # writer next wakes (up to 200 ms later). With fsync off, the\n\
             # flush costs next to nothing.\n\
             synchronous_commit = on\n"
        );
        if self == WalLevel::Logical {
            // Apply and table-sync workers come out of max_worker_processes.
            text.push_str(
                "max_worker_processes = 16\n\
                 max_logical_replication_workers = 8\n",
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::WalLevel;

    #[test]
    fn settings_per_level_and_version() {
        assert!(
            WalLevel::Minimal
                .settings(15)
                .contains("wal_level = minimal")
        );
        let replica = WalLevel::Replica.settings(13);
        assert!(replica.contains("wal_keep_size = 512MB"), "{replica}");
        assert!(replica.contains("synchronous_commit = on"), "{replica}");
        assert!(
            WalLevel::Replica
                .settings(12)
                .contains("wal_keep_segments = 512")
        );
        let logical = WalLevel::Logical.settings(18);
        assert!(logical.contains("wal_level = logical"), "{logical}");
        assert!(
            logical.contains("max_logical_replication_workers"),
            "{logical}"
        );
        assert_eq!(WalLevel::Minimal.key_part(), "");
    }
}
