//! The client programs pgtmp runs against a server (psql, pg_restore, and
//! for whoever needs them pg_dump and pg_basebackup): from the server's own
//! bin directory when it has them, else from the nearest installation
//! whose version can do the job. Server-only builds (the npm
//! `@embedded-postgres` packages, some containers) have no client tools.
//!
//! What "can do the job" means, from each program's documentation:
//! - psql runs SQL against any server; backslash commands work best
//!   against the same or an older server, so a newer psql is preferred.
//! - pg_restore reads archives up to the format its version knows
//!   (`archive::newest_readable`), and writes into any server; one close to
//!   the server's version is preferred, since a newer one may send settings
//!   an older server lacks (`Features::transaction_timeout`).
//! - pg_dump and pg_basebackup work with servers of their own or an older
//!   major version.
//!
//! <https://www.postgresql.org/docs/current/app-psql.html#id-1.9.4.20.9>
//! <https://www.postgresql.org/docs/current/app-pgdump.html#PG-DUMP-NOTES>

use std::fmt;
use std::path::{Path, PathBuf};

use super::archive::{self, Header};
use super::find::Found;
use super::{Install, Version};
use crate::error::{ArchiveReader, Error, Result, VersionProblem};

/// A client program pgtmp may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Psql,
    PgRestore,
    PgDump,
    PgBasebackup,
}

