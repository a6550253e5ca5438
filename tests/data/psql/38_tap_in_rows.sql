SELECT * FROM (VALUES ('ok 1 - a'), ('not ok 2 - b'), ('# diag')) v;
SELECT E'multi\nline\nvalue';
