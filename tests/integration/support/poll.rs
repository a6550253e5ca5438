//! Waiting for conditions instead of timing them: tests poll against
//! deadlines far longer than anything should take, so a slow machine makes a
//! test slower, never red.

use std::time::{Duration, Instant};

/// How long anything that "should happen soon" may take.
pub const PATIENCE: Duration = Duration::from_secs(30);

const STEP: Duration = Duration::from_millis(50);

/// Polls `cond` until it holds (true) or `PATIENCE` runs out (false).
pub fn eventually(cond: impl FnMut() -> bool) -> bool {
    within(PATIENCE, cond)
}

/// Polls `cond` until it holds (true) or `limit` runs out (false).
pub fn within(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(STEP);
    }
}

/// Checks that `cond` keeps holding for the whole of `span` (sampled every
/// 200 ms): how a test shows that something does *not* happen too early.
pub fn stays(span: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + span;
    loop {
        if !cond() {
            return false;
        }
        if Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
