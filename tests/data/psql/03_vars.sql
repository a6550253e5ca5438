\set n 42
\set t 'it''s'
\set tbl 'My T'
\set empty
SELECT :n, :'t', :"tbl" AS x, :{?n}, :{?nope}, ':n', :nope;
\echo n is :n and :'t' "dq" -n
\echo -n no newline
\echo
\qecho qecho :n
\warn warn :n
\set a 1 2 3
\echo :a
\unset a
\echo :a
SELECT :'empty' = '';
