CREATE FUNCTION dyn() RETURNS void AS $a1$ BEGIN EXECUTE 'SELECT * FROM nope_dyn'; END $a1$ LANGUAGE plpgsql;
\set ON_ERROR_STOP 0
SELECT dyn();
BEGIN;
SELECT nope_in_tx;
SELECT 1;
ROLLBACK;
SET client_min_messages = warning;
DO $$ BEGIN RAISE NOTICE 'hidden'; RAISE WARNING 'shown'; END $$;
SELECT;
SELECT /* a /* nested */ comment */ 'ok';
SELECT (1,
  2);
