// PROTOCOL §1, §2, §4: what a subscriber receives: the event frame, pattern
// matching, at-most-once across overlapping patterns, the audience filter,
// ordering, unsubscribe and dedup.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, connect, hs256, ids, publish, publishOk, publishMany, metrics, sleep, uniq, isEvent,
} from './lib/index.mjs';

let node;
before(async () => {
  node = await startNode({ limits: { max_backlog_bytes: 64 * 1024 * 1024, max_body_bytes: 4 * 1024 * 1024 } });
});
after(async () => { await node?.stop(); });

const admin = async (extra = {}) => connect(node, await hs256(ids.admin('c1', extra)));

/** Publishes `marker` on `topic` and waits for it: everything published on
 * that topic before it has arrived by then (per-topic order, §1). A short
 * grace covers events on other topics. */
async function barrier(clients, topic, graceMs = 200) {
  const tag = uniq('marker-');
  await publishOk(node, { topic, event_type: 'test.marker', data: { tag } });
  for (const c of clients) await c.events(1, (m) => m.data?.tag === tag, 5000);
  await sleep(graceMs);
}

describe('event frame', () => {
  it('carries id, event_type, timestamp (ISO-8601 µs UTC), topic, data and pos', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const before_ = Date.now();
    const acc = await publishOk(node, {
      topic: 'customer_id:c1:call:x1', event_type: 'call.status', data: { status: 'answered', n: 1, nested: { a: [1, 2] } },
    });
    const [ev] = await c.events(1);
    assert.equal(ev.id, acc.id);
    assert.equal(ev.topic, 'customer_id:c1:call:x1');
    assert.equal(ev.event_type, 'call.status');
    assert.deepEqual(ev.data, { status: 'answered', n: 1, nested: { a: [1, 2] } });
    assert.match(ev.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const ts = Date.parse(ev.timestamp);
    assert.ok(ts >= before_ - 2000 && ts <= Date.now() + 2000, `timestamp ${ev.timestamp} is not now`);
    assert.equal(typeof ev.pos, 'string');
    assert.ok(ev.pos.length > 0);
    assert.equal(ev.type, undefined);
  });

  it('passes trace through untouched and defaults data to {}', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:message:*');
    const trace = { trace_id: 't-1', span_context: { a: 1 }, session_id: 's', client_id: 'cl' };
    await publishOk(node, { topic: 'customer_id:c1:message:m1', event_type: 'message.created', data: { x: 1 }, trace });
    await publishOk(node, { topic: 'customer_id:c1:message:m2', event_type: 'message.created' });
    const [a, b] = await c.events(2);
    assert.deepEqual(a.trace, trace);
    assert.deepEqual(b.data, {});
  });

  it('keeps unicode and escapes in data intact', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:message:u');
    const data = { text: 'zürich 東京 🎉 "quoted" \\ back\nnewline \u0001', emptyObj: {}, big: 12345678901234, f: 1.5, no: null, t: true };
    await publishOk(node, { topic: 'customer_id:c1:message:u', event_type: 'message.created', data });
    const [ev] = await c.events(1);
    assert.deepEqual(ev.data, data);
  });
});

