//! The locale of the template's databases, which every copy inherits.
//!
//! The default is C.UTF-8: Unicode case mapping and character classes
//! (`upper('é')` is `É`, `'é' ~ '\w'`), as on a stock server initialised
//! under a UTF-8 locale, yet sorting by code point, the same on every
//! machine. From PostgreSQL 17 it is the builtin provider's `C.UTF-8`,
//! which PostgreSQL implements itself; before 17, glibc's `C.UTF-8`, which
//! Debian, Ubuntu, Fedora and Alpine install with the C library. Where it
//! is missing (before 17), the template falls back to `C` and says so.
//! `--locale C` asks for plain bytes; any other name goes to initdb as it
//! is. The caller's `LANG`/`LC_*` never matter: initdb is always told.
//! <https://www.postgresql.org/docs/current/locale.html>

use std::ffi::CString;

use crate::pg::Features;

/// The default locale's name.
pub const UNICODE: &str = "C.UTF-8";

/// The locale a template is made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locale {
    /// C.UTF-8; `installed`: the C library has it (needed before 17).
    Unicode { installed: bool },
    /// `--locale NAME`: given to initdb as it is (`C`: bytes).
    Named(String),
}

impl Locale {
    /// The locale `--locale`/`PGTMP_LOCALE` asks for; None: the default.
    pub fn resolve(requested: Option<&str>) -> Locale {
        match requested {
            Some(name) if !is_unicode(name) => Locale::Named(name.to_string()),
            _ => Locale::Unicode {
                installed: installed(UNICODE),
            },
        }
    }

    /// What the template key says about it.
    pub fn key_text(&self) -> String {
        match self {
            Locale::Unicode { installed } => format!("unicode:{installed}"),
            Locale::Named(name) => format!("named:{name}"),
        }
    }

    /// initdb's locale options for a PostgreSQL with `features`, and
    /// whether the default had to fall back to `C`.
    pub fn initdb_args(&self, features: Features) -> (Vec<String>, bool) {
        let arg = |s: &str| s.to_string();
        match self {
            Locale::Named(name) => (vec![format!("--locale={name}")], false),
            Locale::Unicode { installed } => {
                // The C library's categories (messages, numbers, and what
                // the builtin provider leaves to it) in C.UTF-8 where it
                // exists, else C, which exists everywhere.
                let libc = if *installed { UNICODE } else { "C" };
                if features.builtin_locale() {
                    let args = vec![
                        arg("--locale-provider=builtin"),
                        format!("--builtin-locale={UNICODE}"),
                        format!("--locale={libc}"),
                    ];
                    (args, false)
                } else {
                    (vec![format!("--locale={libc}")], !installed)
                }
            }
        }
    }
}

/// `C.UTF-8` as it may be spelled (`C.utf8`, `c.UTF-8`).
fn is_unicode(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "c.utf-8" || lower == "c.utf8"
}

/// Whether the C library can load the locale `name`.
fn installed(name: &str) -> bool {
    let Ok(name) = CString::new(name) else {
        return false;
    };
    // SAFETY: a NUL-terminated name; a null base asks for a new object.
    let loc = unsafe { libc::newlocale(libc::LC_ALL_MASK, name.as_ptr(), std::ptr::null_mut()) };
    if loc.is_null() {
        return false;
    }
    // SAFETY: a locale object newlocale returned, freed once.
    unsafe { libc::freelocale(loc) };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_unicode_by_whatever_name() {
        for name in [None, Some("C.UTF-8"), Some("C.utf8"), Some("c.UTF-8")] {
            assert!(matches!(Locale::resolve(name), Locale::Unicode { .. }));
        }
        assert_eq!(Locale::resolve(Some("C")), Locale::Named("C".into()));
        assert!(installed("C"));
        assert!(!installed("xx_NOWHERE.UTF-8"));
    }

    #[test]
    fn builtin_from_17_glibc_before() {
        let with = Locale::Unicode { installed: true };
        let without = Locale::Unicode { installed: false };
        assert_eq!(
            with.initdb_args(Features::of_major(15)),
            (vec!["--locale=C.UTF-8".into()], false)
        );
        assert_eq!(
            without.initdb_args(Features::of_major(13)),
            (vec!["--locale=C".into()], true)
        );
        let (args, fell_back) = without.initdb_args(Features::of_major(17));
        assert!(!fell_back);
        assert!(args.contains(&"--locale-provider=builtin".to_string()));
        assert!(args.contains(&"--builtin-locale=C.UTF-8".to_string()));
        assert_eq!(
            Locale::Named("C".into()).initdb_args(Features::of_major(18)),
            (vec!["--locale=C".into()], false)
        );
        assert_ne!(with.key_text(), without.key_text());
        assert_ne!(with.key_text(), Locale::Named("C".into()).key_text());
    }
}
