//! `pgtmp gc [--all]`: remove what crashed runs left behind.

use super::options;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::Result;
use crate::gc;

pub fn run(all: bool, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    config.enter()?;
    // Without PostgreSQL at hand no key is current; age alone decides.
    let current = config.template_spec().ok().map(|s| s.key());
    let sum = gc::collect(&config.layout, current.as_deref(), all)?;
    crate::say!(
        "pgtmp: removed {} dead instance(s), {} spare(s), {} half-copied director(ies), {} pool entr(ies), {} template(s)",
        sum.instances,
        sum.spares,
        sum.partial,
        sum.pool_entries,
        sum.templates
    );
    Ok(())
}
