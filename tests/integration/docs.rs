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

/// The README's code for shells, Makefiles, test set-up hooks and
/// migration tools is cut from the files in examples/ that `clients.rs`
/// and `migrations.rs` run, so it must still be there word for word: the
/// README never shows code that was not run.
#[test]
fn readme_examples_are_the_tested_ones() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("read README.md");
    let section = |from: &str, to: &str| {
        let start = readme
            .find(from)
            .unwrap_or_else(|| panic!("README has no {from:?}"));
        let end = readme[start..]
            .find(to)
            .map(|i| start + i)
            .unwrap_or_else(|| panic!("README has no {to:?} after {from:?}"));
        &readme[start..end]
    };
    let checked = [
        section(
            "### In a shell script or a Makefile",
            "### Which driver takes which form",
        ),
        section("## Schemas from migration tools", "## Snapshots and reset"),
    ];
    let mut examples = Vec::new();
    read_all(&repo.join("examples"), &mut examples);
    let mut blocks = 0;
    for text in checked {
        let mut inside: Option<String> = None;
        for line in text.lines() {
            match (&mut inside, line.starts_with("```")) {
                (None, true) => inside = Some(String::new()),
                (Some(block), true) => {
                    assert!(
                        examples.iter().any(|e| e.contains(block.as_str())),
                        "this README block is in no file of examples/:\n{block}"
                    );
                    blocks += 1;
                    inside = None;
                }
                (Some(block), false) => {
                    block.push_str(line);
                    block.push('\n');
                }
                (None, false) => {}
            }
        }
    }
    assert!(
        blocks >= 14,
        "only {blocks} code blocks found in the README"
    );
}

/// The text of every file below `dir`.
fn read_all(dir: &Path, texts: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read examples/") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            read_all(&path, texts);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            texts.push(text);
        }
    }
}

/// The repository's own files, by path from its root.
fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Issue 18.15: a TCP URL holds the password, and a command's arguments
/// are public (`ps`): the README shows no URL handed to `psql` as an
/// argument in its examples, and says how to keep the password out of them.
#[test]
fn readme_keeps_passwords_out_of_arguments() {
    let readme = repo_file("README.md");
    let mut in_code = false;
    for (n, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if !in_code {
            continue;
        }
        let code = line.split('#').next().unwrap_or(line);
        let url_arg = ["\"$url\"", "\"$DATABASE_URL\"", "$url ", "\"$(pgtmp"]
            .iter()
            .any(|arg| code.contains(&format!("psql {arg}")));
        assert!(
            !url_arg,
            "README.md:{}: a URL as psql's argument shows a TCP password in `ps`: {line}",
            n + 1
        );
    }
    let section = readme
        .split("\n#")
        .find(|s| s.contains("`ps`") && s.contains("PGPASSWORD"))
        .unwrap_or_else(|| panic!("no README section says how to keep passwords out of `ps`"));
    for needle in ["-F env", "pgtmp exec", "DATABASE_URL"] {
        assert!(
            section.contains(needle),
            "the README's section on passwords in `ps` lacks {needle:?}:\n{section}"
        );
    }
}

/// Issue 18.15: `make run` installs only what running pgtmp needs (the
/// server), not the test clients (Go, Java, Ruby, Node, Python); `make
/// test` and CI still install everything.
#[test]
fn make_run_installs_only_what_running_needs() {
    let t = TestRoot::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let make = t.cmd("make", ["-n", "-C", root, "run"]).run();
    make.assert_success();
    assert!(
        make.stdout.contains(".ci/install-deps --run"),
        "`make run` must install with `--run`\n{make}"
    );
    let plan = |args: &[&str]| {
        let out = t.cmd(format!("{root}/.ci/install-deps"), args).run();
        out.assert_success();
        out.stdout
    };
    let run = plan(&["--run", "--plan"]);
    let all = plan(&["--plan"]);
    assert!(run.contains("PostgreSQL"), "{run}");
    for client in ["JDK", "Node.js", "Go", "ruby-pg", "Python", "pgTAP"] {
        assert!(!run.contains(client), "`--run` installs {client}:\n{run}");
        assert!(all.contains(client), "the default lacks {client}:\n{all}");
    }
    let test = t.cmd("make", ["-n", "-C", root, "test"]).run();
    test.assert_success();
    assert!(
        test.stdout
            .lines()
            .any(|l| l.trim_end().ends_with(".ci/install-deps")),
        "`make test` must install everything\n{test}"
    );
    assert!(repo_file(".ci/run").contains(".ci/install-deps\n"));
}
