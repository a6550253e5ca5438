//! What the tests know about pgtmp's contract: starting an instance, reading
//! `list --json`, and the layout under the base directory (`run/`, `pool/`,
//! `templates/`, the logs worth showing when something goes wrong).

use std::fs;
use std::path::{Path, PathBuf};

use pgtmp::json::ListEntry;
use serde_json::Value;

use super::command::Output;
use super::root::TestRoot;
use super::user::Who;
use super::{poll, procs};

/// A successful `pgtmp [start]`: the URL it printed and everything it said.
#[derive(Debug)]
pub struct Handout {
    pub url: String,
    pub out: Output,
}

/// One entry of `pgtmp list --json`, every field the contract names
/// (`pgtmp::json::ListEntry`), with the ones a running instance always has
/// checked to be there.
#[derive(Debug)]
pub struct Instance {
    pub raw: Value,
    pub url: String,
    pub pid: u32,
    pub supervisor_pid: u32,
    pub port: u16,
    pub tcp: bool,
    pub started: u64,
    pub age_secs: u64,
    pub idle_secs: Option<u64>,
    pub clients: u64,
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    pub keep: bool,
    pub timeout_secs: u64,
    /// Its servers, the primary first.
    pub nodes: Vec<pgtmp::json::Node>,
}

impl Instance {
    pub fn from_json(raw: &Value) -> Instance {
        // Every field is there, even those that may be null.
        let fields = serde_json::to_value(ListEntry::default()).expect("serializes");
        for key in fields.as_object().expect("an object").keys() {
            assert!(
                raw.get(key).is_some(),
                "`list --json` entry lacks `{key}`: {raw}"
            );
        }
        let e: ListEntry = serde_json::from_value(raw.clone())
            .unwrap_or_else(|e| panic!("`list --json` entry is not a ListEntry: {e}: {raw}"));
        let bad = |key: &str, want: &str| -> ! {
            panic!("`list --json` field `{key}` is not {want}: {raw}")
        };
        Instance {
            url: e.url,
            pid: e.pid.unwrap_or_else(|| bad("pid", "a pid")),
            supervisor_pid: e
                .supervisor_pid
                .unwrap_or_else(|| bad("supervisor_pid", "a pid")),
            port: e.port,
            tcp: e.tcp,
            started: e.started,
            age_secs: e.age_secs,
            idle_secs: e.idle_secs,
            clients: u64::try_from(e.clients).unwrap_or_else(|_| bad("clients", "a count")),
            dir: e.dir,
            data_dir: e.data_dir,
            keep: e.keep,
            timeout_secs: e.timeout_secs,
            nodes: e.nodes,
            raw: raw.clone(),
        }
    }
}

impl TestRoot {
    /// `pgtmp ARGS` must succeed and print exactly one line: the URL.
    pub fn start(&self, args: &[&str]) -> Handout {
        self.start_as(Who::Me, args)
    }

    pub fn start_as(&self, who: Who, args: &[&str]) -> Handout {
        let out = self.pgtmp(args).who(who).run();
        out.assert_success();
        let url = out.one_line().to_string();
        Handout { url, out }
    }

    /// `pgtmp ARGS` (with `--replicas`) must succeed and print one URL per
    /// server, the primary's first: newlines between them, none after the
    /// last (stdout is no terminal here, as in `url=$(pgtmp)`).
    pub fn start_set(&self, args: &[&str]) -> Vec<String> {
        set_urls(&self.pgtmp(args).run())
    }

    /// `pgtmp list --json`, parsed.
    pub fn list(&self) -> Vec<Instance> {
        self.list_as(Who::Me)
    }

    pub fn list_as(&self, who: Who) -> Vec<Instance> {
        instances(&self.pgtmp(["list", "--json"]).who(who).run())
    }

    /// The listed instance with this URL; panics if it is not listed.
    pub fn instance(&self, url: &str) -> Instance {
        self.instance_as(Who::Me, url)
    }

    pub fn instance_as(&self, who: Who, url: &str) -> Instance {
        let mut all = self.list_as(who);
        let urls: Vec<String> = all.iter().map(|i| i.url.clone()).collect();
        let at = all.iter().position(|i| i.url == url);
        let at = at
            .unwrap_or_else(|| panic!("{url} is not in `list --json`: {urls:?}\n{}", self.logs()));
        all.swap_remove(at)
    }

    /// Whether `list --json` shows this URL.
    pub fn listed(&self, url: &str) -> bool {
        self.list().iter().any(|i| i.url == url)
    }

    /// `pgtmp stop URL` must succeed.
    pub fn stop(&self, url: &str) -> Output {
        let out = self.pgtmp(["stop", url]).run();
        out.assert_success();
        out
    }

    /// Names in `base/run` (none if it does not exist), but for spares
    /// nobody claimed: those are the tool's, not the caller's (see
    /// `spares` and `all_run_entries`).
    pub fn run_entries(&self) -> Vec<String> {
        self.run_entries_of(Who::Me)
    }

