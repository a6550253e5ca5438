//! The supervisor of a spare: waits for a caller to claim the server (its
//! token gone, a `claim-<pid>-<start>` file in its place) and for that
//! caller to deliver the URL, or gives up after the spare timeout.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::ACK_TIMEOUT;
use super::fleet::Fleet;
use super::signals::StopSignals;
use crate::instance::Meta;
use crate::instance::meta::DELIVERED;
use crate::process;
use crate::spare;

/// How often an unclaimed spare looks at its token.
const POLL: Duration = Duration::from_millis(100);
/// How often a claimed one looks for the delivery.
const DELIVERY_POLL: Duration = Duration::from_millis(5);

/// How waiting ended: claimed and delivered (`meta` is now the claimer's;
/// `moved`: the instance directory it was moved into, when it took the
/// place of one being reset, see `swap`), or a reason to stop.
#[derive(Debug)]
pub enum Outcome {
    Delivered { moved: Option<PathBuf> },
    Stop(String),
}

pub fn serve(
    dir: &Path,
    meta: &mut Meta,
    token: &Path,
    fleet: &mut Fleet,
    stop: &StopSignals,
) -> Outcome {
    let timeout = meta
        .timeout()
        .unwrap_or(crate::config::DEFAULT_SPARE_TIMEOUT);
    let since = Instant::now();
    loop {
        if stop.wait(POLL) {
            spare::retract(token);
            return Outcome::Stop("stop requested".into());
        }
        if let Some(why) = fleet.exited() {
            spare::retract(token);
            return Outcome::Stop(why);
        }
        if !spare::waiting(token) {
            break;
        }
        if since.elapsed() >= timeout {
            if spare::retract(token) {
                return Outcome::Stop(format!(
                    "spare unclaimed for {}",
                    humantime::format_duration(timeout)
                ));
            }
            break; // a claim won the race
        }
    }
    // A reset may have moved it into the instance it replaces already.
    let mut home = dir.to_path_buf();
    let Some((pid, start)) = spare::claimed_by(&locate(dir, meta, &mut home)) else {
        return Outcome::Stop("the spare token was removed".into());
    };
    super::log(&format!("claimed by process {pid}"));
    let claimed = Instant::now();
    loop {
        locate(dir, meta, &mut home);
        let delivered = || home.join(DELIVERED).exists();
        if delivered() {
            let moved = (home != dir).then(|| home.clone());
            return match Meta::read(&home) {
                Ok(m) => {
                    *meta = m;
                    Outcome::Delivered { moved }
                }
                Err(e) => Outcome::Stop(format!("unreadable after the claim: {e}")),
            };
        }
        if !process::running_since(pid, start) && !delivered() {
            return Outcome::Stop(format!(
                "process {pid} claimed it and died before printing the URL"
            ));
        }
        if claimed.elapsed() >= ACK_TIMEOUT {
            return Outcome::Stop("the URL was not delivered in time".into());
        }
        if stop.wait(DELIVERY_POLL) {
            return Outcome::Stop("stop requested".into());
        }
        if let Some(why) = fleet.exited() {
            return Outcome::Stop(why);
        }
    }
}

/// Where the spare is now: `home`, or where it went when that is gone or
/// no longer its own (a swap exchanges two directories' names, then moves
/// the other aside).
fn locate(dir: &Path, meta: &Meta, home: &mut PathBuf) -> PathBuf {
    if !names_me(home, meta)
        && let Some(moved) = moved_to(dir, meta)
    {
        *home = moved;
    }
    home.clone()
}

/// Whether the `meta.json` in `dir` names this supervisor (as `meta` does).
fn names_me(dir: &Path, meta: &Meta) -> bool {
    let me = meta.supervisor_pid.zip(meta.supervisor_start);
    me.is_some() && Meta::read(dir).is_ok_and(|m| m.supervisor_pid.zip(m.supervisor_start) == me)
}

/// Where the spare's directory `dir` went, when it is gone: the instance
/// directory beside it whose `meta.json` names this supervisor (a reset
/// moved the spare into it, see `swap`).
fn moved_to(dir: &Path, meta: &Meta) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir.parent()?).ok()?;
    entries.flatten().map(|e| e.path()).find(|path| {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."));
        !hidden && names_me(path, meta)
    })
}
