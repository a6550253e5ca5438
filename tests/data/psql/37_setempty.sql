\set x
\if :x
\echo empty is true
\endif
\set ON_ERROR_STOP
SELECT 'ok';
