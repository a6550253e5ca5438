//! Copying a data directory: the one bulk operation of a hand-out when the
//! pool is empty. `std::fs::copy` uses copy_file_range(2) on Linux, so the
//! bytes never pass through user space.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Copies the tree `from` to `to`, which must not exist yet.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let mode = fs::metadata(from)
        .map_err(Error::io("inspect", from))?
        .permissions()
        .mode();
    fs::DirBuilder::new()
        .mode(mode & 0o7777)
        .create(to)
        .map_err(Error::io("create", to))?;
    copy_contents(from, to)
}

/// Copies what is inside `from` into the existing directory `to`.
pub fn copy_contents(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).map_err(Error::io("read", from))? {
        let entry = entry.map_err(Error::io("read", from))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let kind = entry.file_type().map_err(Error::io("inspect", &src))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&src).map_err(Error::io("read link", &src))?;
            std::os::unix::fs::symlink(target, &dst).map_err(Error::io("create", &dst))?;
        } else {
            fs::copy(&src, &dst).map_err(Error::io("copy to", &dst))?;
        }
    }
    Ok(())
}
