//! `pgtmp reset URL`: an instance back to the state it was handed out in
//! (its template: plain, a fixture's, a setup's or a snapshot's), keeping
//! its URL, port, password and idle timeout. A fresh copy of the template
//! is made beside its data directory first (a pool entry claimed with one
//! rename, else a copy), while the server still serves; then its
//! supervisor stops the server, swaps the directories and starts it again
//! (see `reaper::orders`). Its clients are disconnected and reconnect. If
//! the copy cannot be made (a full disk), nothing changes.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Refusal, Result};
use crate::instance::capability::{self, Action};
use crate::instance::control::{self, Order};
use crate::paths;
use crate::pool::{self, template};
use crate::{random, refill, trace, url};

/// How long the supervisor may take to stop and start the server again.
const TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Resets the instance at `url`.
pub fn reset(config: &Config, url: &str) -> Result<()> {
    config.enter()?;
    let layout = &config.layout;
    let (dir, meta) = capability::find(layout, url, Action::Reset)?;
    let key = meta
        .template
        .clone()
        .expect("checked: a template is recorded");
    trace::mark("instance found");
    let fresh = dir.join(format!(".fresh-data-{}", random::id()));
    let reset = copy_template(config, &key, &fresh, url).and_then(|()| {
        trace::mark("fresh copy made");
        let order = Order::Reset {
            data: fresh.clone(),
        };
        control::send(&dir, &meta, &order, "the reset", TIMEOUT)
    });
    if let Err(e) = reset {
        let _ = paths::remove_tree(&fresh);
        return Err(e.on_filesystem_of(&layout.base));
    }
    trace::mark("reset done");
    let _ = std::fs::File::create(layout.template_used(&key));
    // The pool entry taken is replaced in the background.
    let _ = refill::spawn(config, &key, None, None);
    Ok(())
}

/// A copy of the template `key` at `dest`: a pool entry, else a copy made
/// while the template is held for reading (so `gc` leaves it meanwhile).
fn copy_template(config: &Config, key: &str, dest: &Path, url: &str) -> Result<()> {
    let layout = &config.layout;
    if pool::claim(layout, key, dest)? {
        return Ok(());
    }
    let template = match template::hold(layout, key)? {
        Some(held) => held,
        None => {
            // A plain template can be made again; any other is gone for
            // good (gc keeps those of running instances: only a hand or
            // `gc --all` removed it).
            let spec = config.template_spec()?;
            if spec.key() != key {
                return Err(Error::Refused {
                    action: Action::Reset.verb(),
                    url: url::without_password(url),
                    why: Refusal::TemplateGone,
                });
            }
            template::ensure(layout, &spec)?
        }
    };
    pool::copy_tree(template.path(), dest)
}
