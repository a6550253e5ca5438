//! What a hand-out asks for: the library's form of `pgtmp start`'s
//! options, plain values that any caller can fill in.

use std::path::PathBuf;
use std::time::Duration;

/// A request for one instance. `Request::default()` is what `pgtmp` with
/// no options asks for: a socket-only server, the default idle timeout,
/// the data deleted when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Keep the data directory after the server stops (`-k`).
    pub keep: bool,
    /// Listen on 127.0.0.1 too, with a password (`-t`).
    pub tcp: bool,
    /// Listen on this TCP port (`-p`; implies `tcp`).
    pub port: Option<u16>,
    /// Stop after this long without clients (`-w`): `None` the default
    /// (60 s), `Some(Duration::ZERO)` never.
    pub timeout: Option<Duration>,
    /// Extra server options, one word each (`-o`, split as a shell would).
    pub server_options: Vec<String>,
    /// Use this data directory, never deleted (`-d`).
    pub datadir: Option<PathBuf>,
    /// SQL files, directories of them or pg_dump archives to load (`-f`).
    pub files: Vec<PathBuf>,
    /// Extensions to create (`-x`).
    pub extensions: Vec<String>,
    /// Freeze now() at this timestamp (`--now`).
    pub now: Option<String>,
    /// Stop when this process is gone (what `exec` asks).
    pub owner_pid: Option<u32>,
    /// The servers of the instance.
    pub topology: Topology,
    /// `wal_level=logical`, with room for replication slots, WAL senders
    /// and logical replication workers (`--logical`).
    pub logical: bool,
}

/// Which servers an instance has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Topology {
    /// One primary server.
    #[default]
    Single,
    /// A primary and `replicas` hot standbys streaming from it (`--replicas
    /// N`); with `sync`, a commit returns once every replica applied it
    /// (`--sync`).
    Streaming { replicas: u8, sync: bool },
}

/// The most replicas a set may have (`--replicas`): each is a server of its
/// own, and the primary keeps WAL senders to spare for the user's tools.
pub const MAX_REPLICAS: u8 = 10;

impl Topology {
    /// How many replicas it has.
    pub fn replicas(self) -> usize {
        match self {
            Topology::Single => 0,
            Topology::Streaming { replicas, .. } => usize::from(replicas),
        }
    }

    /// Whether commits wait for every replica to apply them.
    pub fn sync(self) -> bool {
        matches!(self, Topology::Streaming { sync: true, .. })
    }

    /// A short name that tells topologies apart in the names of spare
    /// classes: empty for a single server, `-r2` or `-r2s` (sync) for sets.
    pub fn tag(self) -> String {
        match self {
            Topology::Single => String::new(),
            Topology::Streaming { replicas, sync } => {
                format!("-r{replicas}{}", if sync { "s" } else { "" })
            }
        }
    }

    /// Reads back what [`Topology::tag`] wrote.
    pub fn from_tag(tag: &str) -> Option<Topology> {
        if tag.is_empty() {
            return Some(Topology::Single);
        }
        let rest = tag.strip_prefix("-r")?;
        let (count, sync) = match rest.strip_suffix('s') {
            Some(count) => (count, true),
            None => (rest, false),
        };
        let replicas: u8 = count.parse().ok()?;
        (1..=MAX_REPLICAS)
            .contains(&replicas)
            .then_some(Topology::Streaming { replicas, sync })
    }
}

impl Request {
    /// Whether a server started ahead (a spare) can serve this request: a
    /// fixed port, server options or a data directory of one's own need
    /// their own server. Sets have spares of their own kind.
    pub fn takes_spare(&self) -> bool {
        self.port.is_none() && self.datadir.is_none() && self.server_options.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Topology;

    #[test]
    fn tags_round_trip() {
        for t in [
            Topology::Single,
            Topology::Streaming {
                replicas: 1,
                sync: false,
            },
            Topology::Streaming {
                replicas: 10,
                sync: true,
            },
        ] {
            assert_eq!(Topology::from_tag(&t.tag()), Some(t), "{}", t.tag());
        }
        for bad in ["-r0", "-r11", "-rx", "r1", "-r1ss"] {
            assert_eq!(Topology::from_tag(bad), None, "{bad}");
        }
    }
}
