//! Whether a script can run in-process, decided before it runs: every
//! meta-command in it, and in the files it includes with `\i`/`\ir`, must
//! be one this module runs as psql does, with output unaligned, and no
//! statement may read `COPY ... FROM STDIN` data from the script. Skipped
//! `\if` branches count too: the check reads, it does not run. Anything
//! else is the real psql's to run.

use std::path::Path;

use super::lexer::{Input, Lexer, Stop};
use super::slash;
use super::vars::Vars;

/// The meta-commands run in-process.
pub const IN_PROCESS: &[&str] = &[
    "i",
    "include",
    "ir",
    "include_relative",
    "set",
    "unset",
    "echo",
    "qecho",
    "warn",
    "pset",
    "t",
    "f",
    "timing",
    "g",
    "gset",
    "q",
    "quit",
    "if",
    "elif",
    "else",
    "endif",
];

/// The `\pset` options of unaligned output.
const PSET_OPTIONS: &[&str] = &[
    "format",
    "tuples_only",
    "t",
    "footer",
    "fieldsep",
    "recordsep",
    "null",
    "pager",
    "border",
    "title",
];

/// How deep the check follows `\i`.
const MAX_DEPTH: usize = 16;

/// `Ok` when `path` can run in-process; else what needs the real psql
/// (`\copy`, `COPY FROM STDIN`, ...).
pub fn check(path: &Path) -> Result<(), String> {
    check_file(path, 0)
}

fn check_file(path: &Path, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("\\i nested too deep".into());
    }
    // A file that cannot be read fails the same way in-process.
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&bytes);
    let none = Vars::default();
    let mut lexer = Lexer::default();
    let mut query = String::new();
    for line in text.lines() {
        if line.is_empty() && !lexer.in_quote() {
            continue;
        }
        if !query.is_empty() {
            query.push('\n');
        }
        let mut input = Input::new(line);
        loop {
            let mut warnings = Vec::new();
            match lexer.scan(&mut input, &mut query, &none, &mut warnings) {
                Stop::Semicolon => statement(&std::mem::take(&mut query))?,
                Stop::Backslash => command(&mut input, path, depth)?,
                Stop::EndOfLine => break,
            }
        }
    }
    statement(&query)
}

fn statement(sql: &str) -> Result<(), String> {
    let lower = sql.trim_start().to_ascii_lowercase();
    if lower.starts_with("copy") && lower.contains("stdin") {
        return Err("COPY FROM STDIN".into());
    }
    Ok(())
}

fn command(input: &mut Input, file: &Path, depth: usize) -> Result<(), String> {
    let none = Vars::default();
    let name = slash::name(input);
    if !IN_PROCESS.contains(&name.as_str()) {
        return Err(format!("\\{name}"));
    }
    let mut args = Vec::new();
    while let Some(arg) = slash::argument(input, &none, false) {
        args.push(arg);
    }
    slash::end(input);
    let dynamic = |a: &String| a.contains(':') || a.contains('`');
    match name.as_str() {
        "i" | "include" | "ir" | "include_relative" => {
            let Some(target) = args.first() else {
                return Ok(());
            };
            if dynamic(target) || target.starts_with('~') {
                return Err(format!("\\{name} {target}"));
            }
            let target = Path::new(target);
            let resolved = if name.starts_with("ir") || name == "include_relative" {
                file.parent().unwrap_or(Path::new("")).join(target)
            } else {
                target.to_path_buf()
            };
            check_file(&resolved, depth + 1)
        }
        "pset" => {
            let option = args.first().map(String::as_str).unwrap_or_default();
            let value = args.get(1).map(|v| v.to_ascii_lowercase());
            let aligned =
                option == "format" && !matches!(value.as_deref(), None | Some("unaligned" | "u"));
            if !PSET_OPTIONS.contains(&option) || aligned || args.iter().any(dynamic) {
                return Err(format!("\\pset {}", args.join(" ")));
            }
            Ok(())
        }
        "g" if !args.is_empty() => Err("\\g with an argument".into()),
        "set" if args.is_empty() => Err("\\set listing the variables".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("pgtmp-support-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn what_stays_in_process() {
        let setup = script(
            "setup.sql",
            "\\set QUIET 1\n\\pset format unaligned\n\\pset tuples_only true\n",
        );
        assert_eq!(check(&setup), Ok(()));
        let main = script(
            "main.sql",
            "\\ir setup.sql\nBEGIN;\nSELECT plan(1);\n\\if :{?x}\n\\echo x\n\\endif\n",
        );
        assert_eq!(check(&main), Ok(()));
        let copy = script("copy.sql", "COPY t FROM stdin;\n1\n\\.\n");
        assert!(check(&copy).is_err());
        let bad_inc = script("inc.sql", "\\ir copy.sql\n");
        assert!(check(&bad_inc).is_err());
        let aligned = script("aligned.sql", "\\pset format aligned\n");
        assert!(check(&aligned).is_err());
        let connect = script("connect.sql", "SELECT 1; \\c other\n");
        assert_eq!(check(&connect), Err("\\c".to_string()));
        let dynamic = script("dyn.sql", "\\i :setup\n");
        assert!(check(&dynamic).is_err());
        let quoted = script("quoted.sql", "SELECT '\\c', $$ \\copy $$;\n");
        assert_eq!(check(&quoted), Ok(()));
    }
}
