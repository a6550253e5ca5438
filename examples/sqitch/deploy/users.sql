-- Deploy pgtmp_example:users to pg
-- requires: appschema
BEGIN;
CREATE TABLE app.users (
    id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);
COMMIT;
