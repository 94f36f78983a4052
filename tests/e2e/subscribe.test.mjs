// PROTOCOL §2–§4: the /ws frames: subscribe, unsubscribe, ping and the
// error codes INVALID_MESSAGE, INVALID_TOPIC and PERMISSION_DENIED.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, connect, hs256, ids } from './lib/index.mjs';

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.stop(); });

async function client(claims = ids.admin('c1', { agent_ids: ['a1'] })) {
  return connect(node, await hs256(claims));
}

/** The connection still answers: a ping gets a pong. */
async function assertAlive(c) {
  const r = await c.ping();
  assert.equal(r.type, 'pong', `expected pong, got ${JSON.stringify(r)}`);
}

describe('replies', () => {
  it('acks subscribe and unsubscribe with the id echoed', async (t) => {
    const c = await client();
    t.after(() => c.close());
    c.send({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id: 'r1' });
    const ack = await c.next((m) => m.id === 'r1');
    assert.deepEqual(ack, { type: 'ack', action: 'subscribe', topics: ['customer_id:c1:call:*'], status: 'success', id: 'r1' });
    c.send({ type: 'unsubscribe', topics: ['customer_id:c1:call:*'], id: 'r2' });
    const ack2 = await c.next((m) => m.id === 'r2');
    assert.deepEqual(ack2, { type: 'ack', action: 'unsubscribe', topics: ['customer_id:c1:call:*'], status: 'success', id: 'r2' });
  });

  it('omits id in the ack when the request had none', async (t) => {
    const c = await client();
    t.after(() => c.close());
    c.send({ type: 'subscribe', topics: ['customer_id:c1:message:*'] });
    const ack = await c.next((m) => m.type === 'ack');
    assert.deepEqual(ack, { type: 'ack', action: 'subscribe', topics: ['customer_id:c1:message:*'], status: 'success' });
  });

  it('answers ping with pong', async (t) => {
    const c = await client();
    t.after(() => c.close());
    c.send({ type: 'ping' });
    const pong = await c.next((m) => m.type === 'pong');
    assert.equal(pong.type, 'pong');
  });

  it('echoes the id of a ping in its pong (ids are echoed, §4)', async (t) => {
    const c = await client();
    t.after(() => c.close());
    c.send({ type: 'ping', id: 'p1' });
    const pong = await c.next((m) => m.type === 'pong');
    assert.deepEqual(pong, { type: 'pong', id: 'p1' });
  });

  it('acks several topics in one ack, in the order given', async (t) => {
    const c = await client();
    t.after(() => c.close());
    const topics = ['customer_id:c1:call:*', 'customer_id:c1:message:m1', 'agent_id:a1:queue:>', 'customer_id:c1:recording:*'];
    const ack = await c.subscribe(topics);
    assert.deepEqual(ack.topics, topics);
  });

  it('accepts a frame just under 64 KiB', async (t) => {
    const c = await client();
    t.after(() => c.close());
    const id = 'i'.repeat(60 * 1024);
    const ack = await c.request({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id });
    assert.equal(ack.type, 'ack');
    assert.equal(ack.id, id);
  });
});

describe('INVALID_MESSAGE', () => {
  const cases = [
    ['not JSON', 'hello'],
    ['truncated JSON', '{"type":"subscribe","topics":["customer_id:c1:call:*"]'],
    ['an array', '[{"type":"ping"}]'],
    ['a string', '"ping"'],
    ['a number', '42'],
    ['null', 'null'],
    ['missing type', '{"topics":["customer_id:c1:call:*"]}'],
    ['type not a string', '{"type":7}'],
    ['unknown type', '{"type":"publish","topics":["customer_id:c1:call:*"]}'],
    ['subscribe without topics', '{"type":"subscribe"}'],
    ['topics not an array', '{"type":"subscribe","topics":"customer_id:c1:call:*"}'],
    ['topics with a number', '{"type":"subscribe","topics":["customer_id:c1:call:*",5]}'],
    ['topics with null', '{"type":"subscribe","topics":[null]}'],
    ['topics with an object', '{"type":"unsubscribe","topics":[{"t":"customer_id:c1:call:*"}]}'],
    ['unsubscribe without topics', '{"type":"unsubscribe"}'],
    ['empty text', ''],
  ];
  for (const [name, text] of cases) {
    it(`answers ${name} with INVALID_MESSAGE and keeps the connection`, async (t) => {
      const c = await client();
      t.after(() => c.close());
      c.send(text);
      const err = await c.next((m) => m.type === 'error');
      assert.equal(err.code, 'INVALID_MESSAGE', JSON.stringify(err));
      assert.equal(typeof err.message, 'string');
      await assertAlive(c);
    });
  }

  it('echoes the id of a refused frame when it has one', async (t) => {
    const c = await client();
    t.after(() => c.close());
    c.send({ type: 'bogus', id: 'x1' });
    const err = await c.next((m) => m.type === 'error');
    assert.equal(err.code, 'INVALID_MESSAGE');
    assert.equal(err.id, 'x1');
    c.send({ type: 'subscribe', topics: 'nope', id: 'x2' });
    const err2 = await c.next((m) => m.type === 'error');
    assert.equal(err2.code, 'INVALID_MESSAGE');
    assert.equal(err2.id, 'x2');
    assert.equal(err2.action, 'subscribe');
  });

  it('answers a binary frame with INVALID_MESSAGE and keeps the connection', async (t) => {
    const c = await client();
    t.after(() => c.close());
    c.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    const err = await c.next((m) => m.type === 'error');
    assert.equal(err.code, 'INVALID_MESSAGE');
    c.send(Buffer.from([0, 1, 2, 255, 254]), { binary: true });
    const err2 = await c.next((m) => m.type === 'error');
    assert.equal(err2.code, 'INVALID_MESSAGE');
    await assertAlive(c);
  });
});

