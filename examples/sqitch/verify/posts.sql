-- Verify pgtmp_example:posts on pg
SELECT id, user_id, title FROM app.posts WHERE FALSE;
