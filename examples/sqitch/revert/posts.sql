-- Revert pgtmp_example:posts from pg
BEGIN;
DROP TABLE app.posts;
COMMIT;
