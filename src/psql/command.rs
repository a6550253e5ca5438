//! The meta-commands a test script may use, as psql runs them, and the
//! `\if` stack. The set is `support::IN_PROCESS`; a script with any other
//! is run by the real psql, so one reaching here (from a variable's value)
//! is refused with an error.

use super::lexer::{Input, Lexer};
use super::slash;
use super::vars::parse_bool;
use super::{Session, expand_tilde};

/// What the main loop does after a meta-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Error,
    /// `\g`, `\gset PREFIX`: send the query buffer.
    Send(Option<String>),
    /// `\q`.
    Terminate,
}

/// psql's states of an `\if` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    /// This branch runs.
    True,
    /// Not yet: a later `\elif`/`\else` may.
    False,
    /// An earlier branch ran, or the whole block is inside a skipped one.
    Ignored,
    ElseTrue,
    ElseFalse,
}

/// The `\if` blocks open in one file, with the length of the query buffer
/// when a skipped branch began (psql drops what a skipped branch added).
#[derive(Debug, Default)]
pub struct Conditions {
    stack: Vec<(Branch, usize)>,
}

impl Conditions {
    pub fn active(&self) -> bool {
        matches!(
            self.stack.last(),
            None | Some((Branch::True | Branch::ElseTrue, _))
        )
    }

    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }
}

