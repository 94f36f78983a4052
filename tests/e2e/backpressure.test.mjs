// PROTOCOL §4: a connection whose unsent backlog passes
// limits.max_backlog_bytes is a slow consumer: closed with 1013 and counted,
// and no other connection slows down because of it.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, connect, hs256, ids, publishMany, metrics, uniq } from './lib/index.mjs';

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
