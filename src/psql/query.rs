//! Sending one statement as psql's SendQuery does: `ECHO queries`, the
//! implicit `BEGIN` of `AUTOCOMMIT off`, the savepoint around it that
//! `ON_ERROR_ROLLBACK on` keeps inside a transaction, the results printed
//! unaligned as rows stream in, errors and notices on stderr, `\gset`,
//! `\timing`, and the variables psql keeps about the last query (`ERROR`,
//! `SQLSTATE`, `ROW_COUNT`, `LAST_ERROR_MESSAGE`, `LAST_ERROR_SQLSTATE`).

use std::time::Instant;

use super::message::{self, render};
use super::vars::{Echo, OnErrorRollback, ShowContext, Verbosity};
use super::{Output, Print, Session};
use crate::wire::{Handler, Report, TxStatus};

const SAVEPOINT: &str = "pg_psql_temporary_savepoint";

impl Session<'_> {
    /// Sends `query`; `gset`: store its one row in variables with this
    /// prefix instead of printing it. Returns whether it succeeded.
    pub(super) fn send(&mut self, query: &str, gset: Option<&str>) -> bool {
        if self.vars.echo() == Echo::Queries {
            self.out.out(&format!("{query}\n"));
        }
        let mut tx = self.conn.tx_status();
        if tx == TxStatus::Idle && !self.vars.autocommit() && !no_begin(query) {
            if !self.quietly("BEGIN") {
                return false;
            }
            tx = self.conn.tx_status();
        }
        let savepoint =
            tx == TxStatus::InTransaction && self.vars.on_error_rollback() == OnErrorRollback::On;
        if savepoint && !self.quietly(&format!("SAVEPOINT {SAVEPOINT}")) {
            return false;
        }
        let started = Instant::now();
        let mut printer = Printer {
            print: &self.print,
            quiet: self.vars.flag("QUIET"),
            verbosity: self.vars.verbosity(),
            context: self.vars.show_context(),
            prefix: message::prefix(&self.file, self.lineno),
            query,
            gset: gset.map(|_| Vec::new()),
            columns: Vec::new(),
            rows: 0,
            last_tag: String::new(),
            error: None,
            out: &mut *self.out,
        };
        let sent = self.conn.query(query, &mut printer);
        let (rows, last_tag, error, gset_rows, columns) = (
            printer.rows,
            printer.last_tag,
            printer.error,
            printer.gset,
            printer.columns,
        );
        if let Err(e) = sent {
            self.connection_lost(&e.0);
            return false;
        }
        if self.print.timing {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            self.out.out(&format!("Time: {ms:.3} ms\n"));
        }
        let mut ok = error.is_none();
        if !ok && self.vars.echo() == Echo::Errors {
            self.log(&format!("STATEMENT:  {query}"));
        }
        if let (Some(prefix), Some(rows), true) = (gset, gset_rows, ok) {
            ok = self.store_gset(prefix, &columns, rows);
        }
        self.remember(error.as_ref(), rows, &last_tag);
        if savepoint {
            let undo = match self.conn.tx_status() {
                TxStatus::Failed => Some(format!("ROLLBACK TO {SAVEPOINT}")),
                TxStatus::InTransaction
                    if !["COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"]
                        .contains(&last_tag.as_str()) =>
                {
                    Some(format!("RELEASE {SAVEPOINT}"))
                }
                _ => None,
            };
            if let Some(sql) = undo
                && !self.quietly(&sql)
            {
                return false;
            }
        }
        ok
    }

    /// Runs a statement of psql's own, printing only its error.
    fn quietly(&mut self, sql: &str) -> bool {
        match self.conn.execute(sql) {
            Ok(_) => true,
            Err(report) => {
                let text = render(
                    &report,
                    Some(sql),
                    self.vars.verbosity(),
                    self.vars.show_context(),
                    true,
                );
                self.log(&text);
                if report.severity() == "FATAL" && report.code().is_empty() {
                    self.lost = true;
                }
                false
            }
        }
    }

    fn connection_lost(&mut self, why: &str) {
        self.log(why);
        self.error("connection to server was lost");
        self.lost = true;
    }

    fn store_gset(
        &mut self,
        prefix: &str,
        columns: &[String],
        rows: Vec<Vec<Option<String>>>,
    ) -> bool {
        match rows.len() {
            0 => {
                self.error("no rows returned for \\gset");
                false
            }
            1 => {
                for (name, value) in columns.iter().zip(&rows[0]) {
                    let var = format!("{prefix}{name}");
                    let result = match value {
                        Some(v) => self.vars.set(&var, v),
                        None => self.vars.unset(&var),
                    };
                    if let Err(e) = result {
                        self.error(&e);
                        return false;
                    }
                }
                true
            }
            _ => {
                self.error("more than one row returned for \\gset");
                false
            }
        }
    }

    fn remember(&mut self, error: Option<&Report>, rows: u64, tag: &str) {
        match error {
            Some(e) => {
                self.vars.put("ERROR", "true");
                self.vars.put("SQLSTATE", e.code());
                self.vars.put("ROW_COUNT", "0");
                self.vars.put("LAST_ERROR_MESSAGE", e.message());
                self.vars.put("LAST_ERROR_SQLSTATE", e.code());
            }
            None => {
                self.vars.put("ERROR", "false");
                self.vars.put("SQLSTATE", "00000");
                let affected = tag
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(rows);
                self.vars.put("ROW_COUNT", affected.to_string());
            }
        }
    }
}

