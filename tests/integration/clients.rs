//! The client compatibility suite: each file in examples/ (the code the
//! README shows) run with a real driver against what pgtmp prints, in every
//! form the driver takes: the socket URL, the TCP URL (`-t`), libpq's
//! key=value form (`-F dsn`), the JDBC URL (`-F jdbc`), and the libpq
//! variables (`pgtmp exec`, `-F env`). Where a driver cannot take a form,
//! the check is that it fails the way the README says.
//!
//! The clients come from `make deps` (.ci/install-deps): Debian's psql,
//! ruby-pg, pgjdbc with the JDK, Go with lib/pq and pgx v4; psycopg,
//! SQLAlchemy and pytest in .clients/venv; node-postgres in
//! .clients/node_modules. A missing one fails its test with that hint.
//!
//! Forms a driver is not run with, and why: node-postgres with `-F dsn`
//! (it would read the string as a URL and look a host name up in DNS), and
//! the Rust crates with the PG* variables (tokio-postgres reads none; a test
//! binary cannot set its own environment safely).
//!
//! The socket URL names no user (pg_tmp's shape): each driver has to find
//! one. So every run goes without `USER` in its environment, as root (the
//! test's own user) and, when the tests run as root, again as the ordinary
//! user `pgtmp-test`: all but node-postgres take the OS user's name from
//! the system; node-postgres reads `USER`, and without it needs
//! `-F url-with-user` (or `-t`, or `PGUSER`), which the README says.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::support::command::Output;
use crate::support::{PSQL, TestRoot, Who, poll, procs, user};

const INSTALL: &str = "the clients are installed by `make deps` (.ci/install-deps)";
const JDBC_JAR: &str = "/usr/share/java/postgresql.jar";
const SELECT_DB: &str = "select current_database()";

/// What a run should do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Succeed, and leave no instance behind (the example stops its own).
    Works,
    /// Fail, saying this.
    Fails(&'static str),
}
use Expect::{Fails, Works};

/// One way of running a client: a program, its arguments, where, as whom,
/// and with which environment besides `PATH` (which finds this build's
/// pgtmp) and without `USER` (which only node-postgres reads, see above).
#[derive(Debug, Clone)]
struct Client {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    dir: Option<PathBuf>,
    env: Vec<(&'static str, OsString)>,
    who: Who,
}

impl Client {
    fn new(name: &'static str, program: impl Into<PathBuf>) -> Client {
        Client {
            name,
            program: program.into(),
            args: Vec::new(),
            dir: None,
            env: Vec::new(),
            who: Who::Me,
        }
    }

    /// The same client run by the ordinary user; None unless the tests run
    /// as root. The Python venv's interpreter may live where that user
    /// cannot go (pyenv under /root): then the system's python3 runs with
    /// the venv's packages, if it can import them; else the run is skipped,
    /// and said so.
    fn as_ordinary_user(&self, t: &TestRoot) -> Option<Client> {
        if !procs::is_root() {
            return None;
        }
        let who = Who::User(user::ordinary());
        let mut client = Client {
            who,
            ..self.clone()
        };
        if !executable_by(t, who, &self.program) {
            match system_python(t, who).filter(|_| self.program == python()) {
                Some((program, site)) => {
                    client.program = program;
                    client.env.push(("PYTHONPATH", site.into()));
                }
                None => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "clients: {} not run as {}: it cannot execute {}",
                        self.name,
                        user::ORDINARY_USER,
                        self.program.display()
                    );
                    return None;
                }
            }
        }
        Some(client)
    }

    fn args<S: Into<OsString>>(mut self, args: impl IntoIterator<Item = S>) -> Client {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    fn env(mut self, key: &'static str, value: impl Into<OsString>) -> Client {
        self.env.push((key, value.into()));
        self
    }

    fn dir(mut self, dir: impl Into<PathBuf>) -> Client {
        self.dir = Some(dir.into());
        self
    }

    /// Runs it in `t` with `PGTMP_FLAGS` set to `flags` (`None`: unset,
    /// so that the example's own default applies).
    fn run(&self, t: &TestRoot, flags: Option<&str>) -> Output {
        let mut run = t
            .cmd(&self.program, &self.args)
            .who(self.who)
            .env("PATH", search_path(t, self.who));
        if !self.env.iter().any(|(key, _)| *key == "USER") {
            run = run.env_remove("USER");
        }
        if let Some(flags) = flags {
            run = run.env("PGTMP_FLAGS", flags);
        }
        for (key, value) in &self.env {
            run = run.env(key, value);
        }
        if let Some(dir) = &self.dir {
            run = run.current_dir(dir);
        }
        run.run()
    }

    /// The same client under `pgtmp exec` with DATABASE_URL removed: the
    /// libpq variables alone must lead it to the database.
    fn under_exec(&self, exec_flags: &[&str]) -> Client {
        let mut args: Vec<OsString> = vec!["exec".into()];
        args.extend(exec_flags.iter().map(OsString::from));
        args.extend(["--", "env", "-u", "DATABASE_URL"].map(OsString::from));
        args.push(self.program.clone().into());
        args.extend(self.args.iter().cloned());
        Client {
            program: pgtmp_bin().into(),
            args,
            ..self.clone()
        }
    }
}

