//! `pgtmp completions SHELL` and `pgtmp man`: generated from the clap
//! definition, so they cannot drift from `--help`. `make generate` writes
//! them to `completions/` and `man/`; the tests fail when those are stale.

use std::io::Write;

use clap::CommandFactory;

use super::print;
use crate::cli::Cli;
use crate::error::{Error, Result};

pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pgtmp", &mut buf);
    print(&String::from_utf8_lossy(&buf))
}

pub fn man() -> Result<()> {
    print(&man_page()?)
}

/// The whole man page: clap's sections, one per subcommand, then ours.
pub fn man_page() -> Result<String> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    let io = |e| Error::io("render", "the man page")(e);
    man.render_title(&mut buf).map_err(io)?;
    man.render_name_section(&mut buf).map_err(io)?;
    man.render_synopsis_section(&mut buf).map_err(io)?;
    man.render_description_section(&mut buf).map_err(io)?;
    man.render_options_section(&mut buf).map_err(io)?;
    writeln!(buf, ".SH COMMANDS").map_err(io)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write!(buf, ".TP\n\\fBpgtmp {}\\fR", sub.get_name()).map_err(io)?;
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
        {
            if arg.get_id() == "help" {
                continue;
            }
            let shown = match (arg.get_short(), arg.get_long()) {
                (Some(s), _) => format!(" [\\-{s}]"),
                (None, Some(l)) => format!(" [\\-\\-{}]", l.replace('-', "\\-")),
                (None, None) => format!(" {}", arg.get_id().as_str().to_uppercase()),
            };
            write!(buf, "{shown}").map_err(io)?;
        }
        writeln!(buf).map_err(io)?;
        if let Some(about) = sub.get_about() {
            writeln!(buf, "{}", escape(&about.to_string())).map_err(io)?;
        }
    }
    buf.extend_from_slice(EXTRA.as_bytes());
    man.render_version_section(&mut buf).map_err(io)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('-', "\\-")
}