describe('patterns', () => {
  it('* matches exactly one segment', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const tag = uniq();
    for (const topic of ['customer_id:c1:call:x1', 'customer_id:c1:call:x1:leg', 'customer_id:c1:call',
      'customer_id:c1:message:x1', 'customer_id:c2:call:x1', 'customer_id:c1:call:x2']) {
      await publishOk(node, { topic, event_type: 'call.status', data: { tag } });
    }
    await barrier([c], 'customer_id:c1:call:x1');
    const got = c.drain((m) => isEvent(m) && m.data.tag === tag).map((m) => m.topic).sort();
    assert.deepEqual(got, ['customer_id:c1:call:x1', 'customer_id:c1:call:x2']);
  });

  it('> matches one or more trailing segments', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:>');
    const tag = uniq();
    for (const topic of ['customer_id:c1:call:x1', 'customer_id:c1:call:x1:leg:2', 'customer_id:c1:call',
      'customer_id:c1:message:x1', 'customer_id:c2:call:x1']) {
      await publishOk(node, { topic, event_type: 'call.status', data: { tag } });
    }
    await barrier([c], 'customer_id:c1:call:x1');
    const got = c.drain((m) => isEvent(m) && m.data.tag === tag).map((m) => m.topic).sort();
    assert.deepEqual(got, ['customer_id:c1:call:x1', 'customer_id:c1:call:x1:leg:2']);
  });

  it('* in the middle of the resource id, and exact topics', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe(['customer_id:c1:call:*:leg', 'customer_id:c1:queue:q1']);
    const tag = uniq();
    for (const topic of ['customer_id:c1:call:x1:leg', 'customer_id:c1:call:x1:leg:3', 'customer_id:c1:call:x1',
      'customer_id:c1:queue:q1', 'customer_id:c1:queue:q2', 'customer_id:c1:queue:q1:x']) {
      await publishOk(node, { topic, event_type: 'x.y', data: { tag } });
    }
    await barrier([c], 'customer_id:c1:queue:q1');
    const got = c.drain((m) => isEvent(m) && m.data.tag === tag).map((m) => m.topic).sort();
    assert.deepEqual(got, ['customer_id:c1:call:x1:leg', 'customer_id:c1:queue:q1']);
  });

  it('overlapping patterns on one connection deliver an event once', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe(['customer_id:c1:call:*', 'customer_id:c1:call:>', 'customer_id:c1:call:x7',
      'customer_id:c1:call:x7:>']);
    const tag = uniq();
    await publishOk(node, { topic: 'customer_id:c1:call:x7', event_type: 'call.status', data: { tag, n: 1 } });
    await publishOk(node, { topic: 'customer_id:c1:call:x7:leg', event_type: 'call.status', data: { tag, n: 2 } });
    await barrier([c], 'customer_id:c1:call:x7', 400);
    const got = c.drain((m) => isEvent(m) && m.data.tag === tag).map((m) => m.data.n).sort();
    assert.deepEqual(got, [1, 2], 'each event exactly once');
    assert.deepEqual(c.peek((m) => isEvent(m) && m.data.tag !== undefined && m.event_type === 'test.marker'), [],
      'the marker was duplicated');
  });

  it('two connections with the same pattern each receive the event', async (t) => {
    const a = await admin();
    const b = await admin();
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.subscribe('customer_id:c1:conference:*');
    await b.subscribe('customer_id:c1:conference:*');
    await publishOk(node, { topic: 'customer_id:c1:conference:f1', event_type: 'conference.started' });
    await a.events(1);
    await b.events(1);
  });

  it('agent-scoped subscriptions receive agent topics', async (t) => {
    const c = await connect(node, await hs256(ids.agent(['a1'])));
    t.after(() => c.close());
    await c.subscribe('agent_id:a1:queue:*');
    await publishOk(node, { topic: 'agent_id:a2:queue:q', event_type: 'queue.joined', data: { who: 'a2' } });
    await publishOk(node, { topic: 'agent_id:a1:queue:q', event_type: 'queue.joined', data: { who: 'a1' } });
    const [ev] = await c.events(1);
    assert.equal(ev.data.who, 'a1');
  });
});

