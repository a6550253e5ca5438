\set ON_ERROR_STOP 0
\set VERBOSITY terse
SELECT * FROM nope24;
\set VERBOSITY verbose
SELECT 1/0;
\set VERBOSITY sqlstate
SELECT 1/0;
\set VERBOSITY default
\set SHOW_CONTEXT never
DO $$ BEGIN RAISE EXCEPTION 'ctx'; END $$;
\set SHOW_CONTEXT always
DO $$ BEGIN RAISE NOTICE 'ctx notice'; END $$;
