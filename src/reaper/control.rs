//! The supervisor's end of the control socket (see `instance::control`):
//! orders are taken one at a time, between two looks at the instance, and
//! carried out by `orders`.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fleet::Fleet;
use super::orders::{self, Outcome};
use super::signals::StopSignals;
use super::swap;
use crate::error::{Error, Result};
use crate::instance::Meta;
use crate::instance::control::{Answer, Order};

/// How long a caller may take to send its order once connected.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the supervisor leaves after an order.
#[derive(Debug)]
pub enum Leave {
    /// The order left the instance without all its servers: it stops.
    Broken(String),
    /// A spare took the instance's place; what was moved aside.
    Replaced(PathBuf),
}

#[derive(Debug)]
pub struct Control {
    listener: UnixListener,
    path: PathBuf,
}

impl Control {
    /// Listens at the instance's control socket, if it has one.
    pub fn bind(meta: &Meta) -> Result<Option<Control>> {
        let Some(path) = meta.control.clone() else {
            return Ok(None);
        };
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(Error::io("listen at", &path))?;
        listener
            .set_nonblocking(true)
            .map_err(Error::io("listen at", &path))?;
        Ok(Some(Control { listener, path }))
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// Carries out the orders waiting; says why the supervisor must leave
    /// when one left the instance broken or replaced.
    pub fn serve(
        &self,
        dir: &Path,
        meta: &mut Meta,
        fleet: &mut Fleet,
        stop: &StopSignals,
    ) -> Option<Leave> {
        while let Ok((stream, _)) = self.listener.accept() {
            if let Some(leave) = serve_one(stream, dir, meta, fleet, stop) {
                return Some(leave);
            }
        }
        None
    }

    /// Closes the socket but leaves its path: after a swap, it names the
    /// socket of the spare's supervisor.
    pub fn disown(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return; // disowned
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve_one(
    stream: UnixStream,
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop: &StopSignals,
) -> Option<Leave> {
    let mut line = String::new();
    let read = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(READ_TIMEOUT)))
        .and_then(|()| BufReader::new(&stream).read_line(&mut line));
    let Ok(order) = read
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str::<Order>(line.trim()).map_err(|e| e.to_string()))
    else {
        return None;
    };
    super::log(&format!("order: {order:?}"));
    let outcome = match order {
        Order::Promote { node } => orders::promote(dir, meta, fleet, stop, &node),
        Order::Restart { node, options } => {
            orders::restart(dir, meta, fleet, stop, node.as_deref(), options)
        }
        Order::Reset { data } => orders::reset(dir, meta, fleet, stop, &data),
        Order::Snapshot { into } => orders::snapshot(dir, meta, fleet, stop, &into),
        Order::Swap { spare } => swap::swap(dir, meta, fleet, &spare),
    };
    let (answer, leave) = match outcome {
        Outcome::Done => (Answer::Done, None),
        Outcome::Failed(e) => (failed(e, ""), None),
        Outcome::Broken(e) => {
            let why = e.to_string();
            (failed(e, " (the instance stops)"), Some(Leave::Broken(why)))
        }
        Outcome::Replaced(old) => (Answer::Done, Some(Leave::Replaced(old))),
    };
    super::log(&format!("answer: {answer:?}"));
    let text = serde_json::to_string(&answer).expect("answers serialize");
    let _ = writeln!(&stream, "{text}");
    drop(stream);
    match leave {
        // The server frozen for a swap dies the moment the caller has its
        // answer (killed before, its exit slowed the caller down by a
        // third); the URL's directory is the spare's: nothing to clean.
        Some(Leave::Replaced(_)) => fleet.kill_frozen(),
        _ => orders::clean_up(dir),
    }
    leave
}

fn failed(e: Error, note: &str) -> Answer {
    let disk_full = e.is_no_space();
    let (reason, log, hint) = orders::explain(e);
    Answer::Failed {
        reason: format!("{reason}{note}"),
        log,
        hint,
        disk_full,
    }
}
