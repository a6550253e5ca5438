-- Revert pgtmp_example:appschema from pg
BEGIN;
DROP SCHEMA app;
COMMIT;
