//! The OS identities a test can run pgtmp as: the test's own user, or (when
//! the tests run as root) an ordinary system user made once for all tests.

use std::process::Command;
use std::sync::OnceLock;

pub const ORDINARY_USER: &str = "pgtmp-test";

/// An OS account, as `id` reports it.
#[derive(Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Who runs a command: the test process's own user, an ordinary user, or a
/// stranger: another local account that only runs clients against what the
/// others started (root only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Me,
    User(&'static User),
    Stranger(&'static User),
}

/// The ordinary user `pgtmp-test`, created on first use (root only).
/// `useradd` runs at most once per test process; if another test process
/// created the user meanwhile, its exit status does not matter.
pub fn ordinary() -> &'static User {
    static USER: OnceLock<User> = OnceLock::new();
    USER.get_or_init(|| {
        if let Some(user) = lookup(ORDINARY_USER) {
            return user;
        }
        let out = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                ORDINARY_USER,
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run useradd (needed as root): {e}"));
        lookup(ORDINARY_USER).unwrap_or_else(|| {
            panic!(
                "useradd {ORDINARY_USER} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
    })
}

/// `nobody`, the stranger of the security tests.
pub fn nobody() -> &'static User {
    static USER: OnceLock<User> = OnceLock::new();
    USER.get_or_init(|| lookup("nobody").expect("a `nobody` account"))
}

/// The account pgtmp drops to when run as root: `postgres`, else `nobody`.
pub fn service_account() -> User {
    lookup("postgres")
        .or_else(|| lookup("nobody"))
        .expect("neither a `postgres` nor a `nobody` account exists")
}

pub fn lookup(name: &str) -> Option<User> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, name]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some(User {
        name: name.to_string(),
        uid: id("-u")?,
        gid: id("-g")?,
    })
}
