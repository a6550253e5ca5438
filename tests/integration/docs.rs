//! What pgtmp says about itself: `--help`, `--version`, the man page, shell
//! completions, and whether the committed copies of the generated files
//! (`man/`, `completions/`) still match what the binary generates.

use std::path::Path;

use crate::support::TestRoot;

/// The committed generated files and the arguments that produce each.
const GENERATED: &[(&str, &[&str])] = &[
    ("man/pgtmp.1", &["man"]),
    ("completions/pgtmp.bash", &["completions", "bash"]),
    ("completions/_pgtmp", &["completions", "zsh"]),
    ("completions/pgtmp.fish", &["completions", "fish"]),
];

#[test]
fn help_shows_examples() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--help"]).run();
    out.assert_success();
    assert!(out.stdout.contains("Examples"), "{out}");
    assert!(out.stdout.contains("Usage"), "{out}");
}

#[test]
fn version_names_the_crate_version() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--version"]).run();
    out.assert_success();
    assert_eq!(
        out.stdout.trim(),
        format!("pgtmp {}", env!("CARGO_PKG_VERSION")),
        "{out}"
    );
}

#[test]
fn man_page_is_roff() {
    let t = TestRoot::new();
    let out = t.pgtmp(["man"]).run();
    out.assert_success();
    assert!(
        out.stdout.lines().any(|l| l.starts_with(".TH")),
        "no `.TH` line\n{out}"
    );
    assert!(out.stdout.contains("pgtmp"), "{out}");
}

#[test]
fn completions_for_every_shell() {
    let t = TestRoot::new();
    let expect: &[(&str, &str)] = &[
        ("bash", "complete -F"),
        ("zsh", "#compdef pgtmp"),
        ("fish", "complete -c pgtmp"),
        ("elvish", "pgtmp"),
        ("powershell", "pgtmp"),
    ];
    for (shell, marker) in expect {
        let out = t.pgtmp(["completions", shell]).run();
        out.assert_success();
        assert!(
            out.stdout.contains(marker),
            "{shell} completions lack {marker:?}\n{out}"
        );
    }
}

#[test]
fn committed_generated_files_are_current() {
    let t = TestRoot::new();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for (file, args) in GENERATED {
        let out = t.pgtmp(*args).run();
        out.assert_success();
        match std::fs::read_to_string(repo.join(file)) {
            Err(e) => problems.push(format!("{file}: cannot read ({e})")),
            Ok(committed) if committed != out.stdout => {
                problems.push(format!("{file}: differs from `pgtmp {}`", args.join(" ")))
            }
            Ok(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "generated files are missing or stale; run `make generate`:\n{}",
        problems.join("\n")
    );
}
