\if true
SELECT 'in if';
