\set x true
\if :x
SELECT 'x true';
\elif false
SELECT 'not';
\else
SELECT 'else';
\endif
\if :{?nope}
SELECT 'nope';
\set shouldnot 1
\elif 0
SELECT 'zero';
\else
SELECT 'else2';
\if true
SELECT 'nested';
\endif
\endif
\echo :{?shouldnot}
\if maybe
SELECT 'maybe';
\endif
SELECT 'end';
