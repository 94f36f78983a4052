// Logs (issue 2, §8): JSON lines when configured, and never a token, an API
// key or a secret in them, even at debug level and on refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_KEY, HS256_SECRET, connect, hs256, publish, startNode, upgradeStatus,
} from './lib/index.mjs';

test('JSON-lines logs carry no token, key or secret', async (t) => {
  const node = await startNode({ log: { level: 'debug', format: 'json' } });
  t.after(() => node.stop());
  const good = await hs256({ sub: 'log-user', customer_id: 'c1', roles: ['admin'] });
  const forged = await hs256({ sub: 'log-user' }, { secret: 'not-the-secret-0123456789abcdef' });
  const client = await connect(node, good);
  client.send({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id: 's1' });
  await client.next((m) => m.type === 'ack');
  assert.equal(await upgradeStatus(node, forged), 401);
  assert.equal(await upgradeStatus(node, 'garbage.token.here'), 401);
  assert.equal((await publish(node, { topic: 'customer_id:c1:call:x', event_type: 'a.b' },
    { apiKey: 'wrong-key-value' })).status, 401);
  assert.equal((await publish(node, { topic: 'customer_id:c1:call:x', event_type: 'a.b' })).status, 202);
  client.close();
  const result = await node.stop();
  assert.equal(result.code, 0);

  const lines = node.logs().split('\n')
    .filter((l) => l.startsWith('[err] '))
    .map((l) => l.slice('[err] '.length));
  assert.ok(lines.length >= 3, `expected JSON log lines, got:\n${node.logs()}`);
  for (const line of lines) {
    const entry = JSON.parse(line); // every line parses
    assert.ok(entry.ts && entry.level && entry.logger && 'msg' in entry, line);
  }
  const all = node.logs();
  for (const secret of [good, forged, API_KEY, 'wrong-key-value', HS256_SECRET,
    good.split('.')[2], forged.split('.')[2]]) {
    assert.ok(!all.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 12)}...`);
  }
});
