//! `pgtmp prove [start options] [prove options] PATH...`: pg_prove's
//! command line and output over `crate::prove`. Picks the files, gets a
//! server whose `test` database has pgTAP (and the fixtures), runs the
//! files each in a copy of it, prints each file as it finishes (a
//! progress line on a terminal meanwhile), then the summary, and writes
//! the JUnit, JSON and state files asked for.

mod progress;
mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use crate::cli::{GlobalArgs, ProveArgs};
use crate::config::Config;
use crate::error::{EXIT_USAGE, Error, ProveProblem, Result};
use crate::prove::console::Console;
use crate::prove::discover::{self, DEFAULT_EXT};
use crate::prove::execute::{self, Script, Settings};
use crate::prove::outcome::FileOutcome;
use crate::prove::runner::{self, Event, Job, Plan};
use crate::prove::state::{self, State};
use crate::prove::summary::{Aggregate, CpuTimes, Style};
use crate::prove::{json, junit};
use crate::psql::{self, Print};
use progress::Progress;
use server::Server;

/// The exit status of a run stopped by Ctrl-C (the shell's 128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs the test files; returns the exit status.
pub fn run(args: &ProveArgs, global: &GlobalArgs) -> Result<u8> {
    if let Some(code) = refuse_database_options(args) {
        return Ok(code);
    }
    let mut state = match args.state.is_empty() {
        true => None,
        false => Some(State::open(Path::new(state::FILE), &args.state)?),
    };
    let jobs = jobs(args, state.as_ref())?;
    if args.dry {
        let names: String = jobs.iter().map(|j| format!("{}\n", j.name)).collect();
        super::print(&names)?;
        return Ok(0);
    }
    let (jobs, settings) = with_settings(args, global, jobs)?;
    let longest = jobs.iter().map(|j| j.name.chars().count()).max();
    let console = console(args, longest.unwrap_or(0));
    let (started, clock, cpu) = (SystemTime::now(), Instant::now(), CpuTimes::now());
    let server = if jobs.is_empty() {
        crate::say!("pgtmp: no test files found{}", hint_for_none(args));
        None
    } else {
        match Server::start(&args.start, global, args.keep_failed)? {
            Ok(s) => Some(s),
            Err(code) => return Ok(code),
        }
    };
    crate::trace::mark("prove: server ready");
    let end = match &server {
        Some(server) => run_files(args, server, &jobs, settings, &console, state.as_mut()),
        None => runner::End::default(),
    };
    crate::trace::mark("prove: files done");
    let wall = clock.elapsed();
    let mut aggregate = Aggregate::default();
    for outcome in &end.outcomes {
        aggregate.add(outcome.name.clone(), outcome.tap.clone());
    }
    let style = Style {
        timer: args.timer,
        all_errors: args.parse,
        interrupted: end.interrupted,
    };
    let longest = longest.unwrap_or(0);
    super::print(&aggregate.report(longest, wall, CpuTimes::now().since(cpu), style))?;
    let not_run: Vec<&str> = end.not_run.iter().map(|&i| jobs[i].name.as_str()).collect();
    if !end.interrupted && !not_run.is_empty() {
        crate::say!(
            "pgtmp: stopped after a failure; {} of {} test files did not run",
            not_run.len(),
            jobs.len()
        );
    }
    let exit_code = match end.interrupted {
        true => EXIT_INTERRUPTED,
        false => aggregate.exit_code(),
    };
    let reports = Reports {
        end: &end,
        aggregate: &aggregate,
        not_run,
        exit_code,
        started,
        wall,
    };
    let written = reports.write(args, state.as_mut());
    if let Some(server) = server {
        let failed: Vec<&FileOutcome> = end.outcomes.iter().filter(|o| o.failed()).collect();
        if args.keep_failed && !failed.is_empty() {
            keep(&server, &failed);
        } else {
            server.stop();
        }
        crate::trace::mark("prove: server stopped");
    }
    written.map(|()| exit_code)
}

/// The output options of pg_prove, for a run whose longest name is `longest`.
fn console(args: &ProveArgs, longest: usize) -> Console {
    let verbosity = if args.really_quiet {
        -2
    } else if args.quiet {
        -1
    } else {
        i8::from(args.verbose)
    };
    Console {
        verbosity,
        failures: args.failures,
        comments: true,
        directives: args.directives,
        timer: args.timer,
        longest,
    }
}

/// The jobs with how each must run, and the sessions' settings (with the
/// psql for the files that need it).
fn with_settings(
    args: &ProveArgs,
    global: &GlobalArgs,
    mut jobs: Vec<Job>,
) -> Result<(Vec<Job>, Settings)> {
    let mut settings = settings(&args.variables, &args.pset, args.ignore_exit)?;
    for job in &mut jobs {
        job.needs_psql = execute::needs_psql(&job.script, &settings);
    }
    if jobs.iter().any(|j| j.needs_psql.is_some()) {
        settings.psql = args.psql_bin.clone().or_else(|| server_psql(global));
    }
    Ok((jobs, settings))
}

