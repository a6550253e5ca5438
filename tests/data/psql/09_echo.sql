\set ECHO queries
SELECT 1;
\set ECHO all
SELECT 2;
\set ECHO errors
SELECT nope;
\set ECHO none
SELECT 3;