/// Runs `client` once per form in `t`, checking each outcome.
fn check(t: &TestRoot, client: &Client, forms: &[(&str, Expect)]) {
    for &(flags, expect) in forms {
        let out = client.run(t, Some(flags));
        let what = format!("{} with PGTMP_FLAGS={flags:?}", client.name);
        match expect {
            Works => {
                assert_eq!(out.code(), Some(0), "{what} should work ({INSTALL})\n{out}");
                assert_cleaned_up(t, client.who, &out);
            }
            Fails(needle) => {
                assert_ne!(out.code(), Some(0), "{what} should fail\n{out}");
                assert!(
                    out.stdout.contains(needle) || out.stderr.contains(needle),
                    "{what} should fail saying {needle:?} ({INSTALL})\n{out}"
                );
                // A failed set-up hook may leave its instance to the idle timeout.
                t.pgtmp(["stop", "--all"])
                    .who(client.who)
                    .run()
                    .assert_success();
            }
        }
    }
}

/// `check` as the ordinary user too (when the tests run as root), with
/// the socket URL that names no user, and the TCP URL.
fn check_both(t: &TestRoot, client: &Client, forms: &[(&str, Expect)]) {
    check(t, client, forms);
    if let Some(user) = client.as_ordinary_user(t) {
        check(t, &user, &[("", Works), ("-t", Works)]);
    }
}

/// The example stopped its instance (or `exec` did).
fn assert_cleaned_up(t: &TestRoot, who: Who, out: &Output) {
    assert!(
        poll::eventually(|| t.list_as(who).is_empty() && t.run_entries_of(who).is_empty()),
        "an instance is left after {}\n{out}",
        out.cmd
    );
}

/// `client`, connecting with nothing but the libpq variables, under
/// `pgtmp exec` and `pgtmp exec -t`, prints `expected`.
fn check_env(t: &TestRoot, client: &Client, expected: &str) {
    for flags in [&[][..], &["-t"]] {
        let out = client.under_exec(flags).run(t, None);
        assert_eq!(
            out.code(),
            Some(0),
            "{} should work ({INSTALL})\n{out}",
            client.name
        );
        assert_eq!(out.stdout, expected, "{out}");
        assert_cleaned_up(t, client.who, &out);
    }
}

/// A program the test needs, or a failure that says how to get it.
fn need(path: impl AsRef<Path>) -> PathBuf {
    let path = path.as_ref();
    let found = if path.is_absolute() {
        path.exists().then(|| path.to_path_buf())
    } else {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(path))
            .find(|p| p.is_file())
    };
    found.unwrap_or_else(|| panic!("{} is missing: {INSTALL}", path.display()))
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

fn clients_dir() -> PathBuf {
    repo().join(".clients")
}

fn pgtmp_bin() -> &'static str {
    env!("CARGO_BIN_EXE_pgtmp")
}

