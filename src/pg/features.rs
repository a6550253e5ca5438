//! Every choice pgtmp makes differently per PostgreSQL major version, in one
//! place, decided from the version the binaries reported (never from a
//! directory name). Whatever runs a server, builds a template or talks the
//! protocol asks here instead of comparing version numbers itself.
//!
//! Supported: 10 and newer (`MIN_MAJOR`); tested in CI: 13 to 18.

use super::Version;

/// The oldest major version whose `postmaster.pid` carries a status line
/// (`ready`), which readiness detection relies on.
/// <https://www.postgresql.org/docs/current/server-start.html>
pub const MIN_MAJOR: u32 = 10;

/// What a major version has, for the choices that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub major: u32,
}

impl Features {
    pub fn of(version: &Version) -> Features {
        Features {
            major: version.major,
        }
    }

    pub fn of_major(major: u32) -> Features {
        Features { major }
    }

    /// Readiness can be read from `postmaster.pid` (10+).
    pub fn supported(self) -> bool {
        self.major >= MIN_MAJOR
    }

    /// `CREATE DATABASE ... STRATEGY = FILE_COPY` (15+). Older versions
    /// only copy files, which is what the template wants anyway; 15+ would
    /// otherwise WAL-log every page, ~10 ms slower.
    /// <https://www.postgresql.org/docs/current/sql-createdatabase.html>
    pub fn create_database(self, name: &str) -> String {
        if self.major >= 15 {
            format!("CREATE DATABASE {name} STRATEGY = FILE_COPY;\n")
        } else {
            format!("CREATE DATABASE {name};\n")
        }
    }

    /// initdb options whose defaults changed between versions, so that
    /// every version's template is alike: 18 turned data checksums on by
    /// default, which costs CPU on every page write and which 10-17 do not
    /// have either. `PGTMP_INITDB_OPTS=--data-checksums` comes later and
    /// wins. <https://www.postgresql.org/docs/18/app-initdb.html>
    pub fn initdb_options(self) -> &'static [&'static str] {
        if self.major >= 18 {
            &["--no-data-checksums"]
        } else {
            &[]
        }
    }

    /// `postgresql.conf` lines that only some versions understand (an
    /// unknown setting stops the server). 18 reads asynchronously through
    /// three I/O worker processes by default; a throwaway server of a few
    /// megabytes gains nothing from them, and they are three more processes
    /// for every spare server kept ready.
    /// <https://www.postgresql.org/docs/18/runtime-config-resource.html#GUC-IO-METHOD>
    pub fn settings(self) -> &'static str {
        if self.major >= 18 {
            "io_method = sync\n"
        } else {
            ""
        }
    }

    /// `SET transaction_timeout` exists (17+). pg_restore 17 and newer
    /// send it on connecting, which an older server refuses.
    pub fn transaction_timeout(self) -> bool {
        self.major >= 17
    }

    /// The newest frontend/backend protocol the server speaks: 3.2 (a
    /// longer cancel key) from 18, 3.0 before.
    /// <https://www.postgresql.org/docs/18/protocol-overview.html#PROTOCOL-VERSIONS>
    pub fn protocol(self) -> (u16, u16) {
        if self.major >= 18 { (3, 2) } else { (3, 0) }
    }

    /// initdb's built-in locale provider (`--locale-provider=builtin`,
    /// `C.UTF-8` without the OS's locales) exists from 17.
    pub fn builtin_locale(self) -> bool {
        self.major >= 17
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_follow_the_major_version() {
        let f = |major| Features::of_major(major);
        assert!(!f(9).supported() && f(10).supported());
        assert_eq!(f(14).create_database("test"), "CREATE DATABASE test;\n");
        assert!(f(15).create_database("test").contains("FILE_COPY"));
        assert!(f(17).initdb_options().is_empty());
        assert_eq!(f(18).initdb_options(), ["--no-data-checksums"]);
        assert_eq!(f(17).settings(), "");
        assert!(f(18).settings().contains("io_method"));
        assert!(!f(16).transaction_timeout() && f(17).transaction_timeout());
        assert_eq!((f(17).protocol(), f(18).protocol()), ((3, 0), (3, 2)));
    }
}