/// Runs the files on `server`, printing each as it finishes; Ctrl-C and
/// SIGTERM stop the run (and its summary is printed all the same).
fn run_files(
    args: &ProveArgs,
    server: &Server,
    jobs: &[Job],
    settings: Settings,
    console: &Console,
    state: Option<&mut State>,
) -> runner::End {
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, cancel.clone());
    }
    let plan = Plan {
        jobs: jobs.to_vec(),
        workers: usize::from(args.jobs),
        server: server.target.with_dbname("postgres"),
        template: server.target.dbname.clone(),
        settings,
        fail_fast: args.fail_fast,
        keep_failed: args.keep_failed,
    };
    let mut progress = Progress::new(jobs.len(), console.verbosity < 1);
    let mut printer = Printer {
        console,
        progress: &mut progress,
        state,
        jobs,
    };
    runner::run(&plan, &cancel, &mut |event| printer.event(event))
}

/// What the run leaves besides its output: `--junit`, `--json`, `--state`.
struct Reports<'a> {
    end: &'a runner::End,
    aggregate: &'a Aggregate,
    not_run: Vec<&'a str>,
    exit_code: u8,
    started: SystemTime,
    wall: std::time::Duration,
}

impl Reports<'_> {
    /// Writes each asked for; the first failure is the error, after all
    /// were tried.
    fn write(self, args: &ProveArgs, state: Option<&mut State>) -> Result<()> {
        let mut results = Vec::new();
        if let Some(path) = &args.junit {
            let report = junit::report(&self.end.outcomes, self.started, self.wall);
            results.push(junit::write(path, &report));
        }
        if let Some(path) = &args.json {
            let input = json::Input {
                files: &self.end.outcomes,
                aggregate: self.aggregate,
                not_run: self.not_run,
                interrupted: self.end.interrupted,
                exit_code: self.exit_code,
                started: self.started,
                wall: self.wall,
            };
            results.push(json::write(path, &input));
        }
        if let Some(state) = state {
            results.push(state.commit());
        }
        results.into_iter().collect()
    }
}

/// pg_prove's `-U`, `--dbname` and `--host` pick the database to test in;
/// here every file gets its own.
fn refuse_database_options(args: &ProveArgs) -> Option<u8> {
    let given = [
        ("-U/--username", args.username.is_some()),
        ("--dbname", args.dbname.is_some()),
        ("--host", args.host.is_some()),
    ];
    let (name, _) = given.iter().find(|(_, g)| *g)?;
    crate::say!(
        "pgtmp: error: `{name}` has no meaning for `pgtmp prove`: every test file runs in a fresh database of its own\n\
         hint: drop it; load the schema the tests need with `-f`"
    );
    Some(EXIT_USAGE)
}

/// What every file's session starts with: pg_prove's psql settings and
/// the user's `--set` and `--pset`.
fn settings(
    variables: &[(String, String)],
    pset: &[(String, String)],
    ignore_exit: bool,
) -> Result<Settings> {
    let mut vars = psql::vars::defaults();
    vars.put("QUIET", "on");
    vars.put("ON_ERROR_STOP", "1");
    let mut psql_args = Vec::new();
    for (key, value) in variables {
        vars.set(key, value).map_err(|reason| {
            Error::Prove(ProveProblem::Variable {
                setting: format!("{key}={value}"),
                reason,
            })
        })?;
        psql_args.push("--set".into());
        psql_args.push(format!("{key}={value}").into());
    }
    let mut print = Print::default();
    let mut force_psql = false;
    for (key, value) in pset {
        psql_args.push("--pset".into());
        psql_args.push(format!("{key}={value}").into());
        let on = || psql::vars::parse_bool(value).unwrap_or(true);
        match key.as_str() {
            "format" if matches!(value.as_str(), "unaligned" | "u") => {}
            "tuples_only" | "t" => print.tuples_only = on(),
            "footer" => print.footer = on(),
            "fieldsep" => print.field_sep = value.clone(),
            "recordsep" => print.record_sep = value.clone(),
            "null" => print.null = value.clone(),
            "pager" | "border" | "title" => {}
            _ => force_psql = true,
        }
    }
    Ok(Settings {
        vars,
        print,
        psql_args,
        psql: None,
        force_psql,
        ignore_exit,
    })
}

/// The jobs in the order they run: `runtests()`, or the files the state
/// selects and the paths name, shuffled or reversed if asked.
fn jobs(args: &ProveArgs, state: Option<&State>) -> Result<Vec<Job>> {
    if args.runtests || args.schema.is_some() || args.pattern.is_some() {
        if !args.paths.is_empty() {
            return Err(Error::Prove(ProveProblem::RuntestsWithPaths));
        }
        let call = runtests_call(args.schema.as_deref(), args.pattern.as_deref());
        return Ok(vec![Job {
            script: Script::Sql(format!("SELECT * FROM {call}")),
            name: call,
            needs_psql: None,
        }]);
    }
    let exts = if args.ext.is_empty() {
        vec![DEFAULT_EXT.to_string()]
    } else {
        args.ext.clone()
    };
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    if let Some(state) = state {
        if state.nothing_saved() {
            crate::say!(
                "pgtmp: no saved state in {}, selection will be empty",
                state::FILE
            );
        }
        names.extend(
            state
                .selected()
                .into_iter()
                .map(|n| (n.clone(), PathBuf::from(n))),
        );
    }
    if !args.paths.is_empty() || !state.is_some_and(State::selects) {
        for file in discover::discover(&args.paths, &exts, args.recurse)? {
            if !names.iter().any(|(n, _)| *n == file.name) {
                names.push((file.name, file.path));
            }
        }
    }
    if args.shuffle {
        shuffle(&mut names);
    }
    if args.reverse {
        names.reverse();
    }
    Ok(names
        .into_iter()
        .map(|(name, path)| Job {
            name,
            script: Script::File(path),
            needs_psql: None,
        })
        .collect())
}

