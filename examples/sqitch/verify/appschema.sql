-- Verify pgtmp_example:appschema on pg
SELECT pg_catalog.has_schema_privilege('app', 'usage');
