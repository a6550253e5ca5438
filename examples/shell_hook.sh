#!/bin/sh
# Run: sh examples/shell_hook.sh   (PGTMP_FLAGS: pgtmp's options, e.g. -t or -F dsn)
set -eu

# 1. Start one, drop it on exit (whatever happens).
url=$(pgtmp ${PGTMP_FLAGS:-})
trap 'pgtmp stop "$url"' EXIT
psql "$url" -Atc 'select current_database()'   # your tests here: DATABASE_URL=$url ./run-tests

# 2. Or set DATABASE_URL and the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE...) in this shell.
eval "$(pgtmp -F env)"
psql -Atc 'select current_database()'
pgtmp stop "$DATABASE_URL"

# 3. Or let pgtmp own the lifetime: the same variables for one command, whose exit code pgtmp returns.
pgtmp exec -- psql -Atc 'select current_database()'
