\set b `echo hello world`
\echo :b `echo x`
\echo a \\ SELECT 'after backslash-backslash';