/// This build's pgtmp first, as `pgtmp` for the examples: for another
/// user, the copy in the test root that it can execute.
fn search_path(t: &TestRoot, who: Who) -> OsString {
    let bin = match who {
        Who::Me => Path::new(pgtmp_bin())
            .parent()
            .expect("pgtmp's directory")
            .to_path_buf(),
        _ => t.join("bin"),
    };
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest)))
        .expect("a joinable PATH")
}

fn python() -> PathBuf {
    need(clients_dir().join("venv/bin/python"))
}

/// Whether `who` may execute `program` (and reach it).
fn executable_by(t: &TestRoot, who: Who, program: &Path) -> bool {
    let probe = t
        .cmd("/usr/bin/test", [OsString::from("-x"), program.into()])
        .who(who);
    probe.run().code() == Some(0)
}

/// The system's python3 and the venv's site-packages, when `who` can
/// import the clients with them (same Python version as the venv).
fn system_python(t: &TestRoot, who: Who) -> Option<(PathBuf, PathBuf)> {
    let lib = clients_dir().join("venv/lib");
    let site = std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())?;
    let system = PathBuf::from("/usr/bin/python3");
    let probe = t
        .cmd(&system, ["-c", "import psycopg, sqlalchemy, pytest"])
        .who(who)
        .env("PYTHONPATH", &site)
        .run();
    (probe.code() == Some(0)).then_some((system, site))
}