impl Tool {
    /// The tools `pgtmp versions` reports.
    pub const ALL: [Tool; 4] = [
        Tool::Psql,
        Tool::PgDump,
        Tool::PgRestore,
        Tool::PgBasebackup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Psql => "psql",
            Tool::PgRestore => "pg_restore",
            Tool::PgDump => "pg_dump",
            Tool::PgBasebackup => "pg_basebackup",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client program chosen for a server.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub tool: Tool,
    pub path: PathBuf,
    /// The version of the installation it comes from.
    pub version: Version,
    /// Why it comes from another installation than the server's, if it
    /// does (say so once).
    pub borrowed: Option<String>,
}

impl Chosen {
    /// What to tell the user when the program is borrowed.
    pub fn note(&self) -> Option<String> {
        self.borrowed.as_ref().map(|why| {
            format!(
                "{why}: using {} {} from {}",
                self.tool,
                self.version,
                self.path.parent().unwrap_or(Path::new("")).display()
            )
        })
    }
}

/// `tool` for `server`, taken from `others` (every installation found)
/// when the server's install lacks it. `archive`: for pg_restore, the
/// header of the archive it must read.
pub fn choose(
    tool: Tool,
    server: &Install,
    others: &[Found],
    archive: Option<&Header>,
) -> Result<Chosen> {
    let needs = archive.map(|h| h.format);
    let can = |install: &Install| match (tool, needs) {
        (Tool::PgRestore, Some(format)) => {
            archive::newest_readable(install.version.major) >= format
        }
        (Tool::PgDump | Tool::PgBasebackup, _) => install.version.major >= server.version.major,
        _ => true,
    };
    if server.has(tool) && can(server) {
        return Ok(Chosen {
            tool,
            path: server.tool(tool),
            version: server.version.clone(),
            borrowed: None,
        });
    }
    let why = match archive {
        Some(header) if server.has(tool) => format!(
            "the {tool} {} of {} cannot read archive format {}",
            server.version,
            server.bindir.display(),
            header.format_text()
        ),
        _ => format!("{} has no {tool}", server.bindir.display()),
    };
    let with_tool: Vec<&Install> = others
        .iter()
        .map(|f| &f.install)
        .filter(|i| i.has(tool))
        .collect();
    let best = with_tool
        .iter()
        .filter(|i| can(i))
        .min_by_key(|i| preference(tool, &server.version, &i.version));
    if let Some(install) = best {
        return Ok(Chosen {
            tool,
            path: install.tool(tool),
            version: install.version.clone(),
            borrowed: Some(why),
        });
    }
    match (tool, archive) {
        (Tool::PgRestore, Some(header)) if !with_tool.is_empty() || server.has(tool) => {
            let mut have: Vec<&Install> = with_tool;
            if server.has(tool) {
                have.push(server);
            }
            have.sort_by(|a, b| b.version.cmp(&a.version));
            have.dedup_by(|a, b| a.bindir == b.bindir);
            Err(too_new(header, &have))
        }
        _ => Err(Error::MissingClient {
            program: tool.name(),
            bindir: server.bindir.clone(),
            major: Some(server.version.major),
            minimum: match tool {
                Tool::PgDump | Tool::PgBasebackup => Some(server.version.major),
                _ => None,
            },
        }),
    }
}

/// Smaller is better: the same major first, then (psql) newer before
/// older, then the nearest major, then the newest release of it.
fn preference(
    tool: Tool,
    server: &Version,
    candidate: &Version,
) -> (u32, bool, u32, std::cmp::Reverse<Version>) {
    let distance = server.major.abs_diff(candidate.major);
    let older = candidate.major < server.major;
    let older_first = match tool {
        Tool::Psql => older,
        _ => false,
    };
    (
        u32::from(distance != 0),
        older_first,
        distance,
        std::cmp::Reverse(candidate.clone()),
    )
}

fn too_new(header: &Header, have: &[&Install]) -> Error {
    let readers = have
        .iter()
        .map(|i| {
            let (a, b) = archive::newest_readable(i.version.major);
            ArchiveReader {
                version: i.version.to_string(),
                major: i.version.major,
                bindir: i.bindir.clone(),
                reads: format!("{a}.{b}"),
            }
        })
        .collect();
    Error::PgVersion(VersionProblem::ArchiveTooNew {
        format: header.format_text(),
        pg_dump: header.pg_dump.clone(),
        readers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private directory for fake installations, removed on drop.
    struct Root(PathBuf);

    impl Root {
        fn new(name: &str) -> Root {
            let dir =
                std::env::temp_dir().join(format!("pgtmp-tools-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Root(dir)
        }

        fn install(&self, name: &str, version: &str, tools: bool) -> Install {
            Install::fake(&self.0, name, version, tools)
        }

        fn found(&self, name: &str, version: &str, tools: bool) -> Found {
            Found {
                install: self.install(name, version, tools),
                found_by: "test".into(),
            }
        }

        fn bin(&self, name: &str, program: &str) -> PathBuf {
            self.0.join(name).join("bin").join(program)
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn header(format: (u8, u8), pg_dump: &str) -> Header {
        Header {
            format,
            pg_dump: Some(pg_dump.into()),
        }
    }

    #[test]
    fn own_tools_first_then_the_nearest_that_can() {
        let root = Root::new("nearest");
        let server = root.install("pg13", "13.23", false);
        let others = [
            root.found("pg13", "13.23", false),
            root.found("pg15", "15.14", true),
            root.found("pg18", "18.6", true),
        ];
        let psql = choose(Tool::Psql, &server, &others, None).unwrap();
        assert_eq!(psql.path, root.bin("pg15", "psql"));
        let note = psql.note().unwrap();
        assert!(
            note.contains("has no psql: using psql 15.14 from"),
            "{note}"
        );

        let by15 = header((1, 14), "15.14");
        let by18 = header((1, 16), "18.6");
        let restore = |h| {
            choose(Tool::PgRestore, &server, &others, Some(h))
                .unwrap()
                .path
        };
        assert_eq!(restore(&by15), root.bin("pg15", "pg_restore"));
        assert_eq!(restore(&by18), root.bin("pg18", "pg_restore"));

        let own = root.install("pg15", "15.14", true);
        let chosen = choose(Tool::PgRestore, &own, &others, Some(&by15)).unwrap();
        assert!(chosen.note().is_none());
        let newer = choose(Tool::PgRestore, &own, &others, Some(&by18)).unwrap();
        let note = newer.note().unwrap();
        assert!(
            note.contains("the pg_restore 15.14 of")
                && note.contains("cannot read archive format 1.16: using pg_restore 18.6"),
            "{note}"
        );
    }

    #[test]
    fn psql_prefers_newer_and_pg_dump_needs_it() {
        let root = Root::new("newer");
        let server = root.install("pg16", "16.14", false);
        let others = [
            root.found("pg15", "15.14", true),
            root.found("pg18", "18.6", true),
        ];
        let psql = choose(Tool::Psql, &server, &others, None).unwrap();
        assert_eq!(psql.version.as_str(), "18.6");
        let dump = choose(Tool::PgDump, &server, &others, None).unwrap();
        assert_eq!(dump.version.as_str(), "18.6");
        let only_old = [root.found("pg15", "15.14", true)];
        let err = choose(Tool::PgBasebackup, &server, &only_old, None).unwrap_err();
        assert!(err.to_string().contains("pg_basebackup"), "{err}");
        assert!(
            err.hint().unwrap().contains("PostgreSQL 16 or newer"),
            "{err:?}"
        );
    }

    #[test]
    fn an_archive_too_new_for_all_names_the_versions() {
        let root = Root::new("too-new");
        let server = root.install("pg13", "13.23", false);
        let others = [root.found("pg15", "15.14", true)];
        let err = choose(
            Tool::PgRestore,
            &server,
            &others,
            Some(&header((1, 16), "18.6")),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("1.16") && text.contains("pg_dump 18.6"),
            "{text}"
        );
        assert!(
            text.contains("15.14 in ") && text.contains("(reads up to 1.14)"),
            "{text}"
        );
        let hint = err.hint().unwrap();
        assert!(
            hint.contains("PostgreSQL 18") && hint.contains("PGTMP_PG_PATH"),
            "{hint}"
        );
    }

    #[test]
    fn nothing_anywhere_is_a_missing_client() {
        let root = Root::new("none");
        let server = root.install("pg13", "13.23", false);
        let err = choose(Tool::Psql, &server, &[], None).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MissingClient {
                    program: "psql",
                    ..
                }
            ),
            "{err}"
        );
    }
}
