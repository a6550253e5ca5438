#!/bin/sh
# Run: sh examples/shell_hook.sh   (PGTMP_FLAGS: pgtmp's options, e.g. -t or -F dsn)
set -eu

# A stand-in for your tests, which read the URL from their environment. (psql takes
# it only as an argument, where `ps` shows every local user a TCP URL's password for
# as long as psql runs; 2. and 3. hand psql the password in PGPASSWORD instead.)
run_tests() { psql "$DATABASE_URL" -Atc 'select current_database()'; }

# 1. Start one, drop it on exit (whatever happens), and give the URL to your tests
#    in their environment, not in their arguments.
url=$(pgtmp ${PGTMP_FLAGS:-})
trap 'pgtmp stop "$url"' EXIT
DATABASE_URL=$url run_tests

# 2. Or set DATABASE_URL and the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE...) in this shell.
eval "$(pgtmp -F env)"
psql -Atc 'select current_database()'
pgtmp stop "$DATABASE_URL"

# 3. Or let pgtmp own the lifetime: the same variables for one command, whose exit code pgtmp returns.
pgtmp exec -- psql -Atc 'select current_database()'
