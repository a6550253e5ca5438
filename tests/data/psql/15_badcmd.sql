SELECT 1;
\frobnicate foo
SELECT 2;
