SELECT	1,	nope_col	FROM	(SELECT 1) s;
