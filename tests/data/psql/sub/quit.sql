SELECT 'before quit';
\q
SELECT 'after quit';
