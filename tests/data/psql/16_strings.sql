SELECT E'a\'b;c', 'x''y;', $q$;$q$, U&'d\0061t\+000061', B'101', X'1F';
SELECT 'multi
line;';
SELECT /* comment ; */ 1 -- trailing ;
;
SELECT 2 \; SELECT 3;
