\set r 'SELECT :r'
:r;
\set s '1 + 1'
SELECT :s;
