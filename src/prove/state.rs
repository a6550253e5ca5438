//! `--state`: what App::Prove remembers between runs, here in
//! `./.pgtmp-prove` (JSON): per test file its last result, time, TODO
//! count, failures and passes, and the order it last ran in. The switches
//! select and order files from it (`failed`, `passed`, `last`, `all`,
//! `hot`, `todo`, `slow`, `fast`, `new`, `old`, `fresh`, each with an
//! optional `:N` limit) and `save` writes it back after the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ProveProblem, Result};

/// The file, in the working directory.
pub const FILE: &str = ".pgtmp-prove";

/// What is kept per test file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Test {
    /// Its position in the run that last ran it.
    pub sequence: u64,
    pub generation: u64,
    /// When it last finished (seconds since the epoch).
    pub run_time: f64,
    /// Failed tests, plus one when the file had any problem; 0: passed.
    pub result: u64,
    pub num_todo: u64,
    /// How long it took, in seconds.
    pub elapsed: f64,
    pub total_failures: u64,
    pub total_passes: u64,
    pub last_fail_time: Option<f64>,
    pub last_pass_time: Option<f64>,
    /// The file's modification time when the state was loaded.
    #[serde(default)]
    pub mtime: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    generation: u64,
    last_run_time: Option<f64>,
    tests: BTreeMap<String, Test>,
}

/// The state of one run: loaded, selected from, observed, saved.
#[derive(Debug)]
pub struct State {
    path: PathBuf,
    stored: Stored,
    /// The selections asked for, in order: (switch, limit).
    select: Vec<(String, Option<usize>)>,
    save: bool,
    next_sequence: u64,
    /// Whether a state file was there to select from.
    loaded: bool,
}

const SWITCHES: &[&str] = &[
    "last", "failed", "passed", "all", "todo", "hot", "slow", "fast", "new", "old", "fresh", "save",
];

