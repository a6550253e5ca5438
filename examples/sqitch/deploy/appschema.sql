-- Deploy pgtmp_example:appschema to pg
BEGIN;
CREATE SCHEMA app;
COMMIT;
