SELECT 'from inc';
\ir inc2.sql
