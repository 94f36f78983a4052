// PROTOCOL §1 "Positions and history" and §4 `since`: every event frame
// carries `pos`; a client that comes back with the last `pos` it received
// gets what it missed, in order and without duplicates, and the ack says
// whether the node still held the whole range.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, connect, hs256, ids, publishOk, sleep, uniq, isEvent } from './lib/index.mjs';

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.stop(); });

const token = () => hs256(ids.admin('c1', { tenant_id: 't1' }));

/** Subscribes with `since` and returns the ack (or error) for it. */
async function resubscribe(c, topics, since) {
  const id = uniq('s-');
  c.send({ type: 'subscribe', topics, since, id });
  return c.next((m) => m.id === id && (m.type === 'ack' || m.type === 'error'), 3000, 'the ack of a subscribe with since');
}

describe('positions', () => {
  it('every event frame carries a distinct, non-empty pos', async (t) => {
    const c = await connect(node, await token());
    t.after(() => c.close());
    await c.subscribe(['customer_id:c1:call:*', 'customer_id:c1:message:*']);
    const run = uniq();
    for (let i = 0; i < 5; i++) {
      await publishOk(node, { topic: `customer_id:c1:${i % 2 ? 'call' : 'message'}:p${i}`, event_type: 'x.y', data: { run, i } });
    }
    const got = await c.events(5, (m) => m.data?.run === run);
    const pos = got.map((m) => m.pos);
    for (const p of pos) assert.ok(typeof p === 'string' && p.length > 0, `pos ${JSON.stringify(p)}`);
    assert.equal(new Set(pos).size, 5, `positions repeat: ${pos}`);
  });
});