describe('audience', () => {
  // A and B share tenant t1 (orgs o1, o2), C is in tenant t2.
  const people = {
    A: { sub: 'uA', customer_id: 'c1', roles: ['admin'], tenant_id: 't1', org_id: 'o1' },
    B: { sub: 'uB', customer_id: 'c1', roles: ['manager', 'supervisor'], tenant_id: 't1', org_id: 'o2' },
    C: { sub: 'uC', customer_id: 'c1', roles: ['admin'], tenant_id: 't2', org_id: 'o1' },
  };
  const topic = 'customer_id:c1:activeflow:af1';
  const cases = [
    // [name, publish fields, who receives]
    ['no audience', {}, 'ABC'],
    ['tenant t1', { audience: { tenant_id: 't1' } }, 'AB'],
    ['tenant t2', { audience: { tenant_id: 't2' } }, 'C'],
    ['unknown tenant', { audience: { tenant_id: 't9' } }, ''],
    ['tenant t1, org o2', { audience: { tenant_id: 't1', org_ids: ['o2'] } }, 'B'],
    ['tenant t1, orgs o1 o2', { audience: { tenant_id: 't1', org_ids: ['o1', 'o2'] } }, 'AB'],
    ['org o1 only', { audience: { org_ids: ['o1'] } }, 'AC'],
    ['tenant t1, user uA', { audience: { tenant_id: 't1', user_ids: ['uA'] } }, 'A'],
    ['users uB uC', { audience: { user_ids: ['uB', 'uC'] } }, 'BC'],
    ['tenant t1, role manager', { audience: { tenant_id: 't1', role_ids: ['manager'] } }, 'B'],
    ['roles admin x', { audience: { role_ids: ['x', 'admin'] } }, 'AC'],
    ['tenant t1, org o1, role manager', { audience: { tenant_id: 't1', org_ids: ['o1'], role_ids: ['manager'] } }, ''],
    ['empty arrays do not restrict', { audience: { org_ids: [], user_ids: [], role_ids: [] } }, 'ABC'],
    // the payload form, read only when there is no audience object
    ['payload tenantId t1', { data: { tenantId: 't1' } }, 'AB'],
    ['payload tenantId + organizationId', { data: { tenantId: 't1', organizationId: 'o2' } }, 'B'],
    ['payload organizationIds', { data: { tenantId: 't1', organizationIds: ['o1'] } }, 'A'],
    ['payload recipientUserIds', { data: { recipientUserIds: ['uA', 'uC'] } }, 'AC'],
    ['payload recipientUserId', { data: { recipientUserId: 'uB' } }, 'B'],
    ['payload recipientRoleIds', { data: { tenantId: 't1', recipientRoleIds: ['supervisor'] } }, 'B'],
    ['payload recipientRoleId', { data: { recipientRoleId: 'admin' } }, 'AC'],
    ['payload user_id (target user)', { data: { user_id: 'uC' } }, 'C'],
    ['explicit audience wins over the payload', { audience: { tenant_id: 't2' }, data: { tenantId: 't1' } }, 'C'],
  ];

  it('delivers each event to exactly the connections its audience allows', async (t) => {
    const conns = {};
    for (const [k, claims] of Object.entries(people)) {
      conns[k] = await connect(node, await hs256(claims));
      await conns[k].subscribe(topic);
    }
    t.after(() => Promise.all(Object.values(conns).map((c) => c.close())));
    const before_ = (await metrics(node)).herald_audience_filtered_total;
    const run = uniq();
    for (const [name, fields] of cases) {
      await publishOk(node, {
        topic, event_type: 'activeflow.updated', ...fields, data: { ...(fields.data ?? {}), run, case: name },
      });
    }
    await barrier(Object.values(conns), topic);
    const failures = [];
    for (const [k, c] of Object.entries(conns)) {
      const got = new Set(c.drain((m) => isEvent(m) && m.data.run === run).map((m) => m.data.case));
      for (const [name, , who] of cases) {
        if (who.includes(k) !== got.has(name)) {
          failures.push(`${name}: ${k} ${got.has(name) ? 'received it' : 'did not receive it'}, expected ${who || 'nobody'}`);
        }
      }
    }
    assert.deepEqual(failures, []);
    const after_ = (await metrics(node)).herald_audience_filtered_total;
    if (before_ !== undefined) assert.ok(after_ > before_, 'herald_audience_filtered_total did not rise');
  });

  it('an audience with a tenant never reaches a connection without tenant_id', async (t) => {
    const c = await connect(node, await hs256({ sub: 'uZ', customer_id: 'c1', roles: ['admin'] }));
    t.after(() => c.close());
    await c.subscribe(topic);
    const run = uniq();
    await publishOk(node, { topic, event_type: 'a.b', audience: { tenant_id: 't1' }, data: { run, n: 1 } });
    await publishOk(node, { topic, event_type: 'a.b', audience: { org_ids: ['o1'] }, data: { run, n: 2 } });
    await publishOk(node, { topic, event_type: 'a.b', data: { run, n: 3 } });
    await barrier([c], topic);
    assert.deepEqual(c.drain((m) => isEvent(m) && m.data.run === run).map((m) => m.data.n), [3]);
  });
});

describe('ordering', () => {
  it('10,000 events on one topic arrive in publish order, none missing', { timeout: 60_000 }, async (t) => {
    const c = await admin();
    t.after(() => c.close());
    const topic = 'customer_id:c1:transcription:order';
    await c.subscribe(topic);
    const run = uniq();
    const N = 10_000;
    const events = Array.from({ length: N }, (_, n) => ({ topic, event_type: 'transcription.chunk', data: { run, n } }));
    const received = c.events(N, (m) => m.data?.run === run, 45_000);
    await publishMany(node, events, 500);
    const got = await received;
    const ns = got.map((m) => m.data.n);
    const firstBad = ns.findIndex((n, i) => n !== i);
    assert.equal(firstBad, -1, `out of order at index ${firstBad}: got n=${ns[firstBad]}`);
    await sleep(200);
    assert.equal(c.peek((m) => isEvent(m) && m.data?.run === run).length, 0, 'duplicates after the 10,000');
  });

  it('events of a batch keep their order and answer per event', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    const topic = 'customer_id:c1:call:batch';
    await c.subscribe(topic);
    const run = uniq();
    await publishMany(node, Array.from({ length: 50 }, (_, n) => ({ topic, event_type: 'call.status', data: { run, n } })), 50);
    const got = await c.events(50, (m) => m.data?.run === run);
    assert.deepEqual(got.map((m) => m.data.n), Array.from({ length: 50 }, (_, n) => n));
  });
});