impl Session<'_> {
    /// Runs the meta-command at the input's backslash.
    pub(super) fn command(
        &mut self,
        input: &mut Input,
        query: &mut String,
        cond: &mut Conditions,
        lexer: &mut Lexer,
    ) -> Status {
        let name = slash::name(input);
        let active = cond.active();
        let status = match name.as_str() {
            "if" | "elif" | "else" | "endif" => self.conditional(&name, input, query, cond),
            _ if !active => Status::Ok,
            "i" | "include" | "ir" | "include_relative" => self.include_command(&name, input),
            "set" => self.set(input),
            "unset" => match slash::argument(input, &self.vars, true) {
                Some(var) => {
                    let r = self.vars.unset(&var);
                    self.result(r)
                }
                None => self.missing(&name),
            },
            "echo" | "qecho" | "warn" => {
                self.echo(&name, input);
                Status::Ok
            }
            "pset" => self.pset(input),
            "t" => {
                let value = slash::argument(input, &self.vars, true);
                self.toggle("tuples_only", value.as_deref())
            }
            "f" => match slash::argument(input, &self.vars, true) {
                Some(sep) => self.pset_value("fieldsep", Some(&sep)),
                None => self.pset_value("fieldsep", None),
            },
            "timing" => {
                let value = slash::argument(input, &self.vars, true);
                match toggled(self.print.timing, value.as_deref()) {
                    Ok(on) => {
                        self.print.timing = on;
                        if !self.vars.flag("QUIET") {
                            self.out.out(if on {
                                "Timing is on.\n"
                            } else {
                                "Timing is off.\n"
                            });
                        }
                        Status::Ok
                    }
                    Err(e) => {
                        self.error(&e);
                        Status::Error
                    }
                }
            }
            "g" => Status::Send(None),
            "gset" => Status::Send(Some(
                slash::argument(input, &self.vars, true).unwrap_or_default(),
            )),
            "q" | "quit" => Status::Terminate,
            other => {
                let _ = slash::rest_of_line(input);
                self.error(&format!("invalid command \\{other}"));
                Status::Error
            }
        };
        // Arguments the command did not take.
        while let Some(extra) = slash::argument(input, &self.vars, active) {
            if active {
                self.warning(&format!("\\{name}: extra argument \"{extra}\" ignored"));
            }
        }
        slash::end(input);
        if status == Status::Send(None) || matches!(status, Status::Send(Some(_))) {
            lexer.reset();
        }
        status
    }

    fn missing(&mut self, name: &str) -> Status {
        self.error(&format!("\\{name}: missing required argument"));
        Status::Error
    }

    fn result(&mut self, r: Result<(), String>) -> Status {
        match r {
            Ok(()) => Status::Ok,
            Err(e) => {
                self.error(&e);
                Status::Error
            }
        }
    }

    fn include_command(&mut self, name: &str, input: &mut Input) -> Status {
        let Some(arg) = slash::argument(input, &self.vars, true) else {
            return self.missing(name);
        };
        let mut path = expand_tilde(&arg);
        if name.starts_with("ir") || name == "include_relative" {
            path = self.relative_to_file(&path);
        }
        if self.include(&path) == super::EXIT_SUCCESS {
            Status::Ok
        } else {
            Status::Error
        }
    }

    /// `\set NAME VALUE...`: the values joined with nothing between them.
    fn set(&mut self, input: &mut Input) -> Status {
        let Some(name) = slash::argument(input, &self.vars, true) else {
            // Listing the variables: a script has no use for it here.
            return Status::Ok;
        };
        let mut value = String::new();
        while let Some(part) = slash::argument(input, &self.vars, true) {
            value.push_str(&part);
        }
        let r = self.vars.set(&name, &value);
        self.result(r)
    }

    fn echo(&mut self, name: &str, input: &mut Input) {
        let mut words = Vec::new();
        let mut newline = true;
        while let Some(w) = slash::argument(input, &self.vars, true) {
            if words.is_empty() && newline && w == "-n" {
                newline = false;
                continue;
            }
            words.push(w);
        }
        let mut text = words.join(" ");
        if newline {
            text.push('\n');
        }
        if name == "warn" {
            self.out.err(&text);
        } else {
            self.out.out(&text);
        }
    }

    fn pset(&mut self, input: &mut Input) -> Status {
        let Some(option) = slash::argument(input, &self.vars, true) else {
            return self.missing("pset");
        };
        let value = slash::argument(input, &self.vars, true);
        self.pset_value(&option, value.as_deref())
    }

    /// The `\pset` options of unaligned output; anything else is the real
    /// psql's to do (`support` routes such scripts there).
    fn pset_value(&mut self, option: &str, value: Option<&str>) -> Status {
        let message = match option {
            "format" => match value.map(str::to_ascii_lowercase).as_deref() {
                None | Some("unaligned") | Some("u") => "Output format is unaligned.".to_string(),
                Some(other) => {
                    self.error(&format!(
                        "\\pset: format {other} is not supported in-process"
                    ));
                    return Status::Error;
                }
            },
            "tuples_only" | "t" => return self.toggle("tuples_only", value),
            "footer" => match toggled(self.print.footer, value) {
                // Given a value, psql sets it without a word.
                Ok(on) if value.is_some() => {
                    self.print.footer = on;
                    return Status::Ok;
                }
                Ok(on) => {
                    self.print.footer = on;
                    format!("Default footer is {}.", if on { "on" } else { "off" })
                }
                Err(e) => return self.result(Err(e)),
            },
            "fieldsep" => {
                if let Some(v) = value {
                    self.print.field_sep = v.to_string();
                }
                format!("Field separator is \"{}\".", self.print.field_sep)
            }
            "recordsep" => {
                if let Some(v) = value {
                    self.print.record_sep = v.to_string();
                }
                if self.print.record_sep == "\n" {
                    "Record separator is <newline>.".to_string()
                } else {
                    format!("Record separator is \"{}\".", self.print.record_sep)
                }
            }
            "null" => {
                if let Some(v) = value {
                    self.print.null = v.to_string();
                }
                format!("Null display is \"{}\".", self.print.null)
            }
            "pager" => match value.map(str::to_ascii_lowercase).as_deref() {
                Some("always") => "Pager is always used.".to_string(),
                Some(v) if parse_bool(v) == Some(true) => {
                    "Pager is used for long output.".to_string()
                }
                _ => "Pager usage is off.".to_string(),
            },
            "border" => format!("Border style is {}.", value.unwrap_or("1")),
            "title" => match value {
                Some(t) => format!("Title is \"{t}\"."),
                None => "Title is unset.".to_string(),
            },
            other => {
                self.error(&format!("\\pset: unknown option: {other}"));
                return Status::Error;
            }
        };
        if !self.vars.flag("QUIET") {
            self.out.out(&format!("{message}\n"));
        }
        Status::Ok
    }

    fn toggle(&mut self, option: &str, value: Option<&str>) -> Status {
        match toggled(self.print.tuples_only, value) {
            Ok(on) => {
                debug_assert_eq!(option, "tuples_only");
                self.print.tuples_only = on;
                // Given a value, psql sets it without a word.
                if value.is_none() && !self.vars.flag("QUIET") {
                    self.out.out(if on {
                        "Tuples only is on.\n"
                    } else {
                        "Tuples only is off.\n"
                    });
                }
                Status::Ok
            }
            Err(e) => self.result(Err(e)),
        }
    }

    fn conditional(
        &mut self,
        name: &str,
        input: &mut Input,
        query: &mut String,
        cond: &mut Conditions,
    ) -> Status {
        let top = cond.stack.last().map(|(b, _)| *b);
        match name {
            "if" => {
                let branch = if cond.active() {
                    if self.condition(input) {
                        Branch::True
                    } else {
                        Branch::False
                    }
                } else {
                    self.skip_condition(input);
                    Branch::Ignored
                };
                cond.stack.push((branch, query.len()));
            }
            "elif" => {
                let next = match top {
                    None => return self.misplaced("\\elif: no matching \\if"),
                    Some(Branch::ElseTrue | Branch::ElseFalse) => {
                        return self.misplaced("\\elif: cannot occur after \\else");
                    }
                    Some(Branch::True | Branch::Ignored) => {
                        self.skip_condition(input);
                        Branch::Ignored
                    }
                    Some(Branch::False) => {
                        if self.condition(input) {
                            Branch::True
                        } else {
                            Branch::False
                        }
                    }
                };
                self.switch_branch(cond, query, next);
            }
            "else" => {
                let next = match top {
                    None => return self.misplaced("\\else: no matching \\if"),
                    Some(Branch::ElseTrue | Branch::ElseFalse) => {
                        return self.misplaced("\\else: cannot occur after \\else");
                    }
                    Some(Branch::False) => Branch::ElseTrue,
                    Some(_) => Branch::ElseFalse,
                };
                self.switch_branch(cond, query, next);
            }
            _ => {
                if top.is_none() {
                    return self.misplaced("\\endif: no matching \\if");
                }
                self.switch_branch(cond, query, Branch::True);
                cond.stack.pop();
            }
        }
        Status::Ok
    }

    /// Leaves the current branch for `next`; text a skipped branch added to
    /// the query buffer is dropped.
    fn switch_branch(&mut self, cond: &mut Conditions, query: &mut String, next: Branch) {
        let was_active = cond.active();
        if let Some(entry) = cond.stack.last_mut() {
            if !was_active {
                query.truncate(entry.1);
            }
            *entry = (next, query.len());
        }
    }

    fn misplaced(&mut self, message: &str) -> Status {
        self.error(message);
        Status::Error
    }

    /// `\if`'s expression: its arguments joined, read as a Boolean; a bad
    /// one is an error and counts as false.
    fn condition(&mut self, input: &mut Input) -> bool {
        let mut words = Vec::new();
        while let Some(w) = slash::argument(input, &self.vars, true) {
            words.push(w);
        }
        let expr = words.join(" ");
        match parse_bool(&expr) {
            Some(b) => b,
            None => {
                self.error(&format!(
                    "unrecognized value \"{expr}\" for \"\\if expression\": Boolean expected"
                ));
                false
            }
        }
    }

    fn skip_condition(&mut self, input: &mut Input) {
        while slash::argument(input, &self.vars, false).is_some() {}
    }
}

/// A Boolean option's new value: toggled without an argument.
fn toggled(current: bool, value: Option<&str>) -> Result<bool, String> {
    match value {
        None => Ok(!current),
        Some(v) => {
            parse_bool(v).ok_or_else(|| format!("unrecognized value \"{v}\": Boolean expected"))
        }
    }
}