describe('since', () => {
  it('replays what was missed, in order, then goes live without duplicates', async (t) => {
    const topic = 'customer_id:c1:call:r1';
    const run = uniq();
    const a = await connect(node, await token());
    await a.subscribe('customer_id:c1:call:*');
    for (let n = 0; n < 3; n++) await publishOk(node, { topic, event_type: 'call.status', data: { run, n } });
    const seen = await a.events(3, (m) => m.data?.run === run);
    const last = seen[2].pos;
    await a.close();

    // missed while away
    for (let n = 3; n < 8; n++) await publishOk(node, { topic, event_type: 'call.status', data: { run, n } });

    const b = await connect(node, await token());
    t.after(() => b.close());
    const ack = await resubscribe(b, ['customer_id:c1:call:*'], last);
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.recovered, true, `ack ${JSON.stringify(ack)}`);
    const replayed = await b.events(5, (m) => m.data?.run === run, 3000);
    assert.deepEqual(replayed.map((m) => m.data.n), [3, 4, 5, 6, 7]);

    // live again, no duplicates between replay and live
    for (let n = 8; n < 10; n++) await publishOk(node, { topic, event_type: 'call.status', data: { run, n } });
    const live = await b.events(2, (m) => m.data?.run === run);
    assert.deepEqual(live.map((m) => m.data.n), [8, 9]);
    await sleep(200);
    assert.deepEqual(b.peek((m) => isEvent(m) && m.data?.run === run), [], 'duplicates after going live');
  });

  it('works for a pattern spanning many topics, keeping per-topic order', async (t) => {
    const run = uniq();
    const a = await connect(node, await token());
    await a.subscribe('customer_id:c1:message:>');
    await publishOk(node, { topic: 'customer_id:c1:message:m0', event_type: 'm.x', data: { run, k: 'start' } });
    const [first] = await a.events(1, (m) => m.data?.run === run);
    await a.close();

    const sent = [];
    for (let i = 0; i < 30; i++) {
      const topic = `customer_id:c1:message:m${i % 6}:part${i % 2}`;
      sent.push({ topic, i });
      await publishOk(node, { topic, event_type: 'm.x', data: { run, i } });
    }
    // and one it must not replay: another customer
    await publishOk(node, { topic: 'customer_id:c2:message:m1', event_type: 'm.x', data: { run, i: -1 } });

    const b = await connect(node, await token());
    t.after(() => b.close());
    const ack = await resubscribe(b, ['customer_id:c1:message:>'], first.pos);
    assert.equal(ack.recovered, true, JSON.stringify(ack));
    const got = await b.events(30, (m) => m.data?.run === run, 5000);
    assert.deepEqual(got.map((m) => m.data.i).sort((x, y) => x - y), sent.map((s) => s.i));
    const byTopic = {};
    for (const m of got) (byTopic[m.topic] ??= []).push(m.data.i);
    for (const [topic, is] of Object.entries(byTopic)) {
      assert.deepEqual(is, [...is].sort((x, y) => x - y), `out of order on ${topic}`);
    }
    await sleep(200);
    assert.deepEqual(b.peek((m) => isEvent(m) && m.data?.run === run), []);
  });

  it('replays only what the subscribe covers and the audience allows', async (t) => {
    const run = uniq();
    const a = await connect(node, await token());
    await a.subscribe('customer_id:c1:queue:*');
    await publishOk(node, { topic: 'customer_id:c1:queue:q', event_type: 'q.x', data: { run, n: 0 } });
    const [first] = await a.events(1, (m) => m.data?.run === run);
    await a.close();
    await publishOk(node, { topic: 'customer_id:c1:queue:q', event_type: 'q.x', data: { run, n: 1 } });
    await publishOk(node, { topic: 'customer_id:c1:call:q', event_type: 'q.x', data: { run, n: 2 } }); // other pattern
    await publishOk(node, { topic: 'customer_id:c1:queue:q', event_type: 'q.x', audience: { tenant_id: 't2' }, data: { run, n: 3 } });
    await publishOk(node, { topic: 'customer_id:c1:queue:q', event_type: 'q.x', audience: { tenant_id: 't1' }, data: { run, n: 4 } });

    const b = await connect(node, await token());
    t.after(() => b.close());
    const ack = await resubscribe(b, ['customer_id:c1:queue:*'], first.pos);
    assert.equal(ack.recovered, true, JSON.stringify(ack));
    const replayed = await b.events(2, (m) => m.data?.run === run, 3000);
    assert.deepEqual(replayed.map((m) => m.data.n), [1, 4]);
    await sleep(300);
    const all = [...b.drain((m) => isEvent(m) && m.data?.run === run)];
    assert.deepEqual(all, [], `extra replayed events: ${JSON.stringify(all.map((m) => m.data.n))}`);
  });

  it('says recovered: true and replays nothing when nothing was missed', async (t) => {
    const c = await connect(node, await token());
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:conference:*');
    const run = uniq();
    await publishOk(node, { topic: 'customer_id:c1:conference:f', event_type: 'f.x', data: { run } });
    const [ev] = await c.events(1, (m) => m.data?.run === run);
    const d = await connect(node, await token());
    t.after(() => d.close());
    const ack = await resubscribe(d, ['customer_id:c1:conference:*'], ev.pos);
    assert.equal(ack.recovered, true, JSON.stringify(ack));
    await sleep(300);
    assert.deepEqual(d.peek(isEvent), []);
  });

  it('says recovered: false for a position it does not hold, and still goes live', async (t) => {
    const c = await connect(node, await token());
    t.after(() => c.close());
    const ack = await resubscribe(c, ['customer_id:c1:recording:*'], 'no-such-position');
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.recovered, false, JSON.stringify(ack));
    await publishOk(node, { topic: 'customer_id:c1:recording:r', event_type: 'r.x' });
    await c.events(1);
  });

  it('a plain subscribe carries no recovered field', async (t) => {
    const c = await connect(node, await token());
    t.after(() => c.close());
    const ack = await c.subscribe('customer_id:c1:agent:*');
    assert.equal(ack.recovered, undefined);
  });
});