/// `python -m pytest` on one example, writing nothing into examples/.
fn pytest(name: &'static str, file: &str) -> Client {
    Client::new(name, python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args([example(file)])
        .env("PYTHONDONTWRITEBYTECODE", "1")
}

/// Go in GOPATH mode on Debian's packaged sources: no module proxy needed.
fn go(client: Client) -> Client {
    client
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOPROXY", "off")
        .env("GOCACHE", clients_dir().join("go-build"))
}

#[test]
fn psql_shell_and_make() {
    let t = TestRoot::new();
    need("psql");
    let shell =
        Client::new("psql (examples/shell_hook.sh)", "/bin/sh").args([example("shell_hook.sh")]);
    check_both(
        &t,
        &shell,
        &[
            ("", Works),
            ("-t", Works),
            ("-F dsn", Works),
            ("-t -F dsn", Works),
            ("-F jdbc", Fails("invalid connection option")),
        ],
    );
    let make = Client::new("psql (examples/Makefile)", need("make"))
        .args(["-s", "-f"])
        .args([example("Makefile")])
        .args(["test", "test-exec"]);
    for flags in ["", "-t"] {
        let out = make.run(&t, Some(flags));
        out.assert_success();
        assert_eq!(out.stdout, "test\ntest\n", "{out}");
        assert_cleaned_up(&t, Who::Me, &out);
    }
    let env = Client::new("psql (PG* variables)", PSQL).args(["-XAtc", SELECT_DB]);
    check_env(&t, &env, "test\n");
}

#[test]
fn python_psycopg() {
    let t = TestRoot::new();
    let example = pytest("psycopg 3 (examples/python_pytest.py)", "python_pytest.py");
    check_both(
        &t,
        &example,
        &[
            ("", Works),
            ("-t", Works),
            ("-F dsn", Works),
            ("-t -F dsn", Works),
            ("-F jdbc", Fails("invalid connection option")),
        ],
    );
    let env = Client::new("psycopg 3 (PG* variables)", python()).args([
        "-c",
        "import psycopg; print(psycopg.connect('').execute('select current_database()').fetchone()[0])",
    ]);
    check_env(&t, &env, "test\n");
}

#[test]
fn python_sqlalchemy() {
    let t = TestRoot::new();
    let example = pytest(
        "SQLAlchemy (examples/python_sqlalchemy.py)",
        "python_sqlalchemy.py",
    );
    check_both(
        &t,
        &example,
        &[
            ("", Works),
            ("-t", Works),
            ("-F dsn", Fails("Could not parse SQLAlchemy URL")),
        ],
    );
    let env = Client::new("SQLAlchemy (PG* variables)", python()).args([
        "-c",
        "import sqlalchemy as sa\n\
         with sa.create_engine('postgresql+psycopg://').connect() as c:\n    \
         print(c.execute(sa.text('select current_database()')).scalar())",
    ]);
    check_env(&t, &env, "test\n");
}

#[test]
fn node_pg() {
    let t = TestRoot::new();
    let modules = need(clients_dir().join("node_modules/pg")).join("..");
    let example = Client::new("node-postgres (examples/node_pg.test.js)", need("node"))
        .args(["--test"])
        .args([example("node_pg.test.js")])
        .env("NODE_PATH", &modules);
    // node-postgres takes the user name from USER; without it, a URL
    // naming none fails, and the forms that name one work.
    const NO_USER: &str = "no PostgreSQL user name specified in startup packet";
    let without_user = [
        ("", Fails(NO_USER)),
        ("-F url-with-user", Works),
        ("-t", Works),
    ];
    check(&t, &example, &without_user);
    let with_user = example.clone().env("USER", procs::my_name());
    check(&t, &with_user, &[("", Works)]);
    if let Some(ordinary) = example.as_ordinary_user(&t) {
        check(&t, &ordinary, &without_user);
        let with_user = ordinary.env("USER", user::ORDINARY_USER);
        check(&t, &with_user, &[("", Works)]);
    }
    let env = Client::new("node-postgres (PG* variables)", need("node"))
        .args([
            "-e",
            "const c = new (require('pg').Client)();\n\
             c.connect().then(() => c.query('select current_database() as db'))\n\
             .then((r) => { console.log(r.rows[0].db); return c.end(); })\n\
             .catch((e) => { console.error(e); process.exit(1); });",
        ])
        .env("NODE_PATH", &modules);
    check_env(&t, &env, "test\n");
}

#[test]
fn java_jdbc() {
    let t = TestRoot::new();
    let jar = need(JDBC_JAR);
    // pgjdbc reads no PG* variables: with nothing but them, it tries its
    // own default (localhost:5432), not the instance.
    let probe = t.join("EnvProbe.java");
    std::fs::write(
        &probe,
        "public class EnvProbe { public static void main(String[] a) throws Exception {\n\
         java.sql.DriverManager.getConnection(\"jdbc:postgresql:test\").close();\n\
         System.out.println(\"connected\"); } }\n",
    )
    .expect("write the probe");
    // Compiled once, not once per run as `java File.java` would.
    let classes = t.mkdir("classes");
    t.cmd(
        need("javac"),
        [OsString::from("-d"), classes.clone().into()],
    )
    .args([OsString::from("-cp"), jar.clone().into()])
    .args([example("PgtmpJdbc.java"), probe])
    .run()
    .assert_success();
    let classpath = std::env::join_paths([classes, jar]).expect("a class path");
    let java = |name, class: &str| {
        Client::new(name, need("java"))
            .args([OsString::from("-XX:TieredStopAtLevel=1"), "-cp".into()])
            .args([classpath.clone(), class.into()])
    };
    let example = java("pgjdbc (examples/PgtmpJdbc.java)", "PgtmpJdbc");
    // Without PGTMP_FLAGS the example asks for `-F jdbc`.
    let out = example.run(&t, None);
    out.assert_success();
    assert_eq!(out.stdout, "ok: test\n", "{out}");
    assert_cleaned_up(&t, Who::Me, &out);
    check(
        &t,
        &example,
        &[
            ("-t -F jdbc", Works),
            ("", Fails("No suitable driver found for postgresql:///")),
            ("-t", Fails("No suitable driver found for postgresql://")),
            ("-F dsn", Fails("No suitable driver found for host=")),
        ],
    );
    let env = java("pgjdbc (PG* variables)", "EnvProbe");
    let out = env.under_exec(&["-t"]).run(&t, None);
    assert_ne!(out.code(), Some(0), "pgjdbc used PG*?\n{out}");
    assert!(out.stderr.contains("PSQLException"), "{out}");
}

#[test]
fn ruby_pg() {
    let t = TestRoot::new();
    let example = Client::new("ruby-pg (examples/ruby_minitest.rb)", need("ruby"))
        .args([example("ruby_minitest.rb")]);
    check_both(
        &t,
        &example,
        &[
            ("", Works),
            ("-t", Works),
            ("-F dsn", Works),
            ("-t -F dsn", Works),
            ("-F jdbc", Fails("invalid connection option")),
        ],
    );
    // `PG.connect` without arguments; `PG.connect("")` would set host=''.
    let env = Client::new("ruby-pg (PG* variables)", need("ruby")).args([
        "-rpg",
        "-e",
        "puts PG.connect.exec('select current_database()').getvalue(0, 0)",
    ]);
    check_env(&t, &env, "test\n");
}

#[test]
fn go_lib_pq_and_pgx() {
    let t = TestRoot::new();
    // Built once (`go test -c`), then run with each form.
    let bin = t.join("example.test");
    go(Client::new("go test -c", need("go"))
        .args(["test", "-c", "-o"])
        .args([&bin])
        .dir(example("go")))
    .run(&t, None)
    .assert_success();
    let example = Client::new("Go lib/pq and pgx (examples/go)", bin);
    check_both(
        &t,
        &example,
        &[
            ("", Works),
            ("-t", Works),
            ("-F dsn", Works),
            ("-t -F dsn", Works),
            ("-F jdbc", Fails("--- FAIL: TestLibPq")),
        ],
    );
    // Both drivers with nothing but the PG* variables.
    let dir = t.mkdir("go-env");
    std::fs::write(dir.join("main.go"), GO_ENV_PROBE).expect("write the probe");
    let probe = dir.join("probe");
    go(Client::new("go build", need("go"))
        .args(["build", "-o"])
        .args([&probe])
        .args(["main.go"])
        .dir(&dir))
    .run(&t, None)
    .assert_success();
    check_env(&t, &Client::new("Go (PG* variables)", probe), "test test\n");
}

const GO_ENV_PROBE: &str = r#"package main

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v4"
	_ "github.com/lib/pq"
)

