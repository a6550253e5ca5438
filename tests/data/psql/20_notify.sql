LISTEN chan;
NOTIFY chan, 'payload';
NOTIFY chan;
SELECT 'x';
