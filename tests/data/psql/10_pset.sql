\pset tuples_only off
SELECT 1 AS a, 'x' AS b;
SELECT 1 WHERE false;
\pset null (null)
\pset fieldsep ','
SELECT NULL AS n, 2 AS m;
\pset footer off
SELECT 3 AS c;
\t
SELECT 4 AS d;
\t on
\set QUIET off
\pset null
\t off
SELECT 5;
CREATE TEMP TABLE q (a int);
INSERT INTO q VALUES (1),(2);
UPDATE q SET a = 3;
\t on
