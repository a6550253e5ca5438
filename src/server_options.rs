//! `-o OPTS`: server options read the way `postgres` reads its own argv,
//! so that what pgtmp checks is what the server will do.
//!
//! The postmaster parses its arguments with getopt(3) and an option string
//! (`PostmasterMain` in PostgreSQL's `src/backend/postmaster/postmaster.c`):
//! short options group (`-Fi` is `-F -i`), an option that takes a value
//! takes the rest of its word or the next word (`-k/tmp`, `-Fk/tmp`,
//! `-k /tmp`), and `--name=value` is `-c name=value`. Splitting on words
//! alone let `-o '-Fi'` listen on every address and `-o '-Fk/tmp/dir'` put
//! a trust socket in a world-writable directory. Here every word goes
//! through the same getopt walk; what comes out is passed to `postgres` in
//! a canonical form (one option per word), never the user's spelling.
//!
//! Refused: what would expose the server beyond loopback (`-i`,
//! `listen_addresses` other than `127.0.0.1`, `localhost`, `::1`), move or
//! open its socket (`-k`, `unix_socket_*`), or replace what pgtmp decides
//! (`-D`, `data_directory`, `config_file`, `hba_file`, `ident_file`).
//! Taken out and honoured by pgtmp itself: the port (`-p N`, `port=N`: as
//! pgtmp's `-p N`) and loopback listen addresses (which need `-t`).

/// Every option letter the postmaster of PostgreSQL 13 to 18 knows, `:`
/// after those that take a value: the union of their option strings
/// (13 has `o:`, 13 to 15 have `n`), so that grouping is read right for
/// any of them. A letter an older or newer server lacks makes it refuse
/// to start, which it reports itself.
const OPTSTRING: &str = "B:bC:c:D:d:EeFf:h:ijk:lN:nOo:Pp:r:S:sTt:W:-:";

/// The listen addresses that stay on this machine.
const LOOPBACK: &[&str] = &["127.0.0.1", "localhost", "::1"];

/// What `-o` asks for, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// For `postgres`, after pgtmp's own options: one option per word
    /// (`-c name=value`, `-F`, `-B 32MB`), in the order given.
    pub args: Vec<String>,
    /// `-p N` or `port=N`: the last one given.
    pub port: Option<u16>,
    /// `-h` or `listen_addresses`, the last one given: loopback addresses
    /// only, comma-separated, possibly empty.
    pub listen: Option<String>,
}

impl ServerOptions {
    /// Reads each `-o` value in turn; later settings win over earlier ones.
    pub fn parse_all<S: AsRef<str>>(values: &[S]) -> Result<ServerOptions, String> {
        let mut all = ServerOptions::default();
        for value in values {
            let one = parse(value.as_ref())?;
            all.args.extend(one.args);
            all.port = one.port.or(all.port);
            all.listen = one.listen.or(all.listen);
        }
        Ok(all)
    }

    /// The listen addresses to give a TCP server: the loopback ones asked
    /// for, with 127.0.0.1 always among them, since the URL names it.
    /// `localhost` is written out as 127.0.0.1 and ::1: the server would
    /// look it up, and a hosts file may map it anywhere.
    pub fn tcp_listen(&self) -> Option<String> {
        let mut list = vec!["127.0.0.1"];
        for address in self.listen.as_deref()?.split(',').map(str::trim) {
            let expanded: &[&str] = if address.eq_ignore_ascii_case("localhost") {
                &["127.0.0.1", "::1"]
            } else {
                &[address]
            };
            for a in expanded {
                if !a.is_empty() && !list.contains(a) {
                    list.push(a);
                }
            }
        }
        Some(list.join(","))
    }

    /// What the listen addresses need, given whether the server listens
    /// on TCP (`-t`, `-p`) and whether a proxy (`--shared-tx`) stands in
    /// front of it: an error that says why, if they do not fit.
    pub fn check_listener(&self, tcp: bool, proxied: bool) -> Result<(), String> {
        match self.listen.as_deref().map(str::trim) {
            Some(_) if proxied => Err(
                "`listen_addresses` does not apply with `--shared-tx`: clients connect to its proxy, on 127.0.0.1 only"
                    .into(),
            ),
            Some(l) if !l.is_empty() && !tcp => Err(format!(
                "`listen_addresses={l}` needs `-t`: without it, the server listens on its Unix socket only"
            )),
            Some("") if tcp => Err(
                "an empty `listen_addresses` with `-t` would leave the printed TCP URL pointing nowhere".into(),
            ),
            _ => Ok(()),
        }
    }
}

/// Reads one `-o` value: split as a shell would (as `pg_ctl -o` does), then
/// walked as the postmaster's getopt walks its argv.
pub fn parse(text: &str) -> Result<ServerOptions, String> {
    let words = shell_words::split(text).map_err(|e| format!("cannot split it: {e}"))?;
    ServerOptions::from_words(&words)
}

