\ir y/../y/err.sql
