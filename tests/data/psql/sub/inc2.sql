SELECT 'from inc2';
SELECT * FROM missing_in_inc2;
