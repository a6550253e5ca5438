//! How a postmaster is stopped, as data: the signal for each mode, how long
//! each step may take, and what comes next when it does not end. Decided
//! here, before any process is signalled, so it can be tested without one.
//! <https://www.postgresql.org/docs/current/server-shutdown.html>

use std::time::Duration;

use nix::sys::signal::Signal;

/// PostgreSQL's shutdown modes that pgtmp uses (smart shutdown would wait
/// for clients, which a throwaway server never does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SIGINT: clients are disconnected, then a checkpoint, so the data
    /// directory restarts without recovery. For data that is kept.
    Fast,
    /// SIGQUIT: no checkpoint. For data about to be deleted.
    Immediate,
}

/// A mode and how long its first signal may take before escalating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    pub mode: Mode,
    pub grace: Duration,
}

/// How long an immediate shutdown may take before SIGKILL.
const IMMEDIATE_GRACE: Duration = Duration::from_secs(5);
/// How long a process may take to die of SIGKILL (an uninterruptible
/// sleep on a slow disk) before we give up waiting.
const KILL_WAIT: Duration = Duration::from_secs(60);

impl Shutdown {
    pub fn fast(grace: Duration) -> Shutdown {
        Shutdown {
            mode: Mode::Fast,
            grace,
        }
    }

    pub fn immediate(grace: Duration) -> Shutdown {
        Shutdown {
            mode: Mode::Immediate,
            grace,
        }
    }

    /// The signals to send in turn and how long to wait after each.
    pub fn steps(&self) -> Vec<(Signal, Duration)> {
        match self.mode {
            Mode::Fast => vec![
                (Signal::SIGINT, self.grace),
                (Signal::SIGQUIT, IMMEDIATE_GRACE),
                (Signal::SIGKILL, KILL_WAIT),
            ],
            Mode::Immediate => vec![(Signal::SIGQUIT, self.grace), (Signal::SIGKILL, KILL_WAIT)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_escalates_to_immediate_then_kill() {
        let steps = Shutdown::fast(Duration::from_secs(10)).steps();
        let signals: Vec<Signal> = steps.iter().map(|s| s.0).collect();
        assert_eq!(signals, [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGKILL]);
        assert_eq!(steps[0].1, Duration::from_secs(10));
        let immediate = Shutdown::immediate(Duration::from_secs(3)).steps();
        assert_eq!(immediate[0], (Signal::SIGQUIT, Duration::from_secs(3)));
        assert_eq!(immediate.last().unwrap().0, Signal::SIGKILL);
    }
}
