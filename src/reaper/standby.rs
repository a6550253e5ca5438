//! The supervisor of a standby: waits for a caller to claim the server (its
//! token gone, a `claim-<pid>-<start>` file in its place) and for that
//! caller to deliver the URL, or gives up after the standby timeout.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use super::ACK_TIMEOUT;
use super::signals::StopSignals;
use crate::instance::Meta;
use crate::instance::meta::DELIVERED;
use crate::process;
use crate::standby;

/// How often an unclaimed standby looks at its token.
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
    child: &mut Child,
    stop: &StopSignals,
) -> Outcome {
    let timeout = meta.timeout().unwrap_or(standby::DEFAULT_TIMEOUT);
    let since = Instant::now();
    loop {
        if stop.wait(POLL) {
            standby::retract(token);
            return Outcome::Stop("stop requested".into());
        }
        if let Ok(Some(status)) = child.try_wait() {
            standby::retract(token);
            return Outcome::Stop(format!("the server exited on its own ({status})"));
        }
        if !standby::waiting(token) {
            break;
        }
        if since.elapsed() >= timeout {
            if standby::retract(token) {
                return Outcome::Stop(format!(
                    "standby unclaimed for {}",
                    humantime::format_duration(timeout)
                ));
            }
            break; // a claim won the race
        }
    }
    let Some((pid, start)) = standby::claimed_by(dir) else {
        return Outcome::Stop("the standby token was removed".into());
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
        if let Ok(Some(status)) = child.try_wait() {
            return Outcome::Stop(format!("the server exited on its own ({status})"));
        }
    }
}