impl State {
    /// Loads `path` (if there) and reads the switches; an unknown switch is
    /// a usage error, as App::Prove's.
    pub fn open(path: &Path, switches: &[String]) -> Result<State> {
        let mut select = Vec::new();
        let mut save = false;
        let mut queue: Vec<String> = switches
            .iter()
            .flat_map(|s| s.split(','))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        queue.reverse();
        while let Some(switch) = queue.pop() {
            let (name, limit) = match switch.split_once(':') {
                Some((n, l)) => (n.to_string(), Some(l)),
                None => (switch.clone(), None),
            };
            if name == "adrian" {
                for s in ["save", "all", "hot"] {
                    queue.push(s.to_string());
                }
                continue;
            }
            if !SWITCHES.contains(&name.as_str()) {
                return Err(Error::Prove(ProveProblem::StateOption(name)));
            }
            let limit = match limit {
                None => None,
                Some(l) => Some(
                    l.parse()
                        .map_err(|_| Error::Prove(ProveProblem::StateLimit(switch.clone())))?,
                ),
            };
            if name == "save" {
                save = true;
            } else {
                select.push((name, limit));
            }
        }
        let (stored, loaded) = match std::fs::read_to_string(path) {
            Ok(text) => {
                let stored: Stored = serde_json::from_str(&text).map_err(|e| {
                    Error::Prove(ProveProblem::StateFile {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })
                })?;
                (stored, true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Stored::default(), false),
            Err(e) => return Err(Error::io("read", path)(e)),
        };
        let mut state = State {
            path: path.to_path_buf(),
            stored,
            select,
            save,
            next_sequence: 1,
            loaded,
        };
        state.prune_and_stamp();
        Ok(state)
    }

    /// Files gone since are forgotten; the others get their current mtime.
    fn prune_and_stamp(&mut self) {
        self.stored
            .tests
            .retain(|name, _| Path::new(name).is_file());
        for (name, test) in &mut self.stored.tests {
            test.mtime = std::fs::metadata(name)
                .and_then(|m| m.modified())
                .ok()
                .map(seconds);
        }
        self.next_sequence = self
            .stored
            .tests
            .values()
            .map(|t| t.sequence)
            .max()
            .unwrap_or(0)
            + 1;
        if self.loaded {
            self.stored.generation += 1;
        } else {
            self.stored.generation = 1;
        }
    }

    pub fn selects(&self) -> bool {
        !self.select.is_empty()
    }

    /// The selected files, in the order the switches give, each once
    /// (none when there was no state file to select from).
    pub fn selected(&self) -> Vec<String> {
        if !self.loaded {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        let now = seconds(SystemTime::now());
        let last_gen = self.stored.generation.saturating_sub(1);
        let last_run = self.stored.last_run_time.unwrap_or(0.0);
        for (switch, limit) in &self.select {
            let tests = &self.stored.tests;
            let mut got: Vec<(&String, Option<f64>)> = tests
                .iter()
                .filter(|(_, t)| match switch.as_str() {
                    "last" => t.generation >= last_gen,
                    "failed" => t.result != 0,
                    "passed" => t.result == 0,
                    "todo" => t.num_todo != 0,
                    "hot" => t.last_fail_time.is_some(),
                    "fresh" => t.mtime.unwrap_or(0.0) >= last_run,
                    _ => true,
                })
                .map(|(name, t)| {
                    let key = match switch.as_str() {
                        "last" => Some(t.sequence as f64),
                        "failed" => Some(-(t.result as f64)),
                        "todo" => Some(-(t.num_todo as f64)),
                        "hot" => t.last_fail_time.map(|f| now - f),
                        "slow" => Some(-t.elapsed),
                        "fast" => Some(t.elapsed),
                        "new" => t.mtime.map(|m| -m),
                        "old" => t.mtime,
                        _ => None,
                    };
                    (name, key)
                })
                .collect();
            // Defined keys first, then ascending; ties by name.
            got.sort_by(|a, b| {
                b.1.is_some()
                    .cmp(&a.1.is_some())
                    .then(a.1.unwrap_or(0.0).total_cmp(&b.1.unwrap_or(0.0)))
                    .then(a.0.cmp(b.0))
            });
            if let Some(limit) = limit {
                got.truncate(*limit);
            }
            out.extend(got.into_iter().map(|(n, _)| n.clone()));
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|n| seen.insert(n.clone()));
        out
    }

    /// Whether a selection was asked for but there is nothing saved.
    pub fn nothing_saved(&self) -> bool {
        self.selects() && (!self.loaded || self.stored.tests.is_empty())
    }

    /// Records one finished file.
    pub fn observe(&mut self, name: &str, failed: u64, problems: bool, todo: u64, elapsed: f64) {
        let now = seconds(SystemTime::now());
        let generation = self.stored.generation;
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let test = self.stored.tests.entry(name.to_string()).or_default();
        let result = failed + u64::from(problems);
        test.sequence = sequence;
        test.generation = generation;
        test.run_time = now;
        test.result = result;
        test.num_todo = todo;
        test.elapsed = elapsed;
        if result != 0 {
            test.total_failures += 1;
            test.last_fail_time = Some(now);
        } else {
            test.total_passes += 1;
            test.last_pass_time = Some(now);
        }
    }

    /// Writes the state if `save` was asked for (atomically).
    pub fn commit(&mut self) -> Result<()> {
        if !self.save {
            return Ok(());
        }
        self.stored.last_run_time = Some(seconds(SystemTime::now()));
        let text = serde_json::to_string_pretty(&self.stored).expect("state serializes");
        let tmp = self
            .path
            .with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&tmp, text + "\n").map_err(Error::io("write", &tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(Error::io("write", &self.path))
    }
}

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_select() {
        let dir = std::env::temp_dir().join(format!("pgtmp-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = |n: &str| {
            let p = dir.join(n);
            std::fs::write(&p, "").unwrap();
            p.to_string_lossy().into_owned()
        };
        let (a, b, c) = (file("a.sql"), file("b.sql"), file("c.sql"));
        let path = dir.join(FILE);
        let mut s = State::open(&path, &["save".into()]).unwrap();
        assert!(s.selected().is_empty());
        s.observe(&c, 0, false, 0, 0.3);
        s.observe(&a, 2, true, 1, 0.1);
        s.observe(&b, 0, false, 0, 0.2);
        s.commit().unwrap();
        let s = State::open(&path, &["last".into()]).unwrap();
        assert_eq!(s.selected(), vec![c.clone(), a.clone(), b.clone()]);
        let s = State::open(&path, &["failed".into()]).unwrap();
        assert_eq!(s.selected(), vec![a.clone()]);
        let s = State::open(&path, &["passed,slow".into()]).unwrap();
        assert_eq!(s.selected(), vec![b.clone(), c.clone(), a.clone()]);
        let s = State::open(&path, &["slow:1".into()]).unwrap();
        assert_eq!(s.selected(), vec![c.clone()]);
        assert!(State::open(&path, &["bogus".into()]).is_err());
        // The hint names every switch.
        for switch in SWITCHES {
            assert!(crate::error::STATE_SWITCHES.contains(switch), "{switch}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
