#!/bin/sh
# psql through a --shared-tx URL: one session open while others come and go.
set -eu
url=$1
psql=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
"$psql" -X -q -v ON_ERROR_STOP=1 "$url" <<SQL || fail "session a"
create table st (id int primary key);
begin;
insert into st values (1);
commit;
\! test "\$("$psql" -XAtc 'select count(*) from st' "$url")" = 1 || echo 'FAIL: b does not see the commit' >&2
begin;
insert into st values (2);
rollback;
\! test "\$("$psql" -XAtc 'select count(*) from st' "$url")" = 1 || echo 'FAIL: b sees the rollback' >&2
\set ON_ERROR_STOP 0
\set ON_ERROR_ROLLBACK on
begin;
insert into st values (1);
insert into st values (3);
commit;
\set ON_ERROR_STOP 1
\copy st from stdin
10
11
\.
\! test "\$("$psql" -XAtc 'select count(*) from st' "$url")" = 4 || echo 'FAIL: b count' >&2
SQL
out=$("$psql" -XAtc 'select count(*) from st' "$url") || fail "b"
test "$out" = 4 || fail "count $out"
"$psql" -XAtc "ROLLBACK TEST 'psql'" "$url" >/dev/null || fail "rollback test"
if "$psql" -XAtc 'select * from st' "$url" 2>/dev/null; then fail "st survived"; fi
echo ok
