\i ./x/inc.sql
SELECT 'outer';
