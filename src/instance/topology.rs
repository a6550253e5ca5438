//! Which servers an instance has: one, or a set of a primary and
//! streaming replicas (`--replicas N [--sync]`). A hand-out asks for one
//! (`Request::topology`); spares are kept per topology.

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
