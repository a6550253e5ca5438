SELECT 1,
       2 FRM x;
SELECT 'not reached';
