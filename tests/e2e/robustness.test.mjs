// Bad input changes nothing else: after a barrage of garbage frames,
// publishes and raw HTTP from some clients, another client's subscriptions
// still receive events and the node is alive.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  startNode, connect, hs256, ids, publish, publishBatch, publishOk, get, sleep, uniq, algNone, API_KEY,
} from './lib/index.mjs';

/** Sends raw bytes on a TCP connection; resolves what came back, bounded. */
function raw(node, bytes, ms = 1000) {
  return new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('error', () => {});
    s.on('connect', () => s.write(bytes));
    let timer;
    const done = () => { clearTimeout(timer); s.destroy(); resolve(out); };
    s.on('close', done);
    timer = setTimeout(done, ms);
  });
}

it('garbage from some clients does not disturb another', { timeout: 60_000 }, async (t) => {
  // A generous rate budget so that the garbage reaches the parsers.
  const node = await startNode({ limits: { rate_per_second: 100000, rate_burst: 100000 } });
  t.after(() => node.stop());
  const token = await hs256(ids.admin('c1', { agent_ids: ['a1'], tenant_id: 't1', org_id: 'o1' }));

  const victim = await connect(node, token);
  t.after(() => victim.close());
  await victim.subscribe(['customer_id:c1:call:*', 'agent_id:a1:queue:>']);

  // --- garbage frames
  const nested = '['.repeat(30000) + ']'.repeat(30000);
  const frames = [
    'not json', '', '{', '}', '[]', 'null', '1e999999', '"\\ud800"', '{"type":"subscribe","topics":[' + '"a",'.repeat(5000) + '"a"]}',
    nested, '{"a":' + nested + '}', `{"type":"subscribe","topics":["customer_id:c1:call:*"],"since":${nested.slice(0, 40000)}}`,
    '{"type":"subscribe","topics":["' + 'x'.repeat(60000) + '"]}',
    '{"type":"subscribe","topics":["customer_id:c1:call:*"],"since":"garbage-pos"}',
    '{"type":"subscribe","topics":["customer_id:c1:call:*"],"since":""}',
    '{"type":"unsubscribe","topics":["customer_id:c1:call:*"],"id":{"x":1}}',
    '{"type":"subscribe","topics":["customer_id:c1:call:*"],"type":"unsubscribe"}',
    '{"type":"ping","id":"\u0000\u0001"}',
    '{"type":"subscribe","topics":["customer_id:c1:call:\\u0000"]}',
    JSON.stringify({ type: 'subscribe', topics: Array.from({ length: 2000 }, (_, i) => `customer_id:c1:call:${i}`) }),
  ];
  const attacker = await connect(node, token);
  t.after(() => attacker.terminate());
  for (let round = 0; round < 5; round++) {
    for (const f of frames) if (attacker.isOpen) attacker.send(f);
    for (let i = 0; i < 50; i++) if (attacker.isOpen) attacker.send(randomBytes(1 + (i * 37) % 2000), { binary: i % 2 === 0 });
  }
  // invalid UTF-8 in a text frame (the node may close this one with 1007)
  const other = await connect(node, token);
  t.after(() => other.terminate());
  other.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });

  // a connection that subscribes to everything it may, then vanishes mid-stream
  const flaky = await connect(node, token);
  await flaky.subscribe('customer_id:c1:call:>');
  flaky.terminate();

  // --- garbage publishes
  const bodies = ['', 'x', '{', nested, '{"topic":' + nested + '}', '{"events":' + nested + '}',
    JSON.stringify({ topic: 'customer_id:c1:call:x', event_type: 'a.b', data: JSON.parse('{"a":' + '{"a":'.repeat(500) + '1' + '}'.repeat(501)) }),
    randomBytes(5000), Buffer.from([0xff, 0xfe, 0x00])];
  for (const b of bodies) {
    const r = await publish(node, b);
    assert.ok(r.status < 500, `publish answered ${r.status} for garbage`);
    const rb = await publishBatch(node, typeof b === 'string' ? b : b.toString('latin1'));
    assert.ok(rb.status < 500, `batch answered ${rb.status} for garbage`);
  }
  await publish(node, { topic: 'customer_id:c1:call:x', event_type: 'a.b' }, { headers: { 'content-type': 'text/plain' } });
  // an oversized header may be refused or the connection dropped; either is fine
  await publish(node, { topic: 'customer_id:c1:call:x', event_type: 'a.b' }, { apiKey: 'x'.repeat(10000) }).catch(() => {});

  // --- garbage HTTP and broken upgrades
  await Promise.all([
    raw(node, 'GARBAGE\r\n\r\n'),
    raw(node, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
    raw(node, `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`
      + `Authorization: Bearer ${token}\r\n\r\n\x81\xfe\xff\xff`), // a frame header, then silence
    raw(node, `GET /ws?token=${algNone()} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`),
    raw(node, `POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + 'Content-Length: 100000\r\n\r\n{"topic":'), // a body that never finishes
    raw(node, `GET /${'a'.repeat(100000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    raw(node, `GET / HTTP/1.1\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`),
    raw(node, randomBytes(20000)),
  ]);

  // --- the victim is untouched
  await attacker.ping().catch(() => {}); // may be closed; either is fine
  const run = uniq();
  await publishOk(node, { topic: 'customer_id:c1:call:after', event_type: 'call.status', data: { run, n: 1 } });
  await publishOk(node, { topic: 'agent_id:a1:queue:q:1', event_type: 'queue.joined', data: { run, n: 2 } });
  const got = await victim.events(2, (m) => m.data?.run === run, 5000);
  assert.deepEqual(got.map((m) => m.data.n).sort(), [1, 2]);
  assert.equal((await victim.ping()).type, 'pong');
  assert.equal((await get(node, '/healthz')).status, 200);
  assert.equal(node.exitInfo(), null, 'heraldd exited');

  // new clients are served as before
  const late = await connect(node, token);
  t.after(() => late.close());
  await late.subscribe('customer_id:c1:call:*');
  await publishOk(node, { topic: 'customer_id:c1:call:late', event_type: 'call.status', data: { run, n: 3 } });
  await late.events(1, (m) => m.data?.n === 3);
  await victim.events(1, (m) => m.data?.n === 3);
  await sleep(100);
  assert.equal(node.exitInfo(), null, 'heraldd exited');
});

it('hundreds of connections opening and closing leave no residue', { timeout: 60_000 }, async (t) => {
  const node = await startNode();
  t.after(() => node.stop());
  const token = await hs256(ids.admin());
  for (let round = 0; round < 5; round++) {
    const cs = await Promise.all(Array.from({ length: 40 }, () => connect(node, token)));
    await Promise.all(cs.map((c) => c.subscribe(['customer_id:c1:call:*', 'customer_id:c1:call:>'])));
    // half close politely, half vanish
    await Promise.all(cs.map((c, i) => (i % 2 ? c.close() : c.terminate())));
  }
  const { metrics, waitFor } = await import('./lib/index.mjs');
  await waitFor(async () => {
    const m = await metrics(node);
    return m.herald_connections === 0 && m.herald_subscriptions === 0;
  }, { timeoutMs: 5000, message: 'herald_connections and herald_subscriptions back to 0' });
  const c = await connect(node, token);
  t.after(() => c.close());
  await c.subscribe('customer_id:c1:call:*');
  await publishOk(node, { topic: 'customer_id:c1:call:z', event_type: 'call.status' });
  await c.events(1);
});