    pub fn run_entries_of(&self, who: Who) -> Vec<String> {
        let run = self.base_of(who).join("run");
        names(&run)
            .into_iter()
            .filter(|n| !is_spare(&run.join(n)))
            .collect()
    }

    /// Every name in `base/run`, spares included.
    pub fn all_run_entries(&self) -> Vec<String> {
        names(&self.base().join("run"))
    }

    /// Instance directories of unclaimed spares, by their `meta.json`.
    pub fn spares(&self) -> Vec<String> {
        self.spares_of(Who::Me)
    }

    pub fn spares_of(&self, who: Who) -> Vec<String> {
        let run = self.base_of(who).join("run");
        names(&run)
            .into_iter()
            .filter(|n| is_spare(&run.join(n)))
            .collect()
    }

    /// Entry directories of every pool key: `base/pool/<key>/<entry>/`.
    pub fn pool_entries(&self) -> Vec<PathBuf> {
        dirs(&self.base().join("pool"))
            .iter()
            .flat_map(|key| dirs(key))
            .collect()
    }

    /// Directories under `base/templates`.
    pub fn templates(&self) -> Vec<PathBuf> {
        dirs(&self.base().join("templates"))
    }

    /// Whether a `pgtmp __refill` of this root is still running.
    pub fn refilling(&self) -> bool {
        procs::touching(self.path())
            .into_iter()
            .any(|pid| procs::cmdline(pid).contains("__refill"))
    }

    /// The tails of every log under the base directories, for failure messages.
    pub fn logs(&self) -> String {
        let mut logs = Vec::new();
        for base in [self.base(), self.join("user/base")] {
            collect_logs(&base, 4, &mut logs);
        }
        let mut text = String::from("--- logs under the base directory ---\n");
        for path in logs {
            let content = fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = content.lines().collect();
            let tail = &lines[lines.len().saturating_sub(30)..];
            text += &format!("==> {} <==\n{}\n", path.display(), tail.join("\n"));
        }
        text
    }
}

/// Template directories under `base/templates` whose key starts with
/// `prefix` (`f` for fixtures, `s` for setups), and the debris of builds
/// (`.tmp-...`).
pub fn templates_of_kind(base: &Path, prefix: char) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(base.join("templates")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(prefix) || name.starts_with(".tmp-")
        })
        .collect();
    found.sort();
    found
}

impl TestRoot {
    /// After the pgtmp building a template was killed: no process (`what`,
    /// the server it built on) is left working among the templates.
    pub fn assert_no_builder_left(&self, what: &str) {
        let templates = self.base().join("templates");
        assert!(
            poll::eventually(|| procs::touching(&templates).is_empty()),
            "{what} survives its pgtmp: {:?}",
            procs::touching(&templates)
                .into_iter()
                .map(procs::cmdline)
                .collect::<Vec<_>>()
        );
    }

    /// After a build of a template of kind `prefix` was killed: nothing of
    /// it was published, only debris, which `gc` removes.
    pub fn assert_only_debris_then_gc(&self, prefix: char, what: &str) {
        let debris = templates_of_kind(&self.base(), prefix);
        assert!(
            debris.iter().all(|p| p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .starts_with(".tmp-")),
            "a killed {what} was published: {debris:?}"
        );
        self.pgtmp(["gc"]).run().assert_success();
        assert_eq!(
            templates_of_kind(&self.base(), prefix),
            Vec::<PathBuf>::new(),
            "gc left the debris of a killed {what}"
        );
    }
}

/// The instances a successful `pgtmp list --json` printed.
/// What a successful `pgtmp --replicas N` printed: one URL per server,
/// the primary's first, newlines between them and none after the last.
pub fn set_urls(out: &Output) -> Vec<String> {
    out.assert_success();
    let urls: Vec<String> = out.stdout.split('\n').map(str::to_string).collect();
    assert!(
        urls.len() > 1 && urls.iter().all(|u| u.starts_with("postgresql://")),
        "expected one URL per line, no newline after the last\n{out}"
    );
    urls
}

pub fn instances(out: &Output) -> Vec<Instance> {
    out.assert_success();
    let json: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("`list --json` is not JSON: {e}\n{out}"));
    let entries = json
        .as_array()
        .unwrap_or_else(|| panic!("`list --json` is not an array\n{out}"));
    entries.iter().map(Instance::from_json).collect()
}

fn collect_logs(dir: &Path, depth: u32, logs: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| Some(e.ok()?.path())) {
        if path.is_dir() {
            // Data directories are large and hold no pgtmp log.
            if depth > 0 && !path.join("PG_VERSION").exists() {
                collect_logs(&path, depth - 1, logs);
            }
        } else if path.extension().is_some_and(|e| e == "log") {
            logs.push(path);
        }
    }
}

/// Whether `dir/meta.json` says it is a spare nobody has claimed.
fn is_spare(dir: &Path) -> bool {
    fs::read_to_string(dir.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|m| !m["spare"].is_null())
}

fn names(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .collect()
}

fn dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.is_dir())
        .collect()
}
