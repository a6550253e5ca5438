#!/bin/sh
# Run: sh examples/shell_hook.sh   (PGTMP_FLAGS: pgtmp's options, e.g. -t or -F dsn)
set -eu

# 1. Start one, drop it on exit (whatever happens). Give your tests the URL in their
#    environment (DATABASE_URL=$url ./run-tests), not in their arguments: `ps` shows
#    every local user a TCP URL's password (-t). psql only takes it as an argument,
#    so this check shows it for a moment; 2. and 3. keep it in the environment.
url=$(pgtmp ${PGTMP_FLAGS:-})
trap 'pgtmp stop "$url"' EXIT
psql "$url" -Atc 'select current_database()'

# 2. Or set DATABASE_URL and the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE...) in this shell.
eval "$(pgtmp -F env)"
psql -Atc 'select current_database()'
pgtmp stop "$DATABASE_URL"

# 3. Or let pgtmp own the lifetime: the same variables for one command, whose exit code pgtmp returns.
pgtmp exec -- psql -Atc 'select current_database()'
