# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pgtmp_global_optspecs
    string join \n k/keep shared-tx t/tcp p/port= w/wait= o/options= d/datadir= spares= f/file= x/extension= now= setup= key= from= replicas= sync logical F/format= owner-pid= with-pgtap refill-after= pg-bindir= pg-version= run-as= locale= h/help V/version
end

function __fish_pgtmp_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pgtmp_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pgtmp_using_subcommand
    set -l cmd (__fish_pgtmp_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pgtmp -n "__fish_pgtmp_needs_command" -s p -l port -d 'Listen on this TCP port (implies -t)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s w -l wait -d 'Stop after this long without clients: 90s, 5m, or seconds; 0 never' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s o -l options -d 'Extra server options, as postgres takes them: \'-c work_mem=64MB -N 20\' (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s d -l datadir -d 'Use this data directory (initialised if missing or empty; never deleted)' -r -F
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l spares -d 'Keep up to N servers started ahead for the next hand-outs; 0 none [env: PGTMP_SPARES] [default: 16]' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s f -l file -d 'Load an SQL file, a directory of *.sql, or a pg_dump -Fc/-Ft/-Fd dump into `test`; cached as a template (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s x -l extension -d 'CREATE EXTENSION EXT in `test`, cached with the -f files (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l now -d 'Freeze now() in `test` at TIMESTAMP (UTC unless it has a zone)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l setup -d 'Run CMD (through `sh -c`, as you) against a fresh database once, then hand out copies (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l key -d 'A file or directory whose contents key the --setup cache: edit it and the setup runs again (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l from -d 'Hand out a copy of the snapshot NAME (see `pgtmp snapshot`)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l replicas -d 'Also start N hot-standby replicas streaming from the server (1 to 10); one URL per line, the primary\'s first' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s F -l format -d 'Print the connection as FORMAT [default: url]' -r -f -a "url\t'A postgresql:// URL in pg_tmp\'s shape (libpq, psycopg, node-postgres, Go, Rust, ...)'
url-with-user\t'The URL with the user name in it, for drivers that find none (node-postgres without USER)'
jdbc\t'A jdbc:postgresql:// URL with user and password; implies -t'
dsn\t'A libpq key=value connection string'
env\t'`export` lines for DATABASE_URL and PG*, for eval "$(pgtmp -F env)"'
json\t'A JSON object: url, host, port, user, password, database, directories, pid, version'"
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l owner-pid -d 'Stop when this process is gone (used by `exec`)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l refill-after -d 'Start the background refill only once this process has exited (used by `prove`)' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s k -l keep -d 'Keep the data directory after the server stops, and say where'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l shared-tx -d 'One transaction shared by every connection, thrown away by `pgtmp rollback URL` (see SHARED TRANSACTIONS)'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s t -l tcp -d 'Listen on TCP, 127.0.0.1 only, on a free port, with a random password'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l sync -d 'With --replicas: a commit returns once every replica has applied it (remote_apply)'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l logical -d 'wal_level=logical, with room for replication slots, WAL senders and subscription workers'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -l with-pgtap -d 'Create pgTAP in `test`, cached with the fixtures (used by `prove`)'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -s V -l version -d 'Print version'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "start" -d 'Start an instance and print its URL (what `pgtmp` alone does)'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "initdb" -d 'Prepare a data directory for `start -d` and print its path (or initialise DIR)'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "stop" -d 'Stop instances now; delete their data unless kept'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "list" -d 'List this user\'s instances: URL, pid, age, idle, clients, directory'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "rollback" -d 'Throw away what every client of a --shared-tx URL did since the hand-out (or the last rollback); they stay connected'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "snapshot" -d 'Save the databases of a running instance as snapshot NAME; list or delete snapshots'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "reset" -d 'Put a running instance back to the state it was handed out in; its URL stays'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "versions" -d 'List the PostgreSQL installations pgtmp can use: version, bin directory, client tools, default'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "gc" -d 'Remove what crashed runs left: dead instances, stale pool entries'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "exec" -d 'Run COMMAND with a fresh database in DATABASE_URL and PG*, then drop it'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "promote" -d 'Make the replica at URL the primary of its set; the old primary and the other replicas follow it'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "wait" -d 'Wait until every replica of the set at URL has replayed what its primary has written'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "restart" -d 'Restart the server at URL, or a whole set from its primary\'s URL, keeping the URLs'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "prove" -d 'Run pgTAP test files as pg_prove does, each in a fresh database of its own'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "completions" -d 'Print a completion script for SHELL'
complete -c pgtmp -n "__fish_pgtmp_needs_command" -f -a "man" -d 'Print the man page (roff) on stdout'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s p -l port -d 'Listen on this TCP port (implies -t)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s w -l wait -d 'Stop after this long without clients: 90s, 5m, or seconds; 0 never' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s o -l options -d 'Extra server options, as postgres takes them: \'-c work_mem=64MB -N 20\' (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s d -l datadir -d 'Use this data directory (initialised if missing or empty; never deleted)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l spares -d 'Keep up to N servers started ahead for the next hand-outs; 0 none [env: PGTMP_SPARES] [default: 16]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s f -l file -d 'Load an SQL file, a directory of *.sql, or a pg_dump -Fc/-Ft/-Fd dump into `test`; cached as a template (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s x -l extension -d 'CREATE EXTENSION EXT in `test`, cached with the -f files (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l now -d 'Freeze now() in `test` at TIMESTAMP (UTC unless it has a zone)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l setup -d 'Run CMD (through `sh -c`, as you) against a fresh database once, then hand out copies (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l key -d 'A file or directory whose contents key the --setup cache: edit it and the setup runs again (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l from -d 'Hand out a copy of the snapshot NAME (see `pgtmp snapshot`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l replicas -d 'Also start N hot-standby replicas streaming from the server (1 to 10); one URL per line, the primary\'s first' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s F -l format -d 'Print the connection as FORMAT [default: url]' -r -f -a "url\t'A postgresql:// URL in pg_tmp\'s shape (libpq, psycopg, node-postgres, Go, Rust, ...)'
url-with-user\t'The URL with the user name in it, for drivers that find none (node-postgres without USER)'
jdbc\t'A jdbc:postgresql:// URL with user and password; implies -t'
dsn\t'A libpq key=value connection string'
env\t'`export` lines for DATABASE_URL and PG*, for eval "$(pgtmp -F env)"'
json\t'A JSON object: url, host, port, user, password, database, directories, pid, version'"
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l owner-pid -d 'Stop when this process is gone (used by `exec`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l refill-after -d 'Start the background refill only once this process has exited (used by `prove`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s k -l keep -d 'Keep the data directory after the server stops, and say where'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l shared-tx -d 'One transaction shared by every connection, thrown away by `pgtmp rollback URL` (see SHARED TRANSACTIONS)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s t -l tcp -d 'Listen on TCP, 127.0.0.1 only, on a free port, with a random password'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l sync -d 'With --replicas: a commit returns once every replica has applied it (remote_apply)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l logical -d 'wal_level=logical, with room for replication slots, WAL senders and subscription workers'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -l with-pgtap -d 'Create pgTAP in `test`, cached with the fixtures (used by `prove`)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s d -l datadir -d 'Initialise this directory instead of one of pgtmp\'s (never deleted)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s o -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s p -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s w -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s t
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s k
complete -c pgtmp -n "__fish_pgtmp_using_subcommand initdb" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s d -l datadir -d 'The instance using DIR: its data directory (as `initdb` printed it), or its socket directory (the URL\'s host)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s w -l wait -d 'Wait TIMEOUT, then stop once no client is connected, checking again every TIMEOUT' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s p -l port -d 'Only if it listens on this port (pg_tmp\'s own stopper passes it)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s o -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -l all -d 'Every instance of this user'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s k -l keep -d 'Keep the data directory, and say where'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s t
complete -c pgtmp -n "__fish_pgtmp_using_subcommand stop" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l json -d 'Print a JSON array instead of tab-separated rows'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l spares -d 'List the spares (servers started ahead, not handed out) instead'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -l clients -d 'List the clients of --shared-tx instances instead: URL, pid, user, database, application, state, address'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand list" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand rollback" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand rollback" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand rollback" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand rollback" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l delete -d 'Delete the snapshot NAME (instances handed out from it stay)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l list -d 'List this user\'s snapshots'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -l json -d 'With --list: print a JSON array instead of tab-separated rows'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand snapshot" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand reset" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand reset" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand reset" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand reset" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand reset" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand versions" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand versions" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand versions" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand versions" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand versions" -l json -d 'Print a JSON array instead of tab-separated rows'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand versions" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand gc" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand gc" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand gc" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand gc" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand gc" -l all -d 'Also stop spares, empty the pool and remove templates (instances stay)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand gc" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s p -l port -d 'Listen on this TCP port (implies -t)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s w -l wait -d 'Stop after this long without clients: 90s, 5m, or seconds; 0 never' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s o -l options -d 'Extra server options, as postgres takes them: \'-c work_mem=64MB -N 20\' (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s d -l datadir -d 'Use this data directory (initialised if missing or empty; never deleted)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l spares -d 'Keep up to N servers started ahead for the next hand-outs; 0 none [env: PGTMP_SPARES] [default: 16]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s f -l file -d 'Load an SQL file, a directory of *.sql, or a pg_dump -Fc/-Ft/-Fd dump into `test`; cached as a template (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s x -l extension -d 'CREATE EXTENSION EXT in `test`, cached with the -f files (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l now -d 'Freeze now() in `test` at TIMESTAMP (UTC unless it has a zone)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l setup -d 'Run CMD (through `sh -c`, as you) against a fresh database once, then hand out copies (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l key -d 'A file or directory whose contents key the --setup cache: edit it and the setup runs again (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l from -d 'Hand out a copy of the snapshot NAME (see `pgtmp snapshot`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l replicas -d 'Also start N hot-standby replicas streaming from the server (1 to 10); one URL per line, the primary\'s first' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l owner-pid -d 'Stop when this process is gone (used by `exec`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l refill-after -d 'Start the background refill only once this process has exited (used by `prove`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s F -l format -d 'Print the connection as FORMAT [default: url]' -r -f -a "url\t'A postgresql:// URL in pg_tmp\'s shape (libpq, psycopg, node-postgres, Go, Rust, ...)'
url-with-user\t'The URL with the user name in it, for drivers that find none (node-postgres without USER)'
jdbc\t'A jdbc:postgresql:// URL with user and password; implies -t'
dsn\t'A libpq key=value connection string'
env\t'`export` lines for DATABASE_URL and PG*, for eval "$(pgtmp -F env)"'
json\t'A JSON object: url, host, port, user, password, database, directories, pid, version'"
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s k -l keep -d 'Keep the data directory after the server stops, and say where'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l shared-tx -d 'One transaction shared by every connection, thrown away by `pgtmp rollback URL` (see SHARED TRANSACTIONS)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s t -l tcp -d 'Listen on TCP, 127.0.0.1 only, on a free port, with a random password'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l sync -d 'With --replicas: a commit returns once every replica has applied it (remote_apply)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l logical -d 'wal_level=logical, with room for replication slots, WAL senders and subscription workers'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -l with-pgtap -d 'Create pgTAP in `test`, cached with the fixtures (used by `prove`)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand promote" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand promote" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand promote" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand promote" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand promote" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand wait" -l timeout -d 'Give up after this long: 90s, 5m, or seconds; 0 never' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand wait" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand wait" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand wait" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand wait" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand wait" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand restart" -s o -l options -d 'Run with these server options from now on, instead of those given before (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand restart" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand restart" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand restart" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand restart" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand restart" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s p -l port -d 'Listen on this TCP port (implies -t)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s w -l wait -d 'Stop after this long without clients: 90s, 5m, or seconds; 0 never' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s o -l options -d 'Extra server options, as postgres takes them: \'-c work_mem=64MB -N 20\' (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s d -l datadir -d 'Use this data directory (initialised if missing or empty; never deleted)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l spares -d 'Keep up to N servers started ahead for the next hand-outs; 0 none [env: PGTMP_SPARES] [default: 16]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s f -l file -d 'Load an SQL file, a directory of *.sql, or a pg_dump -Fc/-Ft/-Fd dump into `test`; cached as a template (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s x -l extension -d 'CREATE EXTENSION EXT in `test`, cached with the -f files (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l now -d 'Freeze now() in `test` at TIMESTAMP (UTC unless it has a zone)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l setup -d 'Run CMD (through `sh -c`, as you) against a fresh database once, then hand out copies (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l key -d 'A file or directory whose contents key the --setup cache: edit it and the setup runs again (repeatable)' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l from -d 'Hand out a copy of the snapshot NAME (see `pgtmp snapshot`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l replicas -d 'Also start N hot-standby replicas streaming from the server (1 to 10); one URL per line, the primary\'s first' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l owner-pid -d 'Stop when this process is gone (used by `exec`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l refill-after -d 'Start the background refill only once this process has exited (used by `prove`)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s j -l jobs -d 'Run N test files at once (at most 64)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l ext -d 'Test files in directories end with EXT (repeatable) [default: .pg]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l state -d 'Select, order and save by earlier runs, kept in ./.pgtmp-prove: save, last, failed, passed, all, hot, todo, slow, fast, new, old, fresh (comma-separated, each with :N to limit)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s s -l schema -d 'runtests() of this schema (implies -R)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l match -d 'runtests() of the functions matching REGEX (implies -R; pg_prove\'s -x)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s P -l pset -d 'Set a psql printing option, as psql --pset (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s S -l set -d 'Set a psql variable, as psql --set (repeatable)' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s b -l psql-bin -d 'The psql to run scripts that need psql itself [default: the server\'s]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l junit -d 'Write a JUnit XML report to FILE' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l json -d 'Write a JSON report to FILE' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s U -l username -d 'pg_prove\'s database options have no meaning here: pgtmp makes the databases' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l dbname -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l host -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s F -l format -d 'Print the connection as FORMAT [default: url]' -r -f -a "url\t'A postgresql:// URL in pg_tmp\'s shape (libpq, psycopg, node-postgres, Go, Rust, ...)'
url-with-user\t'The URL with the user name in it, for drivers that find none (node-postgres without USER)'
jdbc\t'A jdbc:postgresql:// URL with user and password; implies -t'
dsn\t'A libpq key=value connection string'
env\t'`export` lines for DATABASE_URL and PG*, for eval "$(pgtmp -F env)"'
json\t'A JSON object: url, host, port, user, password, database, directories, pid, version'"
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s k -l keep -d 'Keep the data directory after the server stops, and say where'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l shared-tx -d 'One transaction shared by every connection, thrown away by `pgtmp rollback URL` (see SHARED TRANSACTIONS)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s t -l tcp -d 'Listen on TCP, 127.0.0.1 only, on a free port, with a random password'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l sync -d 'With --replicas: a commit returns once every replica has applied it (remote_apply)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l logical -d 'wal_level=logical, with room for replication slots, WAL senders and subscription workers'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l with-pgtap -d 'Create pgTAP in `test`, cached with the fixtures (used by `prove`)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s r -l recurse -d 'Look for test files in subdirectories too'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s v -l verbose -d 'Print every line of TAP'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l failures -d 'Print the failed tests\' lines too (pg_prove\'s -f)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l directives -d 'Print the TODO and SKIP tests\' lines too'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s q -l quiet -d 'Print only the failing files and the summary'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s Q -l QUIET -d 'Print only the summary'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l timer -d 'Print when each file started and how long it took (pg_prove\'s --timer)'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l parse -d 'Every parse error in the summary, not the first five'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l shuffle -d 'Run the files in random order'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l reverse -d 'Run the files in reverse order'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s R -l runtests -d 'Run xUnit-style test functions with runtests() instead of files'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l ignore-exit -d 'A non-zero exit status of psql is not a failure'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s D -l dry -d 'Print the test files that would run, and run none'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l fail-fast -d 'Stop starting files after the first one that fails'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -l keep-failed -d 'Keep the databases of failing files, and the server, and print their URLs'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand prove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand completions" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand completions" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand completions" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand completions" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand completions" -s h -l help -d 'Print help'
complete -c pgtmp -n "__fish_pgtmp_using_subcommand man" -l pg-bindir -d 'Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]' -r -F
complete -c pgtmp -n "__fish_pgtmp_using_subcommand man" -l pg-version -d 'Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand man" -l run-as -d 'As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand man" -l locale -d 'Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]' -r
complete -c pgtmp -n "__fish_pgtmp_using_subcommand man" -s h -l help -d 'Print help'
