//! `pgtmp` / `pgtmp start`: the start options turned into a hand-out
//! request, and what it returns printed.

use std::io::{IsTerminal, Write};

use super::options;
use crate::cli::{GlobalArgs, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::format::{self, Format};
use crate::handout::{self, Request, Topology};

pub fn run(args: &StartArgs, global: &GlobalArgs) -> Result<()> {
    let format = args.format.unwrap_or_default();
    let mut options = options(global);
    options.spares = args.spares.map(usize::from);
    let config = Config::resolve(&options)?;
    let mut request = request(args, format)?;
    if args.with_pgtap {
        with_pgtap(&mut request);
    }
    let handout = handout::hand_out(&config, &request)
        .map_err(|e| if args.with_pgtap { e.for_prove() } else { e })?;
    for note in handout.notes() {
        crate::say!("pgtmp: {note}");
    }
    match handout.kept_data_dirs() {
        [] => {}
        [kept] => crate::say!(
            "pgtmp: the data directory will be kept after the server stops: {}",
            kept.display()
        ),
        all => {
            crate::say!("pgtmp: the data directories will be kept after the servers stop:");
            for kept in all {
                crate::say!("  {}", kept.display());
            }
        }
    }
    let text = handout.render(format)?;
    // `exec` sets PGUSER for its command itself. A set's URLs all name
    // (or leave out) the same user: the primary's says it.
    if format == Format::Url && args.owner_pid.is_none() {
        warn_of_pguser(text.lines().next().unwrap_or_default());
    }
    // If the URL cannot be written (stdout closed), no acknowledgement
    // comes and the supervisor stops the server at once.
    let mut out = std::io::stdout().lock();
    let text = if format.is_one_line() {
        format::one_value(&text, out.is_terminal())
    } else {
        text
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::io("write the URL to", "standard output"))?;
    crate::trace::mark("URL written");
    let acked = handout.acknowledge();
    crate::trace::mark("acknowledged");
    acked
}

/// `prove`'s server: pgTAP created in `test` with the fixtures.
pub(super) fn with_pgtap(request: &mut Request) {
    if !request.extensions.iter().any(|x| x == "pgtap") {
        request.extensions.push("pgtap".into());
    }
}

/// The request the start options make; a format that needs TCP asks for
/// it. Each `-o` is split as a shell would (as `pg_ctl -o` does); the
/// hand-out reads the words as `postgres` would (`server_options`).
pub(super) fn request(args: &StartArgs, format: Format) -> Result<Request> {
    let mut server_options = Vec::new();
    for o in &args.server_options {
        server_options.extend(shell_words::split(o).map_err(|e| Error::ServerOptions {
            options: o.clone(),
            reason: format!("cannot split it: {e}"),
        })?);
    }
    Ok(Request {
        keep: args.keep,
        tcp: args.tcp || format.needs_tcp(),
        port: args.port,
        timeout: args.timeout,
        server_options,
        datadir: args.datadir.clone(),
        files: args.files.clone(),
        extensions: args.extensions.clone(),
        now: args.now.clone(),
        setup: args.setup.clone(),
        setup_keys: args.setup_keys.clone(),
        from: args.from.clone(),
        owner_pid: args.owner_pid,
        refill_after: args.refill_after,
        topology: match args.replicas {
            Some(replicas) => Topology::Streaming {
                replicas,
                sync: args.sync,
            },
            None => Topology::Single,
        },
        logical: args.logical,
        shared_tx: args.shared_tx,
    })
}

/// The socket URL names no user, as pg_tmp's: libpq and most drivers then
/// take PGUSER, when set, over the OS user whose name the role has.
fn warn_of_pguser(url: &str) {
    let role = crate::process::login_name();
    if let Ok(other) = std::env::var("PGUSER")
        && !other.is_empty()
        && other != role
        && crate::url::parse(url).is_some_and(|t| t.user.is_empty())
    {
        crate::say!(
            "pgtmp: note: PGUSER={other} is set, but the role is {role}: clients that read PGUSER will fail (unset it, or use `-F url-with-user`)"
        );
    }
}
