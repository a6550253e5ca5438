SELECT 1,
  2,
  nope3;
SELECT 'a'
'b' AS cont;
