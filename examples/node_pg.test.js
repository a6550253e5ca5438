// Run: NODE_PATH=.clients/node_modules node --test examples/node_pg.test.js   (npm install pg; PGTMP_FLAGS=-t for TCP)
// node-postgres takes the user name from USER; where that is unset (root in a container), use PGTMP_FLAGS="-F url-with-user".
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const { Client } = require('pg');

let url, client;

before(async () => {
  const flags = (process.env.PGTMP_FLAGS || '').split(' ').filter(Boolean);
  url = execFileSync('pgtmp', flags, { encoding: 'utf8' }).trim();
  client = new Client({ connectionString: url });
  await client.connect();
});

after(async () => {
  await client?.end();
  if (url) execFileSync('pgtmp', ['stop', url]);
});

test('gets a private database', async () => {
  const { rows } = await client.query('select current_database() as db');
  assert.strictEqual(rows[0].db, 'test');
});
