// PROTOCOL §4: a connection whose unsent backlog passes
// limits.max_backlog_bytes is a slow consumer: closed with 1013 and counted,
// and no other connection slows down because of it.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startNode, connect, hs256, ids, publishMany, publishBatch, metrics, uniq, waitFor } from './lib/index.mjs';

it('closes a stalled reader with 1013 while another subscriber receives everything', { timeout: 60_000 }, async (t) => {
  const node = await startNode({
    limits: { max_backlog_bytes: 65536, max_body_bytes: 4 * 1024 * 1024 },
    ws: { close_timeout_ms: 5000 },
  });
  t.after(() => node.stop());
  const token = await hs256(ids.admin());
  const slow = await connect(node, token);
  const fast = await connect(node, token);
  t.after(() => { slow.terminate(); fast.terminate(); });
  const topic = 'customer_id:c1:call:firehose';
  await slow.subscribe('customer_id:c1:call:*');
  await fast.subscribe('customer_id:c1:call:*');

  const closes0 = (await metrics(node)).herald_slow_consumer_closes_total;
  assert.equal(typeof closes0, 'number', 'herald_slow_consumer_closes_total is exported');

  // Stop reading: the kernel buffers fill, then the node's backlog grows.
  slow.ws._socket.pause();

  // Each batch (4 x 8 KiB) stays well under the 64 KiB bound, and the next
  // one goes out once the fast subscriber has read it: a reader that keeps
  // up never holds more than that unsent (this process publishes and reads
  // on one thread, so it must not outrun itself). The paused one piles up
  // once the kernel's socket buffers are full (a few MiB on loopback).
  const run = uniq();
  const payload = 'p'.repeat(8 * 1024);
  const perBatch = 4;
  let published = 0;
  let risen = false;
  const fastNs = [];
  for (let b = 0; b < 2000 && !risen; b++) {
    const events = Array.from({ length: perBatch }, () => ({
      topic, event_type: 'call.chunk', data: { run, n: published++, payload },
    }));
    await publishMany(node, events, perBatch);
    const got = await fast.events(perBatch, (m) => m.data?.run === run, 5000);
    fastNs.push(...got.map((m) => m.data.n));
    if (b % 8 === 7) risen = (await metrics(node)).herald_slow_consumer_closes_total > closes0;
  }
  assert.ok(risen, `herald_slow_consumer_closes_total did not rise after ${published} events `
    + `(${Math.round(published * 8 / 1024)} MiB) to a paused reader`);

  // The fast subscriber got every event, in order, and is still open.
  assert.equal(fastNs.length, published);
  assert.equal(fastNs.findIndex((n, i) => n !== i), -1, 'fast subscriber: out of order');
  assert.ok(fast.isOpen, 'the fast subscriber was closed');

  // The stalled one, once it reads again, finds the 1013 close.
  slow.ws._socket.resume();
  const close = await slow.waitClose(10_000);
  assert.equal(close.code, 1013, `slow consumer closed with ${JSON.stringify(close)}`);
  // what it did receive is an in-order prefix
  const slowNs = slow.drain((m) => m.data?.run === run).map((m) => m.data.n);
  assert.equal(slowNs.findIndex((n, i) => n !== i), -1, 'slow subscriber: gap or reorder before the close');
  assert.ok(slowNs.length < published, 'the slow subscriber received everything: it was not stalled');

  // the node still works for the fast one
  assert.equal((await fast.ping()).type, 'pong');
  const m = await metrics(node);
  assert.ok(m.herald_connections >= 1);
});

// A slow consumer that never reads again must not keep its socket, actor or
// place: the end of its stream cannot go out, so the node lets it go after
// ws.close_timeout_ms (bench/soak/sse_stall_probe.mjs found SSE streams
// held for as long as the client stayed stalled).
it('releases a stalled SSE stream and a stalled WebSocket within ws.close_timeout_ms', { timeout: 60_000 }, async (t) => {
  const node = await startNode({
    limits: { max_backlog_bytes: 131072, max_body_bytes: 4 * 1024 * 1024 },
    ws: { close_timeout_ms: 1000 },
  });
  t.after(() => node.stop());
  const tok = await hs256({ sub: 'stalled', customer_id: 'c1', roles: ['admin'], tenant_id: 'T' });
  const ws = await connect(node, tok);
  t.after(() => ws.terminate());
  await ws.subscribe('customer_id:c1:call:*');
  ws.ws._socket.pause();
  const req = http.get({ host: node.address, port: node.port, path: '/api/events/stream',
    headers: { authorization: `Bearer ${tok}` } });
  t.after(() => req.destroy());
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no SSE answer within 5 s')), 5000);
    req.on('response', (res) => { clearTimeout(timer); res.pause(); resolve(); });
    req.on('error', reject);
  });
  // 3 KB broadcast events until both are counted as slow consumers (bounded)
  let counted = false;
  for (let i = 0; i < 2000 && !counted; i++) {
    const evs = Array.from({ length: 5 }, () => ({ topic: 'customer_id:c1:call:x', event_type: 'call.x',
      broadcast: true, audience: { tenant_id: 'T' }, data: { p: 'x'.repeat(3000) } }));
    await publishBatch(node, evs);
    if (i % 10 === 0) counted = (await metrics(node)).herald_slow_consumer_closes_total >= 2;
  }
  assert.ok(counted, 'both clients counted as slow consumers');
  const t0 = Date.now();
  await waitFor(async () => {
    const m = await metrics(node);
    return m.herald_connections === 0 && m.herald_sse_connections === 0 ? m : null;
  }, { timeoutMs: 5000, intervalMs: 100, message: 'the stalled WebSocket and SSE stream to be released' });
  const spent = Date.now() - t0;
  assert.ok(spent < 4000, `released after ${spent} ms (close_timeout_ms 1000)`);
});