describe('unsubscribe', () => {
  it('stops delivery of that pattern only', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    await c.subscribe(['customer_id:c1:call:*', 'customer_id:c1:message:*']);
    const run = uniq();
    await publishOk(node, { topic: 'customer_id:c1:call:u1', event_type: 'call.status', data: { run, n: 1 } });
    await c.events(1, (m) => m.data?.run === run);
    await c.unsubscribe('customer_id:c1:call:*');
    await publishOk(node, { topic: 'customer_id:c1:call:u1', event_type: 'call.status', data: { run, n: 2 } });
    await publishOk(node, { topic: 'customer_id:c1:message:u1', event_type: 'message.created', data: { run, n: 3 } });
    await c.events(1, (m) => m.data?.run === run && m.data.n === 3, 3000);
    await barrier([c], 'customer_id:c1:message:u1', 300);
    assert.deepEqual(c.peek((m) => isEvent(m) && m.data?.run === run), [], 'delivered after unsubscribe');
  });

  it('a pattern still held through another subscription keeps delivering', async (t) => {
    const c = await admin();
    const d = await admin();
    t.after(() => Promise.all([c.close(), d.close()]));
    await c.subscribe('customer_id:c1:agent:*');
    await d.subscribe('customer_id:c1:agent:*');
    await c.unsubscribe('customer_id:c1:agent:*');
    const run = uniq();
    await publishOk(node, { topic: 'customer_id:c1:agent:g1', event_type: 'agent.status', data: { run } });
    await d.events(1, (m) => m.data?.run === run);
    await sleep(200);
    assert.deepEqual(c.peek(isEvent), []);
  });

  it('closing a connection drops its subscriptions (no deliveries counted to it)', async (t) => {
    const c = await admin();
    await c.subscribe('customer_id:c1:recording:*');
    await c.close();
    await sleep(200);
    const d = await admin();
    t.after(() => d.close());
    await d.subscribe('customer_id:c1:recording:*');
    const m0 = (await metrics(node)).herald_deliveries_total;
    await publishOk(node, { topic: 'customer_id:c1:recording:r1', event_type: 'recording.done' });
    await d.events(1);
    await sleep(200);
    const m1 = (await metrics(node)).herald_deliveries_total;
    assert.equal(m1 - m0, 1, `deliveries_total rose by ${m1 - m0} for one subscriber`);
  });
});

describe('dedup', () => {
  it('the same id published twice is accepted twice and delivered once', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    const topic = 'customer_id:c1:call:dedup';
    await c.subscribe(topic);
    const id = uniq('evt-');
    const body = { id, topic, event_type: 'call.status', data: { v: 1 } };
    const m0 = (await metrics(node)).herald_publish_duplicates_total;
    const r1 = await publish(node, body);
    const r2 = await publish(node, { ...body, data: { v: 2 } });
    assert.equal(r1.status, 202, r1.text);
    assert.equal(r2.status, 202, r2.text);
    assert.deepEqual(r1.json, { id, topic });
    assert.deepEqual(r2.json, { id, topic });
    await barrier([c], topic, 300);
    const got = c.drain((m) => isEvent(m) && m.id === id);
    assert.equal(got.length, 1, `delivered ${got.length} times`);
    assert.equal(got[0].data.v, 1, 'the first publish wins');
    const m1 = (await metrics(node)).herald_publish_duplicates_total;
    assert.equal(m1 - m0, 1);
  });

  it('a duplicate inside a batch is delivered once', async (t) => {
    const c = await admin();
    t.after(() => c.close());
    const topic = 'customer_id:c1:call:dedup2';
    await c.subscribe(topic);
    const id = uniq('evt-');
    await publishMany(node, [
      { id, topic, event_type: 'call.status' },
      { id, topic, event_type: 'call.status' },
      { topic, event_type: 'call.status', data: { other: true } },
    ]);
    await barrier([c], topic, 300);
    assert.equal(c.drain((m) => isEvent(m) && m.id === id).length, 1);
    assert.equal(c.drain((m) => isEvent(m) && m.data?.other).length, 1);
  });
});
