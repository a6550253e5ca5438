-- Deploy pgtmp_example:posts to pg
-- requires: users
BEGIN;
CREATE TABLE app.posts (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app.users,
    title   TEXT NOT NULL
);
COMMIT;