const EXTRA: &str = r#".SH PGTMP PROVE
\fBpgtmp prove\fR [\fIstart options\fR] [\fIprove options\fR] \fIPATH\fR...
runs pgTAP test files as \fBpg_prove\fR(1) does, each in a database of its own: \fBCREATE DATABASE ... TEMPLATE test\fR of one server handed out for the run, whose \fBtest\fR has pgTAP (and the \fB\-f\fR, \fB\-x\fR, \fB\-\-now\fR fixtures), created once and cached. Files run with psql's semantics (ON_ERROR_STOP, \fB\\i\fR, \fB\\ir\fR, \fB\\set\fR, \fB\\if\fR) in\-process, or by psql when they need it (\fB\\copy\fR, \fBCOPY FROM STDIN\fR, \fB\\c\fR, ...). The output, verdicts and exit status are pg_prove's.
.PP
pg_prove's options keep their meaning: \fB\-j\fR, \fB\-\-ext\fR (default \fI.pg\fR), \fB\-r\fR, \fB\-v\fR, \fB\-q\fR, \fB\-Q\fR, \fB\-\-shuffle\fR, \fB\-\-reverse\fR, \fB\-\-state\fR (kept in \fI./.pgtmp\-prove\fR), \fB\-R\fR, \fB\-s\fR, \fB\-P\fR, \fB\-S\fR, \fB\-b\fR, \fB\-D\fR, \fB\-\-ignore\-exit\fR, \fB\-\-parse\fR, \fB\-\-directives\fR. Where a short flag is pgtmp's own, the long name is pg_prove's: \fB\-\-failures\fR (pg_prove's \fB\-f\fR; \fB\-f\fR is \fB\-\-file\fR), \fB\-\-match\fR (\fB\-x\fR is \fB\-\-extension\fR), \fB\-\-timer\fR (\fB\-t\fR is \fB\-\-tcp\fR); comments are always shown (\fB\-o\fR is \fB\-\-options\fR). pg_prove's \fB\-d\fR, \fB\-U\fR, \fB\-h\fR, \fB\-p\fR name a database, which pgtmp makes itself (\fB\-d\fR and \fB\-p\fR are pgtmp's \fB\-\-datadir\fR and \fB\-\-port\fR).
.PP
Beyond pg_prove: \fB\-\-junit\fR \fIFILE\fR (JUnit XML: a testsuite per file, a testcase per test with its time, failures with pgTAP's diagnostics, a \fI(file)\fR testcase for a bad plan or an SQL error), \fB\-\-json\fR \fIFILE\fR (per file and per test, with times), \fB\-\-fail\-fast\fR (no new file after a failure), \fB\-\-keep\-failed\fR (the failing files' databases and the server stay up, their URLs on stderr; the server stops after \fB\-w\fR idle, 10 minutes by default). Each file is printed when it finishes, with its psql messages on stderr before it; on a terminal a progress line is shown on stderr. Ctrl\-C prints the summary of the files that finished, \fBTest run interrupted!\fR, stops the server and exits 130. See \fIdocs/prove.md\fR.
.SH ENVIRONMENT
.TP
\fBPGTMP_DIR\fR
The per-user base directory (created with mode 0700 and marked with a \fI.pgtmp\fR file; an existing directory must be empty, or pgtmp's, and its owner's). Default: \fI$SYSTMP/pgtmp\-UID\fR when \fBSYSTMP\fR is set, else \fI$XDG_RUNTIME_DIR/pgtmp\fR or \fI/dev/shm/pgtmp\-UID\fR when that tmpfs has room, else \fI$TMPDIR/pgtmp\-UID\fR or \fI/tmp/pgtmp\-UID\fR.
.TP
\fBSYSTMP\fR
pg_tmp's variable for where its directories go: without \fBPGTMP_DIR\fR, the base directory is \fI$SYSTMP/pgtmp\-UID\fR, checked and made private like any base (\fBSYSTMP\fR itself may be shared).
.TP
\fBPGTMP_PG_BINDIR\fR
The directory holding \fBpostgres\fR and \fBinitdb\fR (as \fB\-\-pg\-bindir\fR, but \fB\-\-pg\-version\fR wins over it). Otherwise pgtmp asks \fBpg_config \-\-bindir\fR, searches PATH, \fBPGTMP_PG_PATH\fR, then \fI/usr/lib/postgresql/*/bin\fR, \fI/usr/pgsql\-*/bin\fR, Homebrew, Postgres.app, MacPorts and the EnterpriseDB installers. \fBpgtmp versions\fR lists what it finds; versions are what the binaries say.
.TP
\fBPGTMP_PG_PATH\fR
More places to search, separated by colons: bin directories, or prefixes holding \fIbin/\fR (searched after PATH, so the default stays the same). \fB\-\-pg\-version N\fR takes the newest N.x among everything found, and psql or pg_restore missing from a server's installation come from the nearest one that can do the job.
.TP
\fBPGTMP_POOL_SIZE\fR
How many ready data directories to keep (default 2, at most 32; 0 turns the pool off). Pool entries and spares together stay within a budget: at most a quarter of the base filesystem's free space and of the available memory, counting what they hold already; a heavy template gets fewer.
.TP
\fBPGTMP_SPARES\fR
The most spare servers (started ahead, claimed by the next plain hand-out) kept ready per PostgreSQL build and listener (default 16, at most 64; 0 turns spares off; \fB\-\-spares\fR overrides it). How many are kept follows demand, within the budget above. The old name \fBPGTMP_STANDBY\fR is still read when this one is not set.
.TP
\fBPGTMP_SPARE_TIMEOUT\fR
How long an unclaimed spare waits before it stops (default 60s). The old name \fBPGTMP_STANDBY_TIMEOUT\fR is still read when this one is not set.
.TP
\fBPGTMP_SHARED_TX_WAIT\fR
With \fB\-\-shared\-tx\fR: how long a client waits while another holds the shared transaction, before its batch fails with SQLSTATE 55P03 (default 10s).
.TP
\fBPGTMP_INITDB_OPTS\fR
Extra \fBinitdb\fR options; each set of options gets its own template.
.TP
\fBPGTMP_LOCALE\fR
The locale of the databases, as \fB\-\-locale\fR: \fIC.UTF\-8\fR by default (the builtin provider from PostgreSQL 17, the C library's before), \fIC\fR for bytes, or an installed locale. Each locale gets its own template.
.TP
\fBPGTMP_TRACE\fR
When set to 1, print the phases of a call with their times on standard error.
.SH SHARED TRANSACTIONS
With \fB\-\-shared\-tx\fR the URL points at a proxy in front of the server, and every connection through it shares one server transaction, begun at hand\-out. A client's BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE and ROLLBACK TO become savepoints of its own; its statements outside a transaction run under a savepoint, so their errors stay its own; it sees its own transaction status, prepared statements, portals and startup parameters. Clients take turns, one batch, transaction, COPY or suspended portal at a time.
.PP
\fBpgtmp rollback URL\fR, or \fBROLLBACK TEST 'name'\fR / \fBBEGIN TEST 'name'\fR in SQL, rolls everything back to the hand\-out (or the last rollback) while the clients stay connected. \fBpgtmp list \-\-clients\fR shows the proxy's clients.
.PP
Statements that cannot run in a transaction block (VACUUM, CREATE DATABASE, ...) fail with SQLSTATE 25001 and a hint; PREPARE TRANSACTION is refused; CONCURRENTLY is dropped from CREATE INDEX, DROP INDEX and REINDEX. now() stays fixed until the next rollback, sequences are not rolled back, row locks never conflict between clients, LISTEN/NOTIFY delivers nothing, session state (temporary tables, settings the server does not report) is shared.
.SH EXIT STATUS
.TP
\fB0\fR
Success.
.TP
\fB1\fR
Failure; the reason is on standard error as \fBpgtmp: error:\fR, with a \fBhint:\fR where a fix is known.
.TP
\fB2\fR
Usage error (bad option or value).
.PP
\fBpgtmp exec\fR exits with the command's status, or 128+N when it was killed by signal N; as a shell, 127 when the command is not found and 126 when it cannot be executed.
.PP
\fBpgtmp prove\fR exits 0 when every test passed (or none ran), 1 when a test failed, a file had a bad plan or an SQL error, or something went wrong, and 130 when interrupted.
.SH STANDARD OUTPUT
Only the product: the connection (in its \fB\-F\fR form), \fBinitdb\fR's directory, or the \fBlist\fR rows. A single value (the \fBurl\fR, \fBurl\-with\-user\fR, \fBdsn\fR and \fBjdbc\fR forms, \fBinitdb\fR's directory) ends in a newline only when standard output is a terminal, as pg_tmp prints its URL: \fBurl=$(pgtmp)\fR and a raw capture get the value alone. The \fBenv\fR and \fBjson\fR forms and the \fBlist\fR rows end every line in a newline.
.PP
The socket URL is pg_tmp's, \fBpostgresql:///test?host=%2Fdir\fR: the directory percent\-encoded and no user, so that it holds nothing a shell splits or expands (but \fB?\fR) and \fBcut \-d= \-f2 | sed 's/%2F/\e//g'\fR gives the socket directory. Clients take the user name from the system; \fB\-F url\-with\-user\fR names it for those that cannot (node\-postgres without \fBUSER\fR).
.SH PG_TMP
Installed as \fBpg_tmp\fR (\fBln \-s pgtmp pg_tmp\fR), pgtmp is a drop\-in for it: options and subcommand come in any order (\fBpg_tmp \-w 60 \-d DIR \-p PORT stop\fR); \fBinitdb\fR and \fBstop\fR accept the start options and ignore them with a note; \fBstop \-d DIR\fR takes the directory \fBinitdb\fR printed, the data directory or the URL's socket directory; \fBstop \-k\fR keeps the data, \fBstop \-w N\fR waits N seconds, then stops once no client is connected, looking again every N seconds. Its name changes nothing else.
.SH SIGNALS
While its command runs, \fBpgtmp exec\fR passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on to it, except those the command already received: from the terminal (Ctrl\-C goes to the whole foreground process group) or from a process of its own. It stops the instance only once the command has exited.
.SH FILES
.TP
\fIBASE/run/ID/\fR
One instance: \fIdata/\fR, \fImeta.json\fR, \fIserver.log\fR, \fIsupervise.log\fR, its Unix socket and its supervisor's \fIpgtmp.sock\fR (for \fBpromote\fR and \fBrestart\fR); with \fB\-\-shared\-tx\fR also \fIproxy.json\fR (the proxy's configuration), \fIproxy\-status.json\fR (its clients) and \fIproxy.log\fR.
.TP
\fIBASE/run/ID/nodeN/\fR
Replica N of a set (\fB\-\-replicas\fR): \fIdata/\fR, \fIserver.log\fR and its Unix socket; every server of a set also listens in a \fIstream/\fR directory below its socket's, for the other servers' replication connections.
.TP
\fIBASE/initdb/ID/\fR
A data directory \fBpgtmp initdb\fR printed, for \fBstart \-d\fR; deleted with the instance that ran on it unless kept, or by \fBstop \-d\fR.
.TP
\fIBASE/templates/\fR, \fIBASE/pool/\fR
The initdb'd template per PostgreSQL build, those of fixtures (\fB\-f\fR), setups (\fB\-\-setup\fR) and snapshots, and ready copies of each.
.TP
\fIBASE/spare/CLASS/ID\fR
A token per ready spare server, whose instance is \fIBASE/run/ID/\fR.
.TP
\fIBASE/snapshots/NAME.json\fR
The record of a snapshot, naming its template in \fIBASE/templates/\fR. Snapshots survive \fBgc\fR and \fBgc \-\-all\fR; one unused (not taken, handed out or reset to) for 30 days is removed.
.TP
\fIBASE/refill.log\fR
What background pool refills had to say; started afresh past 64 KiB.
.SH EXAMPLES
.nf
url=$(pgtmp)
psql "$url" \-c 'select 1'
url=$(pgtmp \-t \-w 5m)
pgtmp \-F jdbc
eval "$(pgtmp \-F env)"
pgtmp exec \-\- make test
pgtmp \-\-replicas 2 \-\-sync
pgtmp promote "$replica_url"
pgtmp wait "$url"
pgtmp prove \-j2 \-f schema.sql \-\-ext .sql t/
url=$(pgtmp \-\-shared\-tx); pgtmp rollback "$url"
pgtmp \-\-setup 'sqitch deploy' \-\-key sqitch.plan \-\-key deploy
pgtmp snapshot "$url" seeded
pgtmp \-\-from seeded
pgtmp reset "$url"
pgtmp stop \-\-all
d=$(pgtmp initdb); url=$(pgtmp start \-d $d); pgtmp stop \-d $d
psql \-\-host "$(echo $url | cut \-d= \-f2 | sed 's/%2F/\e//g')" test
.fi
"#;
