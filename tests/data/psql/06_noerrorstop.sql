\set ON_ERROR_STOP 0
SELECT * FROM nope1;
SELECT 'goes on';
\i nonexistent.sql
SELECT 'still';
