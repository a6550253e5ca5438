#!/bin/sh
# Run: cd examples/shell_setup && ./test.sh
# The schema comes from the migrations, run once; every later call gets a
# copy in the time of an empty database, until a migration changes.
set -eu
url=$(pgtmp --setup ./migrate.sh --key migrate.sh --key migrations ${PGTMP_FLAGS:-})
trap 'pgtmp stop "$url"' EXIT
psql "$url" -XAtc 'select count(*) from posts'   # your tests here
psql "$url" -Xqc 'delete from posts'
pgtmp reset "$url"                                # back to the migrated state, same URL
psql "$url" -XAtc 'select count(*) from posts'