func main() {
	db, _ := sql.Open("postgres", "")
	var a, b string
	if err := db.QueryRow("select current_database()").Scan(&a); err != nil {
		panic(err)
	}
	conn, err := pgx.Connect(context.Background(), "")
	if err != nil {
		panic(err)
	}
	if err := conn.QueryRow(context.Background(), "select current_database()").Scan(&b); err != nil {
		panic(err)
	}
	fmt.Println(a, b)
}
"#;

#[test]
fn rust_postgres() {
    let t = TestRoot::new();
    let example = Client::new(
        "postgres/tokio-postgres (examples/rust_postgres.rs)",
        cargo_example(&t, "rust_postgres"),
    );
    check_both(
        &t,
        &example,
        &[
            ("", Works),
            ("-t", Works),
            ("-F dsn", Works),
            ("-t -F dsn", Works),
            ("-F jdbc", Fails("UnknownOption")),
        ],
    );
}

/// The library itself as a Rust test suite would use it: `hand_out` returns
/// the instance as a value (nothing printed), `acknowledge` hands it over,
/// `stop` ends it. Its supervisors are still this build's `pgtmp`.
#[test]
fn rust_library() {
    let t = TestRoot::new();
    let example = Client::new(
        "the pgtmp crate (examples/rust_library.rs)",
        cargo_example(&t, "rust_library"),
    );
    check(&t, &example, &[("", Works), ("-t", Works)]);
}

/// The Rust example `name`, built. `cargo test` builds the examples,
/// `cargo test --test integration` does not: build it (a no-op when it is
/// fresh).
fn cargo_example(t: &TestRoot, name: &str) -> PathBuf {
    let build = t
        .cmd(
            env!("CARGO"),
            ["build", "--example", name, "--locked", "--quiet"],
        )
        .current_dir(repo())
        .timeout(std::time::Duration::from_secs(300))
        .run();
    build.assert_success();
    Path::new(pgtmp_bin()).with_file_name(format!("examples/{name}"))
}
