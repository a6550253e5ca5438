-- Verify pgtmp_example:users on pg
SELECT id, email FROM app.users WHERE FALSE;
