\i x/y/stop.sql
SELECT * FROM nope02;
\ir ./x/inc.sql
\include_relative x/../x/y/err.sql
SELECT 'end';
