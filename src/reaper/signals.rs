//! Stop requests (SIGTERM, SIGINT) for the supervisor, delivered through a
//! self-pipe so that its idle wait wakes at once instead of at the next poll.
//! SIGHUP is ignored: the supervisor outlives the terminal that started it.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

#[derive(Debug)]
pub struct StopSignals {
    flag: Arc<AtomicBool>,
    wake: UnixStream,
}

impl StopSignals {
    pub fn install() -> std::io::Result<StopSignals> {
        let flag = Arc::new(AtomicBool::new(false));
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        for sig in [SIGTERM, SIGINT] {
            signal_hook::flag::register(sig, Arc::clone(&flag))?;
            signal_hook::low_level::pipe::register(sig, notify.try_clone()?)?;
        }
        signal_hook::flag::register(SIGHUP, Arc::new(AtomicBool::new(false)))?;
        Ok(StopSignals { flag, wake })
    }

    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Sleeps up to `timeout`; true as soon as a stop was requested.
    pub fn wait(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, None) == Woke::Stop
    }

    /// Sleeps up to `timeout`, or until a stop is requested or `other`
    /// becomes readable (an order on the control socket).
    pub fn wait_for(&self, timeout: Duration, other: Option<BorrowedFd>) -> Woke {
        if self.requested() {
            return Woke::Stop;
        }
        let ms = timeout.as_millis().min(u16::MAX as u128) as u16;
        let mut fds = vec![PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
        fds.extend(other.map(|fd| PollFd::new(fd, PollFlags::POLLIN)));
        let _ = poll(&mut fds, PollTimeout::from(ms));
        let other_ready = fds
            .get(1)
            .and_then(|fd| fd.revents())
            .is_some_and(|r| r.intersects(PollFlags::POLLIN));
        let mut drain = [0u8; 64];
        let _ = (&self.wake).read(&mut drain);
        if self.requested() {
            Woke::Stop
        } else if other_ready {
            Woke::Other
        } else {
            Woke::Timeout
        }
    }
}

/// Why [`StopSignals::wait_for`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    Stop,
    Other,
    Timeout,
}
