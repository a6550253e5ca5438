//! `pgtmp snapshot URL NAME`: the instance's supervisor pauses its server
//! and copies the data directory (see `reaper::orders`) into a dot-name
//! among the templates, which is renamed into place once complete; then
//! the record is written, replacing an older one of the same name in one
//! rename. Nothing half-copied is ever a snapshot: a failure (a full disk)
//! removes the copy, and a killed pgtmp leaves a dot-name gc removes.

use std::fs;
use std::time::Duration;

use super::{Record, check_name, new_key, read, write};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::capability::{self, Action};
use crate::instance::control::{self, Order};
use crate::instance::meta::now_secs;
use crate::instance::registry;
use crate::paths;
use crate::pool::retire;
use crate::{lock, random, spare, url};

/// How long the supervisor may take to pause, copy and start again.
const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Saves the databases of the instance at `url` as snapshot `name`.
pub fn take(config: &Config, url: &str, name: &str) -> Result<()> {
    check_name(name)?;
    config.enter()?;
    let layout = &config.layout;
    let base = &layout.base;
    let (dir, meta) = capability::find(layout, url, Action::Snapshot)?;
    let key = new_key(name);
    paths::mkdir_private(&layout.templates())?;
    // Held while the copy is made: gc leaves `.tmp-KEY-*` of a held key.
    let _guard = lock::lock(&layout.template_lock(&key))?;
    let tmp = layout
        .templates()
        .join(format!(".tmp-{key}-{}", random::id()));
    let order = Order::Snapshot { into: tmp.clone() };
    let copied = control::send(&dir, &meta, &order, "the snapshot", TIMEOUT).and_then(|()| {
        let target = layout.template(&key);
        fs::rename(&tmp, &target).map_err(Error::io("rename into", target))
    });
    if let Err(e) = copied {
        let _ = paths::remove_tree(&tmp);
        return Err(e.on_filesystem_of(base));
    }
    let _ = fs::File::create(layout.template_used(&key));
    let older = read(layout, name)?;
    write(
        layout,
        &Record {
            name: name.to_string(),
            key: key.clone(),
            taken: now_secs(),
            source: url::without_password(&meta.url),
        },
    )?;
    if let Some(older) = older.filter(|o| o.key != key) {
        spare::withdraw(layout, &older.key);
        // Instances handed out from it need it to reset: gc removes it
        // once none is left.
        let in_use = registry::live(layout, true)
            .iter()
            .any(|(_, m)| m.template.as_deref() == Some(older.key.as_str()));
        if !in_use {
            retire::remove_template(layout, &older.key)?;
        }
    }
    Ok(())
}
