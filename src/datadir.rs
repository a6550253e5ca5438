//! `-d DIR`: the user's own data directory, for `start` and `initdb`.
//! Initialised from the template when missing or empty; refused untouched
//! when it holds anything else; never deleted.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, PathProblem, Result};
use crate::paths;
use crate::pool::{self, template};
use crate::process;

/// `-d DIR`: use a data directory, initialising it from the template when it
/// is missing or empty. A non-empty directory without PG_VERSION is the
/// user's and is refused untouched.
pub fn prepare_user_dir(config: &Config, spec: &template::Spec, dir: &Path) -> Result<PathBuf> {
    check_path(dir)?;
    populate(config, spec, dir).map_err(about(dir))
}

fn populate(config: &Config, spec: &template::Spec, dir: &Path) -> Result<PathBuf> {
    let existed = dir.exists();
    if existed {
        if !is_empty(dir)? {
            if !dir.join("PG_VERSION").is_file() {
                return Err(Error::ForeignDir(dir.to_path_buf()));
            }
            refuse_if_running(config, dir)?;
            return dir.canonicalize().map_err(Error::io("resolve", dir));
        }
    } else {
        paths::mkdir_private(dir)?;
    }
    let populated = template::ensure(&config.layout, spec).and_then(|template| {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(Error::io("chmod", dir))?;
        pool::copy_contents(template.path(), dir)
    });
    if let Err(e) = populated {
        // Undo only what we made: the directory was missing or empty.
        if existed {
            empty_dir(dir);
        } else {
            let _ = paths::remove_tree(dir);
        }
        return Err(e);
    }
    dir.canonicalize().map_err(Error::io("resolve", dir))
}

/// Refuses, before anything is touched, a `-d` that cannot be a data
/// directory: a file, or a path the metadata (JSON) cannot hold.
fn check_path(dir: &Path) -> Result<()> {
    let refuse = |problem| Error::DataDirPath {
        dir: dir.to_path_buf(),
        problem,
    };
    if dir.to_str().is_none() {
        return Err(refuse(PathProblem::NotUtf8));
    }
    if fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(refuse(PathProblem::NotADirectory));
    }
    Ok(())
}

/// Says that a failure on a path in `dir` (or on a parent made for it) is
/// about the `-d` directory, whose fix differs from one in the base.
fn about(dir: &Path) -> impl Fn(Error) -> Error + '_ {
    move |e| match &e {
        Error::Io { path, .. } if path.starts_with(dir) || dir.starts_with(path) => {
            Error::DataDir {
                dir: dir.to_path_buf(),
                source: Box::new(e),
            }
        }
        _ => e,
    }
}

fn is_empty(dir: &Path) -> Result<bool> {
    Ok(fs::read_dir(dir)
        .map_err(Error::io("read", dir))?
        .next()
        .is_none())
}

fn empty_dir(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let _ = if p.is_dir() {
                paths::remove_tree(&p)
            } else {
                fs::remove_file(&p).map_err(Error::io("remove", &p))
            };
        }
    }
}

fn refuse_if_running(config: &Config, dir: &Path) -> Result<()> {
    let Some(pid) = crate::postmaster::pid(dir) else {
        return Ok(());
    };
    if process::alive(pid) {
        // `pgtmp stop -d` stops only what pgtmp started.
        let ours = dir.canonicalize().is_ok_and(|d| {
            crate::instance::registry::live(&config.layout, true)
                .iter()
                .any(|(_, m)| {
                    m.servers()
                        .any(|(_, s)| s.data_dir.canonicalize().is_ok_and(|p| p == d))
                })
        });
        return Err(Error::DataDirInUse {
            dir: dir.to_path_buf(),
            pid,
            ours,
        });
    }
    // postgres removes a stale postmaster.pid itself, but takes a killed
    // postmaster that is still a zombie for a running one and refuses.
    if process::zombie(pid) {
        let stale = dir.join("postmaster.pid");
        fs::remove_file(&stale).map_err(Error::io("remove the stale", &stale))?;
    }
    Ok(())
}

/// As root, a `-d` directory must belong to the `--run-as` account before
/// privileges are dropped: create it for that account, or hand it over
/// when it is empty. A non-empty directory is never changed.
pub fn prepare_as_root(config: &Config, dir: &Path) -> Result<()> {
    let Some(user) = &config.identity.run_as else {
        return Ok(());
    };
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(()); // privileges dropped by an earlier hand-out
    }
    check_path(dir)?;
    hand_over(dir, user).map_err(about(dir))
}

/// Works on the directory opened without following a link, so that a link
/// another user planted at the path (in /tmp, say) is never chowned
/// through; a link root made itself is followed, as root asked for it.
fn hand_over(dir: &Path, user: &nix::unistd::User) -> Result<()> {
    let (uid, gid) = (user.uid.as_raw(), user.gid.as_raw());
    let planted = fs::symlink_metadata(dir).is_ok_and(|m| m.is_symlink() && m.uid() != 0);
    if planted {
        return Err(Error::DataDirPath {
            dir: dir.to_path_buf(),
            problem: PathProblem::PlantedLink,
        });
    }
    if !dir.exists() {
        // Missing parents get the usual mode: made private (0700) and
        // root's, they would shut the `--run-as` account out of its own
        // data directory.
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
        }
        paths::mkdir_private(dir)?;
    }
    let opened = match crate::base::open_dir(dir) {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => fs::File::open(dir),
        other => other,
    }
    .map_err(Error::io("open", dir))?;
    let meta = opened.metadata().map_err(Error::io("inspect", dir))?;
    if meta.uid() == uid || !is_empty(&crate::platform::fd_path(&opened))? {
        return Ok(());
    }
    std::os::unix::fs::fchown(&opened, Some(uid), Some(gid)).map_err(Error::io("chown", dir))
}