describe('INVALID_TOPIC', () => {
  const long = 'x'.repeat(129);
  const bad = [
    ['empty topic', ''],
    ['empty segment', 'customer_id:c1::x1'],
    ['trailing colon', 'customer_id:c1:call:'],
    ['leading colon', ':customer_id:c1:call:x1'],
    ['character outside the set', 'customer_id:c1:call:x!1'],
    ['space', 'customer_id:c1:call:x 1'],
    ['non-ASCII', 'customer_id:c1:call:zürich'],
    ['segment over 128 characters', `customer_id:c1:call:${long}`],
    ['more than 16 segments', `customer_id:c1:call:${Array(14).fill('s').join(':')}`],
    ['over 256 bytes', `customer_id:c1:call:${Array(3).fill('y'.repeat(100)).join(':')}`],
    ['ab* inside a segment', 'customer_id:c1:call:ab*'],
    ['*b inside a segment', 'customer_id:c1:call:*b'],
    ['> not last', 'customer_id:c1:call:>:x'],
    ['>> inside a segment', 'customer_id:c1:call:a>'],
    ['unknown scope', 'tenant_id:t1:call:*'],
    ['unknown resource type', 'customer_id:c1:pizza:*'],
    ['wildcard scope', '*:c1:call:*'],
    ['> as scope', '>'],
    ['wildcard scope id', 'customer_id:*:call:*'],
    ['> as scope id', 'customer_id:>'],
    ['wildcard resource type', 'customer_id:c1:*:x1'],
    ['> as resource type', 'customer_id:c1:>'],
    ['agent scope, unknown resource type', 'agent_id:a1:pizza:*'],
  ];
  for (const [name, topic] of bad) {
    it(`refuses ${name}`, async (t) => {
      const c = await client();
      t.after(() => c.close());
      const r = await c.request({ type: 'subscribe', topics: [topic] });
      assert.equal(r.type, 'error', JSON.stringify(r));
      assert.equal(r.code, 'INVALID_TOPIC', JSON.stringify(r));
      assert.equal(r.action, 'subscribe');
      assert.deepEqual(r.topics, [topic]);
      assert.equal(typeof r.message, 'string');
    });
  }

  it('accepts every default resource type and both wildcards in the resource id', async (t) => {
    const c = await client();
    t.after(() => c.close());
    const types = ['call', 'message', 'activeflow', 'conference', 'queue', 'agent', 'recording', 'transcription'];
    const topics = [
      ...types.map((r) => `customer_id:c1:${r}:*`),
      ...types.map((r) => `agent_id:a1:${r}:>`),
      'customer_id:c1:call:x1', 'customer_id:c1:call:x1:leg:*', 'customer_id:c1:call:*:leg',
      `customer_id:c1:call:${'z'.repeat(128)}`,
      'customer_id:c1:call:A-Z_a.z@0-9',
    ];
    const ack = await c.subscribe(topics);
    assert.deepEqual(ack.topics, topics);
  });
});

