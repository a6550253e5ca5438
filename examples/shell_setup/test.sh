#!/bin/sh
# Run: cd examples/shell_setup && ./test.sh
# The schema comes from the migrations, run once; every later call gets a
# copy in the time of an empty database, until a migration changes. The
# URL stays in the environment (DATABASE_URL, PG*), out of psql's arguments.
set -eu
eval "$(pgtmp -F env --setup ./migrate.sh --key migrate.sh --key migrations ${PGTMP_FLAGS:-})"
trap 'pgtmp stop "$DATABASE_URL"' EXIT
psql -XAtc 'select count(*) from posts'   # your tests here
psql -Xqc 'delete from posts'
pgtmp reset "$DATABASE_URL"               # back to the migrated state, same URL
psql -XAtc 'select count(*) from posts'
