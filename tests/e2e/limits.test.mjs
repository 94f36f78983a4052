// PROTOCOL §4 limits: subscriptions per connection, the frame rate budget
// (RATE_LIMITED, then 1008) and the 64 KiB frame limit (1009).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, connect, hs256, ids, metrics, waitFor, sleep } from './lib/index.mjs';

describe('LIMIT_EXCEEDED', () => {
  it('refuses subscriptions past limits.max_subscriptions', async (t) => {
    const node = await startNode({ limits: { max_subscriptions: 3 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    const base = 'customer_id:c1:call:';
    await c.subscribe([`${base}1`, `${base}2`, `${base}3`]);
    const r = await c.request({ type: 'subscribe', topics: [`${base}4`] });
    assert.equal(r.type, 'error', JSON.stringify(r));
    assert.equal(r.code, 'LIMIT_EXCEEDED');
    assert.deepEqual(r.topics, [`${base}4`]);

    // an unsubscribe frees a place
    await c.unsubscribe(`${base}1`);
    const ok = await c.request({ type: 'subscribe', topics: [`${base}4`] });
    assert.equal(ok.type, 'ack', JSON.stringify(ok));
    await c.close();
  });

  it('judges one subscribe topic by topic: the first fit, the rest are LIMIT_EXCEEDED', async (t) => {
    const node = await startNode({ limits: { max_subscriptions: 2 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    const topics = ['customer_id:c1:call:a', 'customer_id:c1:call:b', 'customer_id:c1:call:c', 'customer_id:c1:call:d'];
    c.send({ type: 'subscribe', topics, id: 'm' });
    const replies = await c.take((m) => m.id === 'm', 2, 3000, 'ack + error');
    const ack = replies.find((m) => m.type === 'ack');
    const err = replies.find((m) => m.type === 'error');
    assert.deepEqual(ack?.topics, topics.slice(0, 2), JSON.stringify(replies));
    assert.equal(err?.code, 'LIMIT_EXCEEDED');
    assert.deepEqual(err?.topics, topics.slice(2));
    await c.close();
  });

  it('subscribing the same pattern twice does not use a second place', async (t) => {
    const node = await startNode({ limits: { max_subscriptions: 2 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    await c.subscribe('customer_id:c1:call:*');
    await c.subscribe('customer_id:c1:call:*');
    const r = await c.request({ type: 'subscribe', topics: ['customer_id:c1:message:*'] });
    assert.equal(r.type, 'ack', JSON.stringify(r));
    await c.close();
  });
});

describe('rate limit', () => {
  it('answers frames over the budget with RATE_LIMITED, and recovers', async (t) => {
    const node = await startNode({ limits: { rate_per_second: 5, rate_burst: 5, rate_strikes_to_close: 1000 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    const before = (await metrics(node)).herald_rate_limited_total;
    for (let i = 0; i < 15; i++) c.send({ type: 'ping', id: `p${i}` });
    const limited = await c.next((m) => m.type === 'error' && m.code === 'RATE_LIMITED', 3000);
    assert.equal(typeof limited.message, 'string');
    const pongs = await c.take((m) => m.type === 'pong', 5, 3000, 'pongs within the burst');
    assert.equal(pongs.length, 5);
    await sleep(300);
    const answered = c.peek((m) => m.type === 'pong').length + 5;
    assert.ok(answered <= 7, `${answered} of 15 pings answered with a burst of 5 at 5/s`);
    // the bucket refills: after a second a ping is answered again
    await sleep(1100);
    c.drain();
    const r = await c.ping();
    assert.equal(r.type, 'pong', JSON.stringify(r));
    assert.ok(c.isOpen);
    const m = await metrics(node);
    assert.ok(m.herald_rate_limited_total >= before + 8, `herald_rate_limited_total ${before} -> ${m.herald_rate_limited_total}`);
    await c.close();
  });

  it('closes a connection that keeps exceeding its rate with 1008', async (t) => {
    const node = await startNode({ limits: { rate_per_second: 2, rate_burst: 3, rate_strikes_to_close: 3 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    const other = await connect(node, await hs256(ids.admin()));
    t.after(() => other.close());
    const before = await metrics(node);
    for (let i = 0; i < 40; i++) c.send({ type: 'ping' });
    const close = await c.waitClose(5000);
    assert.equal(close.code, 1008, `close ${JSON.stringify(close)}`);
    // it was told before being closed
    assert.ok(c.peek((m) => m.code === 'RATE_LIMITED').length >= 1, 'no RATE_LIMITED before the close');
    await waitFor(async () => (await metrics(node)).herald_rate_limit_closes_total >= (before.herald_rate_limit_closes_total ?? 0) + 1,
      { message: 'herald_rate_limit_closes_total to rise' });
    // another connection is not affected
    assert.equal((await other.ping()).type, 'pong');
  });

  it('the budget is per connection', async (t) => {
    const node = await startNode({ limits: { rate_per_second: 1, rate_burst: 3, rate_strikes_to_close: 1000 } });
    t.after(() => node.stop());
    const a = await connect(node, await hs256(ids.admin()));
    const b = await connect(node, await hs256(ids.admin()));
    for (let i = 0; i < 6; i++) a.send({ type: 'ping' });
    await a.next((m) => m.code === 'RATE_LIMITED');
    for (let i = 0; i < 3; i++) assert.equal((await b.ping()).type, 'pong');
    await a.close();
    await b.close();
  });
});

describe('frame size', () => {
  it('closes a connection that sends a frame over 64 KiB with 1009', async (t) => {
    const node = await startNode();
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    const other = await connect(node, await hs256(ids.admin()));
    t.after(() => other.close());
    c.send({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id: 'x'.repeat(65 * 1024) });
    const close = await c.waitClose(5000);
    assert.equal(close.code, 1009, `close ${JSON.stringify(close)}`);
    assert.equal((await other.ping()).type, 'pong');
  });

  it('also for a binary frame over 64 KiB and a fragmented one', async (t) => {
    const node = await startNode();
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    c.send(Buffer.alloc(70 * 1024, 1), { binary: true });
    assert.equal((await c.waitClose(5000)).code, 1009);

    const d = await connect(node, await hs256(ids.admin()));
    // 3 fragments of 30 KiB: the message is over the limit though no frame is
    const part = 'y'.repeat(30 * 1024);
    d.ws.send(part, { fin: false });
    d.ws.send(part, { fin: false });
    d.ws.send(part, { fin: true });
    assert.equal((await d.waitClose(5000)).code, 1009);
  });

  it('honours a smaller limits.max_frame_bytes', async (t) => {
    const node = await startNode({ limits: { max_frame_bytes: 1024 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    assert.equal((await c.request({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id: 'a'.repeat(900) })).type, 'ack');
    c.send({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id: 'a'.repeat(2000) });
    assert.equal((await c.waitClose(5000)).code, 1009);
  });
});
