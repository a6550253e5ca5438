#!/bin/sh
# Run: cd examples/sqitch && ./test.sh   (Debian: apt-get install sqitch libdbd-pg-perl)
# `sqitch deploy` runs once into a template; every later call, and every
# reset, gets a copy of the deployed database.
set -eu
eval "$(pgtmp -F env --setup 'sqitch deploy' --key sqitch.plan --key deploy ${PGTMP_FLAGS:-})"
trap 'pgtmp stop "$DATABASE_URL"' EXIT
psql -XAtc 'select count(*) from sqitch.changes'   # your tests here, e.g. pg_prove
