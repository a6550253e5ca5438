//! The supervisor of a spare: waits for a caller to claim the server (its
//! token gone, a `claim-<pid>-<start>` file in its place) and for that
//! caller to deliver the URL, or gives up after the spare timeout.

use std::path::Path;
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

/// How waiting ended: claimed and delivered (`meta` is now the claimer's),
/// or a reason to stop.
#[derive(Debug)]
pub enum Outcome {
    Delivered,
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
    let Some((pid, start)) = spare::claimed_by(dir) else {
        return Outcome::Stop("the spare token was removed".into());
    };
    super::log(&format!("claimed by process {pid}"));
    let claimed = Instant::now();
    let delivered = || dir.join(DELIVERED).exists();
    loop {
        if delivered() {
            return match Meta::read(dir) {
                Ok(m) => {
                    *meta = m;
                    Outcome::Delivered
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
