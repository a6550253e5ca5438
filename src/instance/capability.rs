//! Which instances `reset` and `snapshot` can take: both stop and start the
//! server under its supervisor, so they need one that takes requests; a
//! reset also needs the template the data came from. What other kinds of
//! instance cannot go through (a set with replicas, a `--shared-tx` proxy)
//! is said here, in one place, for them to change when they learn to.

use std::path::PathBuf;

use super::endpoint::Endpoint;
use super::meta::Meta;
use super::select::{Selector, select};
use crate::error::{Error, Refusal, Result};
use crate::paths::Layout;
use crate::url;

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

/// The instance `url` names (its directory and metadata), which must be
/// able to go through `action`.
pub fn find(layout: &Layout, url: &str, action: Action) -> Result<(PathBuf, Meta)> {
    let (dir, meta) = select(layout, &Selector::url(url)?)?
        .into_iter()
        .next()
        .expect("select finds one or fails");
    check(&meta, action).map_err(|why| Error::Refused {
        action: action.verb(),
        url: url::without_password(url),
        why,
    })?;
    Ok((dir, meta))
}

/// Why `meta`'s instance cannot go through `action`, if it cannot.
pub fn check(meta: &Meta, action: Action) -> std::result::Result<(), Refusal> {
    if !matches!(meta.endpoint, Endpoint::Primary) {
        return Err(Refusal::SharedTx);
    }
    if !meta.replicas.is_empty() {
        return Err(Refusal::Replicas);
    }
    if meta.spare.is_some() {
        return Err(Refusal::Spare);
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

/// Whether the instance in `dir` is what a spare can be, so that a reset
/// can put one in its place (`reaper::swap`) instead of restarting it: a
/// single server with no `-o` options and no password, on a socket in the
/// instance directory, its data there too (`data`).
pub fn swappable(dir: &std::path::Path, meta: &Meta) -> bool {
    let server = &meta.primary;
    !meta.is_set()
        && meta.endpoint.is_primary()
        && meta.password.is_none()
        && !server.tcp
        && !server.fixed_port
        && !server.socket_dir_separate
        && !server.user_data_dir
        && server.server_options.is_empty()
        && server.socket_dir == dir
        && server.data_dir == dir.join(super::meta::DATA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::Server;

    fn meta() -> Meta {
        Meta {
            control: Some("/r/x/pgtmp.sock".into()),
            template: Some("t0123".into()),
            ..Meta::default()
        }
    }

    #[test]
    fn what_can_be_reset_and_snapshotted() {
        let plain = meta();
        assert!(check(&plain, Action::Reset).is_ok());
        assert!(check(&plain, Action::Snapshot).is_ok());

        let mut own = meta();
        own.primary.user_data_dir = true;
        own.template = None;
        assert!(matches!(check(&own, Action::Reset), Err(Refusal::OwnData)));
        assert!(
            check(&own, Action::Snapshot).is_ok(),
            "a -d instance can be copied"
        );

        let mut old = meta();
        old.control = None;
        assert!(matches!(
            check(&old, Action::Snapshot),
            Err(Refusal::OldInstance)
        ));

        let mut set = meta();
        set.replicas.push(Server::default());
        for action in [Action::Reset, Action::Snapshot] {
            assert!(matches!(check(&set, action), Err(Refusal::Replicas)));
        }

        let mut proxy = meta();
        proxy.endpoint = Endpoint::Listener {
            socket_dir: "/r/x/proxy".into(),
            port: 5432,
            tcp: false,
        };
        for action in [Action::Reset, Action::Snapshot] {
            assert!(matches!(check(&proxy, action), Err(Refusal::SharedTx)));
        }
    }
}