describe('PERMISSION_DENIED', () => {
  async function verdict(claims, topic) {
    const c = await client(claims);
    try {
      return await c.request({ type: 'subscribe', topics: [topic] });
    } finally {
      await c.close();
    }
  }
  const denied = async (claims, topic) => {
    const r = await verdict(claims, topic);
    assert.equal(r.type, 'error', `${JSON.stringify(claims)} on ${topic}: ${JSON.stringify(r)}`);
    assert.equal(r.code, 'PERMISSION_DENIED');
    assert.deepEqual(r.topics, [topic]);
  };
  const allowed = async (claims, topic) => {
    const r = await verdict(claims, topic);
    assert.equal(r.type, 'ack', `${JSON.stringify(claims)} on ${topic}: ${JSON.stringify(r)}`);
  };

  it('customer scope: admin or manager of that customer is allowed', async () => {
    await allowed({ sub: 'u1', customer_id: 'c1', roles: ['admin'] }, 'customer_id:c1:call:*');
    await allowed({ sub: 'u1', customer_id: 'c1', roles: ['viewer', 'manager'] }, 'customer_id:c1:message:>');
  });

  it('customer scope: another customer is denied', async () => {
    await denied({ sub: 'u1', customer_id: 'c1', roles: ['admin'] }, 'customer_id:c2:call:*');
    await denied({ sub: 'u1', customer_id: 'c10', roles: ['admin'] }, 'customer_id:c1:call:*');
  });

  it('customer scope: without admin or manager role is denied', async () => {
    await denied({ sub: 'u1', customer_id: 'c1', roles: ['user'] }, 'customer_id:c1:call:*');
    await denied({ sub: 'u1', customer_id: 'c1', roles: [] }, 'customer_id:c1:call:*');
    await denied({ sub: 'u1', customer_id: 'c1' }, 'customer_id:c1:call:*');
    await denied({ sub: 'u1', customer_id: 'c1', roles: ['Admin'] }, 'customer_id:c1:call:*');
  });

  it('customer scope: no customer_id claim is denied', async () => {
    await denied({ sub: 'u1', roles: ['admin'] }, 'customer_id:c1:call:*');
  });

  it('agent scope: an owned agent is allowed, another is denied', async () => {
    await allowed({ sub: 'u3', agent_ids: ['a1', 'a2'] }, 'agent_id:a2:queue:*');
    await denied({ sub: 'u3', agent_ids: ['a1', 'a2'] }, 'agent_id:a9:queue:*');
    await denied({ sub: 'u3' }, 'agent_id:a1:call:*');
    await denied({ sub: 'u3', agent_ids: [] }, 'agent_id:a1:call:*');
    // a customer admin does not own the customer's agents by that alone
    await denied({ sub: 'u1', customer_id: 'c1', roles: ['admin'] }, 'agent_id:a1:call:*');
  });

  it('agent scope: ids are compared exactly, not by prefix', async () => {
    await denied({ sub: 'u3', agent_ids: ['a1'] }, 'agent_id:a10:call:*');
    await denied({ sub: 'u3', agent_ids: ['a10'] }, 'agent_id:a1:call:*');
  });
});

describe('mixed subscribe', () => {
  it('acks the accepted topics once and sends one error per code', async (t) => {
    const c = await client({ sub: 'u1', customer_id: 'c1', roles: ['admin'], agent_ids: ['a1'] });
    t.after(() => c.close());
    const frame = {
      type: 'subscribe',
      id: 'mix',
      topics: [
        'customer_id:c1:call:*', // ok
        'customer_id:c2:call:*', // denied
        'customer_id:c1:pizza:*', // invalid
        'agent_id:a1:queue:*', // ok
        'agent_id:a9:queue:*', // denied
        'customer_id:c1:call:ab*', // invalid
      ],
    };
    c.send(frame);
    const replies = await c.take((m) => m.id === 'mix', 3, 3000, 'ack + 2 errors');
    // nothing further for this id
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(c.peek((m) => m.id === 'mix'), [], 'more than one reply per outcome');
    const ack = replies.filter((m) => m.type === 'ack');
    const errs = replies.filter((m) => m.type === 'error');
    assert.equal(ack.length, 1, JSON.stringify(replies));
    assert.deepEqual(ack[0].topics, ['customer_id:c1:call:*', 'agent_id:a1:queue:*']);
    assert.equal(errs.length, 2, JSON.stringify(replies));
    const byCode = Object.fromEntries(errs.map((e) => [e.code, e]));
    assert.deepEqual(byCode.PERMISSION_DENIED?.topics, ['customer_id:c2:call:*', 'agent_id:a9:queue:*']);
    assert.deepEqual(byCode.INVALID_TOPIC?.topics, ['customer_id:c1:pizza:*', 'customer_id:c1:call:ab*']);
    for (const e of errs) assert.equal(e.action, 'subscribe');
  });

  it('unsubscribing a pattern never subscribed is not an error that breaks the connection', async (t) => {
    const c = await client();
    t.after(() => c.close());
    const r = await c.request({ type: 'unsubscribe', topics: ['customer_id:c1:conference:*'] });
    assert.ok(['ack', 'error'].includes(r.type));
    await assertAlive(c);
  });
});
