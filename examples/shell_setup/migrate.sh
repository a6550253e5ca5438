#!/bin/sh
# Applies migrations/*.sql in name order, each in one transaction: what
# `pgtmp --setup ./migrate.sh --key migrations` runs once, then caches.
# pgtmp sets DATABASE_URL and the PG* variables, so psql needs no options.
set -eu
for f in migrations/*.sql; do
  psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f "$f"
done
