SELECT 'in err';
SELECT * FROM nope_err;
SELECT 'after in err';
