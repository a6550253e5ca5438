//! `pgtmp` / `pgtmp start`: the start options turned into a hand-out
//! request, and what it returns printed.

use std::io::Write;

use super::options;
use crate::cli::{GlobalArgs, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::handout::{self, Request, Topology};

pub fn run(args: &StartArgs, global: &GlobalArgs) -> Result<()> {
    let format = args.format.unwrap_or_default();
    let mut options = options(global);
    options.spares = args.spares.map(usize::from);
    let config = Config::resolve(&options)?;
    let handout = handout::hand_out(&config, &request(args, format)?)?;
    match handout.kept_data_dirs() {
        [] => {}
        [kept] => eprintln!(
            "pgtmp: the data directory will be kept after the server stops: {}",
            kept.display()
        ),
        all => {
            eprintln!("pgtmp: the data directories will be kept after the servers stop:");
            for kept in all {
                eprintln!("  {}", kept.display());
            }
        }
    }
    // If the URL cannot be written (stdout closed), no acknowledgement
    // comes and the supervisor stops the server at once.
    let text = handout.render(format)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::io("write the URL to", "standard output"))?;
    handout.acknowledge()
}

/// The request the start options make; a format that needs TCP asks for it.
fn request(args: &StartArgs, format: Format) -> Result<Request> {
    let server_options = match &args.server_options {
        Some(o) => shell_words::split(o).map_err(|e| Error::ServerOptions {
            options: o.clone(),
            reason: e.to_string(),
        })?,
        None => Vec::new(),
    };
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
        owner_pid: args.owner_pid,
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
