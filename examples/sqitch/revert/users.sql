-- Revert pgtmp_example:users from pg
BEGIN;
DROP TABLE app.users;
COMMIT;
