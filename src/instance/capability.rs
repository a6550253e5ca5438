//! Which instances `reset` and `snapshot` can take: both stop and start the
//! server under its supervisor, so they need one that takes requests; a
//! reset also needs the template the data came from. What other kinds of
//! instance cannot go through (a set with replicas, a `--shared-tx` proxy)
//! is said here, in one place, for them to change when they learn to.

use super::endpoint::Endpoint;
use super::meta::Meta;
use crate::error::Refusal;

/// What is to be done to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Reset,
    Snapshot,
}

impl Action {
    /// The verb, as errors say it.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Reset => "reset",
            Action::Snapshot => "snapshot",
        }
    }
}

/// Why `meta`'s instance cannot go through `action`, if it cannot.
pub fn check(meta: &Meta, action: Action) -> Result<(), Refusal> {
    if !matches!(meta.endpoint, Endpoint::Primary) {
        return Err(Refusal::SharedTx);
    }
    if !meta.replicas.is_empty() {
        return Err(Refusal::Replicas);
    }
    if action == Action::Reset && meta.primary.user_data_dir {
        return Err(Refusal::OwnData);
    }
    let template = action == Action::Snapshot || meta.template.is_some();
    if meta.control.is_none() || !template {
        return Err(Refusal::OldInstance);
    }
    Ok(())
}
