#!/bin/sh
# Run: cd examples/sqitch && ./test.sh   (Debian: apt-get install sqitch libdbd-pg-perl)
# `sqitch deploy` runs once into a template; every later call, and every
# reset, gets a copy of the deployed database.
set -eu
url=$(pgtmp --setup 'sqitch deploy' --key sqitch.plan --key deploy ${PGTMP_FLAGS:-})
trap 'pgtmp stop "$url"' EXIT
psql "$url" -XAtc 'select count(*) from sqitch.changes'   # your tests here, e.g. pg_prove
