\set ON_ERROR_STOP 0
SELECT 1 \gset
SELECT 1 AS a, 2 AS a \gset
\echo :a
SELECT generate_series(1,2) AS z \gset
\echo done