/// Prints results as they arrive.
struct Printer<'p> {
    print: &'p Print,
    quiet: bool,
    verbosity: Verbosity,
    context: ShowContext,
    prefix: String,
    query: &'p str,
    /// `\gset`: the rows are kept, not printed.
    gset: Option<Vec<Vec<Option<String>>>>,
    columns: Vec<String>,
    rows: u64,
    last_tag: String,
    error: Option<Report>,
    out: &'p mut dyn Output,
}

impl Handler for Printer<'_> {
    fn columns(&mut self, names: Vec<String>) {
        self.rows = 0;
        if self.gset.is_none() && !self.print.tuples_only {
            let header = names.join(&self.print.field_sep);
            self.out.out(&format!("{header}{}", self.print.record_sep));
        }
        self.columns = names;
    }

    fn row(&mut self, values: Vec<Option<String>>) {
        self.rows += 1;
        if let Some(rows) = &mut self.gset {
            rows.push(values);
            return;
        }
        if values.is_empty() && self.print.tuples_only {
            return; // `SELECT;`: psql prints nothing for a row of no columns
        }
        let mut line = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                line.push_str(&self.print.field_sep);
            }
            line.push_str(v.as_deref().unwrap_or(&self.print.null));
        }
        line.push_str(&self.print.record_sep);
        self.out.out(&line);
    }

    fn complete(&mut self, tag: &str) {
        self.last_tag = tag.to_string();
        let had_rows = !self.columns.is_empty();
        if self.gset.is_some() {
            return;
        }
        if had_rows {
            if !self.print.tuples_only && self.print.footer {
                let s = if self.rows == 1 { "" } else { "s" };
                self.out.out(&format!("({} row{s})\n", self.rows));
            }
        } else if !self.quiet {
            self.out.out(&format!("{tag}\n"));
        }
        self.columns.clear();
    }

    fn notice(&mut self, report: Report) {
        let text = render(
            &report,
            Some(self.query),
            self.verbosity,
            self.context,
            false,
        );
        self.out.err(&format!("{}{text}", self.prefix));
    }

    fn error(&mut self, report: Report) {
        let text = render(
            &report,
            Some(self.query),
            self.verbosity,
            self.context,
            true,
        );
        self.out.err(&format!("{}{text}", self.prefix));
        self.error.get_or_insert(report);
    }

    fn copy_out(&mut self, data: &[u8]) {
        self.out.out(&String::from_utf8_lossy(data));
    }

    fn copy_in(&mut self) -> Result<Vec<u8>, String> {
        Err("COPY FROM STDIN is run by psql itself".into())
    }

    fn notification(&mut self, channel: &str, payload: &str, pid: i32) {
        let text = if payload.is_empty() {
            format!(
                "Asynchronous notification \"{channel}\" received from server process with PID {pid}.\n"
            )
        } else {
            format!(
                "Asynchronous notification \"{channel}\" with payload \"{payload}\" received from server process with PID {pid}.\n"
            )
        };
        self.out.out(&text);
    }
}

/// psql's command_no_begin: statements that `AUTOCOMMIT off` must not
/// wrap in a transaction.
fn no_begin(query: &str) -> bool {
    let words: Vec<String> = strip_comments(query)
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .take(4)
        .map(str::to_ascii_lowercase)
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or_default();
    match w(0) {
        "abort" | "begin" | "start" | "commit" | "end" | "rollback" | "vacuum" | "cluster" => true,
        "prepare" => w(1) == "transaction",
        "create" => {
            matches!(w(1), "database" | "tablespace")
                || (w(1) == "index" && w(2) == "concurrently")
                || (w(1) == "unique" && w(2) == "index" && w(3) == "concurrently")
        }
        "alter" => w(1) == "system",
        "drop" => {
            matches!(w(1), "database" | "tablespace") || (w(1) == "index" && w(2) == "concurrently")
        }
        "reindex" => matches!(w(1), "database" | "system") || w(2) == "concurrently",
        "discard" => w(1) == "all",
        _ => false,
    }
}

/// The query without its leading `/* */` comments.
fn strip_comments(query: &str) -> &str {
    let mut q = query.trim_start();
    while let Some(rest) = q.strip_prefix("/*") {
        q = rest.find("*/").map_or("", |i| &rest[i + 2..]).trim_start();
    }
    q
}

#[cfg(test)]
mod tests {
    use super::no_begin;

    #[test]
    fn what_autocommit_off_leaves_alone() {
        assert!(no_begin("COMMIT;"));
        assert!(no_begin("/* c */ vacuum t;"));
        assert!(no_begin("create index concurrently i on t (a);"));
        assert!(no_begin("PREPARE TRANSACTION 'x';"));
        assert!(!no_begin("PREPARE q AS SELECT 1;"));
        assert!(!no_begin("SELECT 1;"));
        assert!(!no_begin("create table t ();"));
    }
}
