const { Client } = require('pg');
const url = process.env.DATABASE_URL;
function assert(c, m) { if (!c) { console.error('FAIL: ' + m); process.exit(1); } }
(async () => {
  const a = new Client({ connectionString: url }), b = new Client({ connectionString: url });
  await a.connect(); await b.connect();
  await a.query('create table nt (id int primary key, v text)');
  await a.query('BEGIN'); await a.query('insert into nt values ($1, $2)', [1, 'a']); await a.query('COMMIT');
  assert((await b.query('select count(*)::int as n from nt')).rows[0].n === 1, 'commit visible');
  await a.query('BEGIN'); await a.query('insert into nt values (2, $1)', ['b']); await a.query('ROLLBACK');
  assert((await b.query('select count(*)::int as n from nt')).rows[0].n === 1, 'rollback');
  // same statement name on both connections, different text
  const qa = { name: 'q', text: 'select $1::int + 1 as r', values: [1] };
  const qb = { name: 'q', text: 'select $1::int * 10 as r', values: [2] };
  for (let i = 0; i < 3; i++) {
    assert((await a.query(qa)).rows[0].r === 2, 'named a');
    assert((await b.query(qb)).rows[0].r === 20, 'named b');
  }
  let failed = false;
  try { await a.query('insert into nt values (1, $1)', ['dup']); } catch (e) { failed = e.code === '23505'; }
  assert(failed, 'duplicate fails');
  assert((await b.query('select count(*)::int as n from nt')).rows[0].n === 1, 'b works after a failed');
  assert((await a.query('select 1 as x')).rows[0].x === 1, 'a works after its error');
  // pipelined queries on one client (node-pg queues them)
  const ps = [a.query('select 1 as x'), a.query('select $1::text as y', ['z']), b.query('select 2 as x')];
  const rs = await Promise.all(ps);
  assert(rs[1].rows[0].y === 'z' && rs[2].rows[0].x === 2, 'queued');
  await a.query("ROLLBACK TEST 'node'");
  let gone = false;
  try { await b.query('select * from nt'); } catch (e) { gone = e.code === '42P01'; }
  assert(gone, 'rolled back');
  await a.end(); await b.end();
  console.log('ok');
})().catch((e) => { console.error(e); process.exit(1); });
