SELECT 1,
\echo in the middle
2;
SELECT 3 \g
\g
