//! `cargo bench --bench bench [-- --quick]`: pgtmp against the usual ways of
//! getting a throwaway PostgreSQL, on the same machine, binaries and run.
//!
//! Prints a Markdown report on stdout and writes `bench.json` (every sample),
//! `bench.md` and `bench.svg` to `--out`. Progress goes to stderr. A pgtmp
//! scenario that fails is reported as such and the run goes on; missed
//! targets are reported, never turned into an exit code.

// eprintln! is refused in the product (clippy.toml: a closed stderr must
// not end a run); here a closed stderr may end the run.
#![allow(clippy::disallowed_macros)]

mod account;
mod args;
mod baselines;
mod client;
mod command;
mod fixture;
mod footprint;
mod interrupt;
mod load;
mod pgtmp;
mod plot;
mod procfs;
mod prove;
mod reap;
mod report;
mod restore;
mod results;
mod scenarios;
mod server;
mod shared_tx;
mod stats;
mod targets;
mod topology;
mod versions;
mod workspace;

use std::process::ExitCode;

use args::Args;
use results::Results;
use scenarios::Bench;
use server::Pg;
use workspace::Workspace;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bench: error: {e}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    interrupt::install();
    match run(&args) {
        // The shell's convention for "ended by SIGINT"; the report is written.
        Ok(()) if interrupt::interrupted() => ExitCode::from(130),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    // Declared first, dropped last: everything else is stopped before the
    // workspace sweeps and removes its directory.
    let ws = Workspace::create()?;
    let pg = Pg {
        bindir: args.pg_bindir.clone(),
        who: account::Identity::detect()?,
    };
    let mut results = Results::default();
    describe(args, &pg, &mut results)?;
    for problem in client::self_check() {
        eprintln!("bench: warning: client library: {problem}");
        results.meta.push(("client URL parsing problem", problem));
    }

    eprintln!("bench: preparing baselines in {}", ws.path("").display());
    let baselines = baselines::Baselines::prepare(&pg, &ws)?;
    let pgtmp = ws.pgtmp(&args.pgtmp, "pgtmp", &args.pg_bindir);
    results.meta.push(("pgtmp", describe_pgtmp(&pgtmp)));
    let mut bench = Bench::new(&ws, baselines, pgtmp, args.pg_bindir.clone());
    if let Err(e) = bench.prime() {
        eprintln!("bench: warning: priming pgtmp's pool: {e}");
    }
    let primed = bench.prime_fixture();
    note_priming(&mut results, "fixture (-f)", primed);
    let primed = bench.prime_setup();
    note_priming(&mut results, "--setup", primed);

    let rounds = args.samples.div_ceil(5);
    scenarios::interleaved(&mut bench, &mut results, args.samples, args.only.as_deref());
    if let Some(only) = &args.only {
        results.meta.push(("only", only.join(", ")));
    }
    let wanted = |key: &str| {
        args.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|k| k == key))
    };
    if wanted("burst_first") {
        load::first_burst(&mut bench, &mut results, rounds);
    }
    if wanted("burst") {
        load::burst(&mut bench, &mut results, rounds);
    }
    if wanted("concurrent") {
        load::concurrent(&mut bench, &mut results, rounds);
    }
    if wanted("shared_tx") {
        shared_tx::shared_tx(&bench, &mut results, args.samples.min(10));
    }
    if wanted("reap") {
        reap::reap(&mut bench, &mut results, args.samples.min(5));
    }
    if topology::keys().any(wanted) {
        // Sets cost a few servers a sample: half the samples.
        let rounds = args.samples.div_ceil(2);
        topology::run(&mut bench, &pg, &mut results, rounds, args.only.as_deref());
    }
    if wanted("prove") {
        prove::prove(&mut bench, &mut results, rounds.max(3));
    }
    if wanted("versions") {
        // A quarter of the samples: six versions, each with initdb per cold one.
        versions::run(&mut bench, &mut results, args.samples.div_ceil(4));
    }
    if !interrupt::interrupted() && args.only.is_none() {
        results.footprints.push(footprint::pgtmp(&mut bench));
        let floor = footprint::cluster(
            "plain postgres via pg_ctl (floor server)",
            &bench.baselines.floor,
        );
        results.footprints.push(floor);
    }
    results.interrupted = interrupt::interrupted();
    drop(bench);

    let targets = targets::evaluate(&results);
    let markdown = report::markdown(&results, &targets);
    print!("{markdown}");
    write_outputs(args, &results, &targets, &markdown)
}

/// What priming `what` made (or why it failed), in the report's header.
fn note_priming(results: &mut Results, what: &'static str, primed: Result<String, String>) {
    let fact = primed.unwrap_or_else(|e| {
        eprintln!("bench: warning: priming {what}: {e}");
        format!("priming failed: {e}")
    });
    results.meta.push((what, fact));
}

/// Facts about the run that go into the report's header.
fn describe(args: &Args, pg: &Pg, results: &mut Results) -> Result<(), String> {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    results.meta.extend([
        ("unix time", unix_time.to_string()),
        ("machine", format!("{cpus} CPUs, Linux {}", kernel.trim())),
        (
            "PostgreSQL",
            format!("{} ({})", pg.version()?, pg.bindir.display()),
        ),
        ("samples per scenario", args.samples.to_string()),
        (
            "servers run as",
            format!("{} (SQL role {})", pg.who.server.name, pg.who.me.name),
        ),
        (
            "client",
            "the `postgres` crate (0.19), connecting with each URL exactly as printed".into(),
        ),
    ]);
    Ok(())
}

fn describe_pgtmp(pgtmp: &pgtmp::Pgtmp) -> String {
    let version = pgtmp
        .version()
        .unwrap_or_else(|| "`--version` failed".into());
    format!("{} ({version})", pgtmp.bin.display())
}

fn write_outputs(
    args: &Args,
    results: &Results,
    targets: &[targets::Target],
    markdown: &str,
) -> Result<(), String> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("creating {}: {e}", args.out.display()))?;
    let json =
        serde_json::to_string_pretty(&report::json(results, targets)).map_err(|e| e.to_string())?;
    for (name, text) in [
        ("bench.json", json.as_str()),
        ("bench.md", markdown),
        ("bench.svg", &plot::svg(results)),
    ] {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}
