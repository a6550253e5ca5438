\unset ECHO
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_ROLLBACK 1
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(2);
SELECT ok(true, 'one');
SELECT throws_ok('SELECT 1/0', '22012');
SELECT * FROM finish();
ROLLBACK;
