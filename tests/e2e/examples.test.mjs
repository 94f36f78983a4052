// examples/README.md's walkthrough, as written: a node on its built-in
// development configuration, a token from herald-ctl, a subscriber on
// customer_id:c1:call:*, an event from examples/publish.sh.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNode, heraldCtlPath, connect, upgradeStatus, get, SOURCE_DIR } from './lib/index.mjs';

const run = promisify(execFile);
const ctl = heraldCtlPath();
const haveCurl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some(existsSync);

it('the walkthrough works on the development configuration', {
  timeout: 30_000,
  skip: (!ctl && 'herald-ctl not found (set HERALD_CTL)') || (!haveCurl && 'curl is not installed'),
}, async (t) => {
  // No --config: the development configuration; only the port is changed.
  const node = await startNode({}, { noConfig: true, args: ['--listen.port=0'] });
  t.after(() => node.stop());

  // The banner offers a page URL with a token in it.
  const banner = /(http:\/\/[\d.]+:\d+\/\?token=[\w.-]+)/.exec(node.logs());
  if (banner) assert.equal((await get(node, new URL(banner[1]).pathname + new URL(banner[1]).search)).status, 200);

  const { stdout } = await run(ctl, ['token', '--sub', 'u1', '--customer-id', 'c1', '--roles', 'admin'], { timeout: 10_000 });
  const token = stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `herald-ctl printed ${JSON.stringify(stdout)}`);

  const c = await connect(node, token, { via: 'query' });
  t.after(() => c.close());
  await c.subscribe('customer_id:c1:call:*');

  const script = join(SOURCE_DIR, 'examples', 'publish.sh');
  // -u only: the API key defaults to the development key.
  const out = await run('bash', [script, '-u', node.url, 'customer_id:c1:call:x1', 'call.status', '{"status":"answered"}'],
    { timeout: 10_000 });
  const answer = JSON.parse(out.stdout);
  assert.equal(answer.topic, 'customer_id:c1:call:x1');

  const [ev] = await c.events(1);
  assert.equal(ev.id, answer.id);
  assert.equal(ev.event_type, 'call.status');
  assert.deepEqual(ev.data, { status: 'answered' });

  // as the README says, another customer's topics are refused
  const r = await c.request({ type: 'subscribe', topics: ['customer_id:c2:call:*'] });
  assert.equal(r.code, 'PERMISSION_DENIED');
});

it('herald-ctl tokens are refused by a node with another secret', {
  timeout: 20_000, skip: !ctl && 'herald-ctl not found (set HERALD_CTL)',
}, async (t) => {
  const node = await startNode();
  t.after(() => node.stop());
  const { stdout } = await run(ctl, ['token', '--sub', 'u1'], { timeout: 10_000, env: { PATH: process.env.PATH } });
  assert.equal(await upgradeStatus(node, stdout.trim()), 401);
});