/// `runtests('schema'::name, 'pattern'::text);`, as pg_prove names it.
fn runtests_call(schema: Option<&str>, pattern: Option<&str>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut args = Vec::new();
    if let Some(s) = schema {
        args.push(format!("{}::name", quote(s)));
    }
    if let Some(p) = pattern {
        args.push(format!("{}::text", quote(p)));
    }
    format!("runtests({});", args.join(", "))
}

/// Fisher–Yates with the process's random source.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = (crate::random::u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// The psql next to the server's binaries, else the one another
/// installation found has (as for `-f`).
fn server_psql(global: &GlobalArgs) -> Option<PathBuf> {
    use crate::pg::{Tool, client, discover};
    let config = Config::resolve(&super::options(global)).ok()?;
    let install = config.template_spec().ok()?.install;
    let chosen = client(Tool::Psql, &install, &[], None)
        .or_else(|_| client(Tool::Psql, &install, &discover(&config.pg).found, None))
        .ok()?;
    Some(chosen.path)
}

fn hint_for_none(args: &ProveArgs) -> String {
    if args.ext.is_empty() {
        " (looking for *.pg, pg_prove's default: `--ext .sql` for *.sql)".into()
    } else {
        String::new()
    }
}

/// `--keep-failed`: the server stays up; say where the failing files'
/// databases are.
fn keep(server: &Server, failed: &[&FileOutcome]) {
    let mut text = String::from(
        "pgtmp: kept the databases of the failing files (the server stops when idle, or `pgtmp stop URL`):\n",
    );
    for f in failed {
        text.push_str(&format!("  {}  {}\n", f.name, server.url_of(&f.database)));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints each event of the run as pg_prove would.
struct Printer<'a> {
    console: &'a Console,
    progress: &'a mut Progress,
    state: Option<&'a mut State>,
    jobs: &'a [Job],
}

impl Printer<'_> {
    fn event(&mut self, event: Event) {
        match event {
            Event::Started { index } => self.progress.started(index, &self.jobs[index].name),
            Event::Progress { index, tests } => self.progress.tests(index, tests),
            Event::Tick => self.progress.tick(),
            Event::Finished { index, outcome } => {
                self.progress.clear();
                let o = &outcome;
                if !o.stderr.is_empty() {
                    let _ = std::io::stderr().write_all(o.stderr.as_bytes());
                }
                let block = self
                    .console
                    .file_block(&o.name, &o.tap, o.started, o.elapsed);
                let _ = super::print(&block);
                self.progress.finished(index, o.tap.tests_run, o.failed());
                if let Some(state) = self.state.as_deref_mut() {
                    state.observe(
                        &o.name,
                        o.tap.failed.len() as u64,
                        o.tap.has_problems(),
                        o.tap.todo.len() as u64,
                        o.elapsed.as_secs_f64(),
                    );
                }
            }
        }
    }
}

/// `pgtmp __psql FILE`: FILE through the in-process psql with pg_prove's
/// settings, connected as libpq would be by PGHOST, PGPORT, PGUSER,
/// PGDATABASE and PGPASSWORD; psql's output and exit status.
pub fn psql_alone(file: &Path) -> Result<u8> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    // libpq's defaults: the login name, and a database named as the user.
    let user = var("PGUSER").unwrap_or_else(crate::process::login_name);
    let target = crate::url::Target {
        host: var("PGHOST").unwrap_or_else(|| "/tmp".into()),
        port: var("PGPORT").and_then(|p| p.parse().ok()).unwrap_or(5432),
        password: var("PGPASSWORD"),
        dbname: var("PGDATABASE").unwrap_or_else(|| user.clone()),
        user,
    };
    let mut conn = crate::wire::Connection::connect(&target, &[("application_name", "psql")])
        .map_err(|e| Error::Prove(ProveProblem::Connect(e.0)))?;
    let settings = settings(&[], &[], false)?;
    struct Direct;
    impl psql::Output for Direct {
        fn out(&mut self, text: &str) {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        fn err(&mut self, text: &str) {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
    let mut out = Direct;
    let mut vars = settings.vars.clone();
    execute::connection_vars(&mut vars, &conn, &target);
    let mut session = psql::Session::new(&mut conn, vars, settings.print, &mut out);
    let code = session.run_file(&file.to_string_lossy());
    let _ = std::io::stdout().flush();
    Ok(code as u8)
}