impl ServerOptions {
    /// Reads words already split (a library caller's `Request`), as the
    /// postmaster's getopt walks its argv.
    pub fn from_words(words: &[String]) -> Result<ServerOptions, String> {
        let mut out = ServerOptions::default();
        out.walk(words.iter().cloned())?;
        Ok(out)
    }

    fn walk(&mut self, mut words: impl Iterator<Item = String>) -> Result<(), String> {
        while let Some(word) = words.next() {
            let Some(body) = word.strip_prefix('-').filter(|b| !b.is_empty()) else {
                return Err(format!(
                    "`{word}` is not an option: `postgres` takes options only"
                ));
            };
            if body == "-" {
                return Err("`--` would end the server's options: nothing may follow it".into());
            }
            // A cluster of short options; `-` is itself an option taking a
            // value (`--name=value`), as in the postmaster's option string.
            let mut rest = body;
            while let Some(letter) = rest.chars().next() {
                rest = &rest[letter.len_utf8()..];
                match takes_value(letter) {
                    None => {
                        return Err(format!(
                            "`postgres` has no option `-{letter}` (in `{word}`)"
                        ));
                    }
                    Some(false) => self.flag(letter)?,
                    Some(true) => {
                        let value = if rest.is_empty() {
                            words
                                .next()
                                .ok_or_else(|| format!("`-{letter}` needs a value"))?
                        } else {
                            std::mem::take(&mut rest).to_string()
                        };
                        self.option(letter, value)?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether the postmaster's option `letter` takes a value; None: no such
/// option.
fn takes_value(letter: char) -> Option<bool> {
    let at = OPTSTRING.find(letter).filter(|_| letter != ':')?;
    Some(OPTSTRING[at + letter.len_utf8()..].starts_with(':'))
}

impl ServerOptions {
    fn flag(&mut self, letter: char) -> Result<(), String> {
        if letter == 'i' {
            return Err(
                "`-i` would make the server listen on every address; pgtmp's listen on 127.0.0.1 only (use `-t`)"
                    .into(),
            );
        }
        self.args.push(format!("-{letter}"));
        Ok(())
    }

    fn option(&mut self, letter: char, value: String) -> Result<(), String> {
        match letter {
            'c' | '-' => {
                let flag = if letter == 'c' { "-c " } else { "--" };
                let Some((name, value)) = value.split_once('=') else {
                    return Err(format!("`{flag}{value}` needs a value: `{flag}{value}=VALUE`"));
                };
                self.setting(name, value)
            }
            'h' => self.setting("listen_addresses", &value),
            'p' => self.setting("port", &value),
            'k' => self.setting("unix_socket_directories", &value),
            'D' => Err(format!(
                "`-D {value}` is pgtmp's to set: give pgtmp `-d {value}` instead"
            )),
            'C' => Err(format!(
                "`-C {value}` prints a setting and exits: no server would start"
            )),
            'o' => Err(
                "`-o` inside `-o` (options for every backend, PostgreSQL 13 only) is not passed on: give them directly"
                    .into(),
            ),
            _ => {
                self.args.push(format!("-{letter}"));
                self.args.push(value);
                Ok(())
            }
        }
    }

    /// `name=value`, from `-c`, `--`, or the letters that set one.
    fn setting(&mut self, name: &str, value: &str) -> Result<(), String> {
        // As PostgreSQL reads names: `-` is `_`, and case does not matter.
        let key = name.trim().replace('-', "_").to_ascii_lowercase();
        match key.as_str() {
            "port" => {
                let port = value
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("`port={value}` is not a port from 1 to 65535"))?;
                self.port = Some(port);
            }
            "listen_addresses" => {
                let beyond: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .filter(|a| !LOOPBACK.iter().any(|l| l.eq_ignore_ascii_case(a)))
                    .collect();
                if !beyond.is_empty() {
                    return Err(format!(
                        "`listen_addresses={value}` would expose the server beyond this machine; pgtmp allows 127.0.0.1, localhost and ::1 (with `-t`)"
                    ));
                }
                self.listen = Some(value.trim().to_string());
            }
            "unix_socket_directories"
            | "unix_socket_directory"
            | "unix_socket_group"
            | "unix_socket_permissions" => {
                return Err(format!(
                    "`{key}` is pgtmp's to set: the socket stays in the instance's private directory, mode 0700, where the URL points"
                ));
            }
            "data_directory" | "config_file" | "hba_file" | "ident_file" => {
                return Err(format!(
                    "`{key}` is pgtmp's to set: its data directory and authentication rules keep other users out"
                ));
            }
            _ => {
                self.args.push("-c".into());
                self.args.push(format!("{name}={value}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).args
    }

    #[test]
    fn ordinary_options_pass_one_per_word() {
        assert_eq!(args("-c work_mem=64MB"), ["-c", "work_mem=64MB"]);
        assert_eq!(args("-cwork_mem=64MB"), ["-c", "work_mem=64MB"]);
        assert_eq!(args("--work-mem=1MB"), ["-c", "work-mem=1MB"]);
        assert_eq!(args("-N 20 -B32MB"), ["-N", "20", "-B", "32MB"]);
        assert_eq!(args("-Fe"), ["-F", "-e"]);
        assert_eq!(args("-FB 32MB"), ["-F", "-B", "32MB"]);
        assert_eq!(
            args("-c 'shared_preload_libraries=a, b'"),
            ["-c", "shared_preload_libraries=a, b"]
        );
        assert_eq!(args(""), Vec::<String>::new());
    }

    /// Issue 18.3: grouped short options and attached values, read as the
    /// postmaster reads them, cannot smuggle in what `-o` refuses.
    #[test]
    fn grouped_and_attached_forms_are_refused_like_plain_ones() {
        for bad in [
            "-i",
            "-Fi",
            "-eFi",
            "-Fk/tmp/dir",
            "-Fk /tmp/dir",
            "-k/tmp",
            "-k /tmp",
            "-Fc listen_addresses=*",
            "-Fclisten_addresses=0.0.0.0",
            "-F-listen-addresses=*",
            "-h *",
            "-h0.0.0.0",
            "-Fh ::",
            "-c listen_addresses=*",
            "-c listen_addresses=127.0.0.1,10.0.0.1",
            "--listen-addresses=*",
            "--LISTEN_ADDRESSES=*",
            "-D /var/lib/postgresql",
            "-FD/x",
            "-c data_directory=/x",
            "-c Unix_Socket_Directories=/tmp",
            "-c unix-socket-permissions=0777",
            "-c unix_socket_group=users",
            "-c hba_file=/tmp/hba",
            "-c config_file=/tmp/conf",
            "-c ident_file=/tmp/ident",
            "-C shared_buffers",
            "-o '-c work_mem=1MB'",
            "-Fo-i",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted: {:?}", parse(bad));
        }
    }

    #[test]
    fn malformed_options_are_refused() {
        for bad in [
            "work_mem=1MB",
            "-F extra",
            "-- -i",
            "-c",
            "-cwork_mem",
            "--work_mem",
            "-V",
            "-Fv",
            "'unbalanced",
            "-p 0",
            "-p 70000",
            "-p x",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted: {:?}", parse(bad));
        }
    }

    #[test]
    fn the_port_is_taken_out_and_the_last_one_wins() {
        let o = parse("-p 5433 -c work_mem=1MB -c port=5434").unwrap();
        assert_eq!(o.port, Some(5434));
        assert_eq!(o.args, ["-c", "work_mem=1MB"]);
        assert_eq!(parse("-Fp5435").unwrap().port, Some(5435));
        assert_eq!(parse("--port=5436").unwrap().port, Some(5436));
        let both = ServerOptions::parse_all(&["-p 5000", "-c x.y=1", "-p 5001"]).unwrap();
        assert_eq!(both.port, Some(5001));
        assert_eq!(both.args, ["-c", "x.y=1"]);
    }

    #[test]
    fn loopback_listen_addresses_need_tcp() {
        for ok in [
            "-c listen_addresses=127.0.0.1",
            "-c listen_addresses=localhost",
            "-h ::1",
            "--listen-addresses=127.0.0.1,::1",
            "-c listen_addresses=LOCALHOST",
        ] {
            let o = parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(o.args.is_empty(), "{ok}: {o:?}");
            assert!(o.check_listener(true, false).is_ok(), "{ok}");
            assert!(o.check_listener(false, false).is_err(), "{ok}");
            assert!(o.check_listener(true, true).is_err(), "{ok}");
        }
        let v6 = parse("-h ::1").unwrap();
        assert_eq!(v6.tcp_listen().as_deref(), Some("127.0.0.1,::1"));
        let local = parse("-h LocalHost,127.0.0.1").unwrap();
        assert_eq!(local.tcp_listen().as_deref(), Some("127.0.0.1,::1"));
        let v4 = parse("-h 127.0.0.1").unwrap();
        assert_eq!(v4.tcp_listen().as_deref(), Some("127.0.0.1"));
        let empty = parse("-c listen_addresses=").unwrap();
        assert!(empty.check_listener(false, false).is_ok());
        assert!(empty.check_listener(true, false).is_err());
        assert!(ServerOptions::default().check_listener(true, true).is_ok());
        let last = ServerOptions::parse_all(&["-h ::1", "-h 127.0.0.1"]).unwrap();
        assert_eq!(last.listen.as_deref(), Some("127.0.0.1"));
        assert_eq!(ServerOptions::default().tcp_listen(), None);
    }
}
