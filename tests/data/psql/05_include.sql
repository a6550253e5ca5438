\i sub/inc.sql
SELECT 'after include';
