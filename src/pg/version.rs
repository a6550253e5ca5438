//! A PostgreSQL version as `postgres --version` prints it (`15.14`,
//! `17beta1`, `9.6.24`), ordered as releases are: a beta or release
//! candidate comes before the `.0` it leads to, and `18.6` after `18.4`.
//!
//! Only the binaries say which version they are: a directory name such as
//! `/opt/pg2/bin` or a package's own version string says nothing reliable.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A release stage; declared in the order releases go through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Devel,
    Alpha,
    Beta,
    Rc,
    Release,
}

#[derive(Debug, Clone)]
pub struct Version {
    /// As printed: `15.14`, `17beta1`.
    text: String,
    /// 15 for `15.14`; 9 for `9.6.24` (older than any pgtmp runs).
    pub major: u32,
    stage: Stage,
    /// The minor release (`14` of `15.14`, `24` of `9.6.24`), or the
    /// number of a pre-release (`1` of `17beta1`).
    minor: u32,
}

impl Version {
    /// From `postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)`, or any
    /// other program's `--version` line, or a bare `15.14`.
    pub fn parse(version_output: &str) -> Option<Version> {
        let after = match version_output.split_once(')') {
            Some((_, after)) => after,
            None => version_output,
        };
        let word = after.split_whitespace().next()?;
        let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let major: u32 = word[..digits].parse().ok()?;
        let rest = &word[digits..];
        let number = |s: &str| -> Option<u32> {
            let n = s.trim_end_matches(|c: char| !c.is_ascii_digit());
            if n.is_empty() {
                Some(0)
            } else {
                n.parse().ok()
            }
        };
        let (stage, minor) = if let Some(dotted) = rest.strip_prefix('.') {
            // 9.6.24: the minor release is the last number.
            let last = dotted.rsplit('.').next().unwrap_or(dotted);
            (Stage::Release, number(last)?)
        } else if rest.is_empty() {
            (Stage::Release, 0)
        } else {
            let stage = [
                ("devel", Stage::Devel),
                ("alpha", Stage::Alpha),
                ("beta", Stage::Beta),
                ("rc", Stage::Rc),
            ]
            .into_iter()
            .find_map(|(name, stage)| rest.strip_prefix(name).map(|n| (stage, n)));
            let (stage, n) = stage?;
            (stage, number(n)?)
        };
        Some(Version {
            text: word.to_string(),
            major,
            stage,
            minor,
        })
    }

    /// As printed by the binary: `15.14`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn key(&self) -> (u32, Stage, u32) {
        (self.major, self.stage, self.minor)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a PostgreSQL version: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn parses_what_postgres_prints() {
        let debian = v("postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n");
        assert_eq!((debian.major, debian.as_str()), (15, "15.14"));
        assert_eq!(v("postgres (PostgreSQL) 9.6.24").major, 9);
        assert_eq!(v("postgres (PostgreSQL) 17beta1").major, 17);
        assert_eq!(v("psql (PostgreSQL) 18.6").as_str(), "18.6");
        assert_eq!(v("16.2").major, 16);
        for bad in [
            "nonsense",
            "postgres (PostgreSQL) x15",
            "",
            "postgres (PostgreSQL) 15gamma",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn orders_as_releases_do() {
        let order = [
            "9.6.24", "13.23", "17devel", "17beta1", "17beta2", "17rc1", "17.0", "17.10", "18.4",
            "18.6",
        ];
        for pair in order.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("18"), v("18.0"));
    }

    #[test]
    fn round_trips_through_json() {
        let json = serde_json::to_string(&v("15.14")).unwrap();
        assert_eq!(json, "\"15.14\"");
        assert_eq!(serde_json::from_str::<Version>(&json).unwrap(), v("15.14"));
    }
}
