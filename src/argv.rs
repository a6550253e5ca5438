//! pg_tmp takes its options and its subcommand in any order: `pg_tmp -t
//! start`, and its own idle stopper runs `pg_tmp -w 60 -d DIR -p PORT
//! stop`. clap reads options before a subcommand as the top level's, so
//! the subcommand is moved to the front first, by a getopt-like walk that
//! knows which options take a value (`-d stop` names a directory `stop`).
//! The walk asks the clap `Command` itself, so it cannot drift from it.

use std::collections::HashSet;
use std::ffi::OsString;

/// `args` (program name first) with the first operand moved right after
/// the program name when it names a subcommand; unchanged otherwise.
pub fn subcommand_first(mut args: Vec<OsString>, cmd: &clap::Command) -> Vec<OsString> {
    let with_value: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && a.get_action().takes_values())
        .collect();
    let shorts: HashSet<char> = with_value.iter().filter_map(|a| a.get_short()).collect();
    let longs: HashSet<&str> = with_value.iter().filter_map(|a| a.get_long()).collect();
    let mut i = 1;
    while i < args.len() {
        let Some(word) = args[i].to_str() else {
            return args; // not UTF-8: clap will say what it thinks of it
        };
        if word == "--" {
            return args;
        }
        if let Some(long) = word.strip_prefix("--") {
            if !long.contains('=') && longs.contains(long) {
                i += 1; // its value
            }
        } else if let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) {
            // The first letter that takes a value takes the rest of the
            // word, or else the next word.
            if let Some((at, letter)) = cluster.char_indices().find(|(_, c)| shorts.contains(c))
                && at + letter.len_utf8() == cluster.len()
            {
                i += 1;
            }
        } else {
            let named = cmd
                .get_subcommands()
                .any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word));
            if named && i > 1 {
                let subcommand = args.remove(i);
                args.insert(1, subcommand);
            }
            return args;
        }
        i += 1;
    }
    args
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn order(args: &str) -> String {
        let args = std::iter::once("pgtmp")
            .chain(args.split(' ').filter(|a| !a.is_empty()))
            .map(OsString::from)
            .collect();
        let moved = subcommand_first(args, &crate::cli::Cli::command());
        let words: Vec<String> = moved[1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        words.join(" ")
    }

    #[test]
    fn the_subcommand_comes_first() {
        assert_eq!(order("-t start"), "start -t");
        assert_eq!(
            order("-w 60 -d /x -p 5432 stop"),
            "stop -w 60 -d /x -p 5432"
        );
        assert_eq!(order("-k -d /x start"), "start -k -d /x");
        assert_eq!(order("-kt -w5 initdb"), "initdb -kt -w5");
        assert_eq!(order("-tw 5 stop"), "stop -tw 5");
        assert_eq!(order("-t exec -- make test"), "exec -t -- make test");
        assert_eq!(order("--pg-bindir /b list"), "list --pg-bindir /b");
        assert_eq!(order("-o -c start"), "start -o -c");
    }

    #[test]
    fn values_and_operands_stay_where_they_are() {
        assert_eq!(order("-d stop"), "-d stop");
        assert_eq!(order("--datadir stop start"), "start --datadir stop");
        assert_eq!(order("--datadir=stop"), "--datadir=stop");
        assert_eq!(order("-F json"), "-F json");
        assert_eq!(order("-dstop"), "-dstop");
        assert_eq!(order("stop -t URL"), "stop -t URL");
        assert_eq!(order("-t -- start"), "-t -- start");
        assert_eq!(order("-t nonsense start"), "-t nonsense start");
        assert_eq!(order(""), "");
    }
}
