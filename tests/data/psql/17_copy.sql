COPY (SELECT g, 'v' || g FROM generate_series(1,2) g) TO STDOUT;
SELECT 'done';
