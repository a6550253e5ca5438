SELECT 1;
DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful'; END $$;
SELECT 'a', NULL, 3;
SELECT g FROM generate_series(1,3) g;
