\set ON_ERROR_STOP maybe
\set ECHO loud
SELECT 'continue';
SELECT * FROM nope22;
SELECT 'after error';
