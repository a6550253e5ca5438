SELECT 1 AS one, 'two' AS two, NULL AS three \gset
\echo :one :two :three
SELECT 5 AS five \gset p_
\echo :p_five
SELECT 1 WHERE false \gset
\echo after
