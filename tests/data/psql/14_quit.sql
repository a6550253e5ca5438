\i sub/quit.sql
SELECT 'outer after';
