#!/bin/sh
# Run: sh examples/shell_hook.sh   (PGTMP_FLAGS=-t for a TCP URL; PSQL=/usr/lib/postgresql/15/bin/psql to skip the wrapper)
set -eu
PSQL=${PSQL:-psql}

# 1. Start one, export it, drop it on exit (whatever happens).
url=$(pgtmp ${PGTMP_FLAGS:-})
trap 'pgtmp stop "$url"' EXIT
export DATABASE_URL="$url"
"$PSQL" "$DATABASE_URL" -Atc 'select current_database(), current_user'   # your test command here

# 2. Or let pgtmp own the lifetime: it sets DATABASE_URL and PGHOST/PGPORT/PGUSER/PGDATABASE
#    (+PGPASSWORD for TCP) for the command, drops the instance afterwards, and exits with its code.
pgtmp exec ${PGTMP_FLAGS:-} -- "$PSQL" -Atc 'select current_database(), current_user'
pgtmp exec ${PGTMP_FLAGS:-} -- sh -c '"$0" "$DATABASE_URL" -Atc "select 42"' "$PSQL"
