// PROTOCOL §6: POST /api/v1/publish and /api/v1/publish/batch.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  startNode, connect, hs256, ids, publish, publishBatch, metrics, uniq, API_KEY, SOURCE_DIR, isEvent, sleep,
} from './lib/index.mjs';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const TOPIC = 'customer_id:c1:call:x1';

let node;
before(async () => { node = await startNode({ auth: { api_keys: [API_KEY, 'second-key'] } }); });
after(async () => { await node?.stop(); });

function assertErrorBody(r, status, code) {
  assert.equal(r.status, status, `HTTP ${r.status} ${r.text}`);
  assert.ok(r.json && typeof r.json === 'object', `error body is not JSON: ${r.text}`);
  assert.equal(typeof r.json.code, 'string', `no code in ${r.text}`);
  assert.equal(typeof r.json.message, 'string', `no message in ${r.text}`);
  if (code) assert.equal(r.json.code, code, r.text);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
}

describe('single publish', () => {
  it('answers 202 {id, topic} with a generated UUIDv4 id', async () => {
    const r = await publish(node, { topic: TOPIC, event_type: 'call.status', data: { status: 'ringing' } });
    assert.equal(r.status, 202, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(Object.keys(r.json).sort(), ['id', 'topic']);
    assert.equal(r.json.topic, TOPIC);
    assert.match(r.json.id, UUID_V4);
    const r2 = await publish(node, { topic: TOPIC, event_type: 'call.status' });
    assert.notEqual(r2.json.id, r.json.id, 'generated ids repeat');
  });

  it('keeps the id the publisher gives', async () => {
    const id = uniq('order-');
    const r = await publish(node, { id, topic: TOPIC, event_type: 'sales.order.created', data: {} });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json, { id, topic: TOPIC });
  });

  it('accepts every configured API key', async () => {
    const r = await publish(node, { topic: TOPIC, event_type: 'call.status' }, { apiKey: 'second-key' });
    assert.equal(r.status, 202, r.text);
  });

  it('answers 401 without or with a wrong API key', async () => {
    const m0 = (await metrics(node)).herald_api_key_failures_total;
    const body = { topic: TOPIC, event_type: 'call.status' };
    assertErrorBody(await publish(node, body, { apiKey: null }), 401);
    assertErrorBody(await publish(node, body, { apiKey: 'wrong' }), 401);
    assertErrorBody(await publish(node, body, { apiKey: `${API_KEY}x` }), 401);
    assertErrorBody(await publish(node, body, { apiKey: API_KEY.slice(0, -1) }), 401);
    assertErrorBody(await publish(node, body, { apiKey: null, headers: { authorization: API_KEY } }), 401);
    assertErrorBody(await publish(node, body, { apiKey: null, headers: { authorization: `Basic ${API_KEY}` } }), 401);
    // a JWT is not an API key
    assertErrorBody(await publish(node, body, { apiKey: await hs256(ids.admin()) }), 401);
    const m1 = (await metrics(node)).herald_api_key_failures_total;
    assert.ok(m1 >= m0 + 7, `herald_api_key_failures_total ${m0} -> ${m1}`);
  });

  it('checks the API key before looking at the body', async () => {
    assertErrorBody(await publish(node, 'not json', { apiKey: 'wrong' }), 401);
  });

  const invalid = [
    ['bad JSON', '{"topic":'],
    ['not JSON at all', 'hello'],
    ['an empty body', ''],
    ['an array', '[]'],
    ['a string', '"x"'],
    ['missing event_type', JSON.stringify({ topic: TOPIC, data: {} })],
    ['event_type not a string', JSON.stringify({ topic: TOPIC, event_type: 5 })],
    ['empty event_type', JSON.stringify({ topic: TOPIC, event_type: '' })],
    ['event_type not a dotted name', JSON.stringify({ topic: TOPIC, event_type: 'call status!' })],
    ['event_type with an empty part', JSON.stringify({ topic: TOPIC, event_type: 'call..status' })],
    ['data an array', JSON.stringify({ topic: TOPIC, event_type: 'a.b', data: [1] })],
    ['data a string', JSON.stringify({ topic: TOPIC, event_type: 'a.b', data: 'x' })],
    ['topic not a string', JSON.stringify({ topic: 5, event_type: 'a.b' })],
    ['id not a string', JSON.stringify({ id: 5, topic: TOPIC, event_type: 'a.b' })],
    ['audience not an object', JSON.stringify({ topic: TOPIC, event_type: 'a.b', audience: 'x' })],
    ['audience.org_ids not an array', JSON.stringify({ topic: TOPIC, event_type: 'a.b', audience: { org_ids: 'o1' } })],
    ['broadcast not a bool', JSON.stringify({ topic: TOPIC, event_type: 'a.b', broadcast: 'yes' })],
    ['trace not an object', JSON.stringify({ topic: TOPIC, event_type: 'a.b', trace: 'x' })],
    ['no topic and no broadcast', JSON.stringify({ event_type: 'a.b' })],
    ['broadcast without a tenant and no topic', JSON.stringify({ event_type: 'a.b', broadcast: true })],
  ];
  for (const [name, body] of invalid) {
    it(`answers 400 INVALID_MESSAGE for ${name}`, async () => {
      assertErrorBody(await publish(node, body), 400, 'INVALID_MESSAGE');
    });
  }

  const badTopics = [
    ['a * wildcard', 'customer_id:c1:call:*'],
    ['a > wildcard', 'customer_id:c1:call:>'],
    ['an empty topic', ''],
    ['an empty segment', 'customer_id::call:x1'],
    ['a bad character', 'customer_id:c1:call:x/1'],
    ['17 segments', Array(17).fill('a').join(':')],
    ['a 129-character segment', `customer_id:c1:call:${'q'.repeat(129)}`],
    ['over 256 bytes', Array(3).fill('w'.repeat(100)).join(':')],
  ];
  for (const [name, topic] of badTopics) {
    it(`answers 422 INVALID_TOPIC for ${name}`, async () => {
      assertErrorBody(await publish(node, { topic, event_type: 'a.b' }), 422, 'INVALID_TOPIC');
    });
  }

  it('publishes any well-formed topic, scope rules are for subscribers', async () => {
    for (const topic of ['a', 'tenant:t1:order:o1', Array(16).fill('a').join(':'), `x:${'q'.repeat(128)}`]) {
      const r = await publish(node, { topic, event_type: 'a.b' });
      assert.equal(r.status, 202, `${topic}: ${r.text}`);
    }
  });

  it('accepts a broadcast with a tenant and no topic', async () => {
    const r = await publish(node, { event_type: 'sales.order.created', broadcast: true, audience: { tenant_id: 't1' }, data: {} });
    assert.equal(r.status, 202, r.text);
    assert.equal(typeof r.json.id, 'string');
  });

  it('counts accepted and refused publishes', async () => {
    const m0 = await metrics(node);
    await publish(node, { topic: TOPIC, event_type: 'a.b' });
    await publish(node, { topic: TOPIC });
    const m1 = await metrics(node);
    assert.ok(m1.herald_publishes_total >= m0.herald_publishes_total + 1);
    assert.ok(m1.herald_publish_rejected_total >= m0.herald_publish_rejected_total + 1);
  });

  it('a refused publish delivers nothing', async (t) => {
    const c = await connect(node, await hs256(ids.admin()));
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const run = uniq();
    await publish(node, { topic: TOPIC, event_type: 'bad type', data: { run } });
    await publish(node, { topic: TOPIC, event_type: 'a.b', data: { run }, audience: 'x' });
    await publish(node, { topic: TOPIC, event_type: 'a.b', data: { run } }, { apiKey: 'wrong' });
    await publish(node, { topic: TOPIC, event_type: 'a.b', data: { run, ok: true } });
    const [ev] = await c.events(1, (m) => m.data?.run === run);
    assert.equal(ev.data.ok, true);
    await sleep(200);
    assert.deepEqual(c.peek(isEvent), []);
  });
});

describe('body limit', () => {
  it('answers 413 over limits.max_body_bytes, with a JSON error body', async (t) => {
    const small = await startNode({ limits: { max_body_bytes: 1024 } });
    t.after(() => small.stop());
    const ok = await publish(small, { topic: TOPIC, event_type: 'a.b', data: { s: 'x'.repeat(800) } });
    assert.equal(ok.status, 202, ok.text);
    assertErrorBody(await publish(small, { topic: TOPIC, event_type: 'a.b', data: { s: 'x'.repeat(2000) } }), 413);
    assertErrorBody(await publishBatch(small, [{ topic: TOPIC, event_type: 'a.b', data: { s: 'x'.repeat(2000) } }]), 413);
    // the node still serves afterwards
    assert.equal((await publish(small, { topic: TOPIC, event_type: 'a.b' })).status, 202);
  });

  it('answers 413 at the default 64 KiB', async () => {
    assertErrorBody(await publish(node, { topic: TOPIC, event_type: 'a.b', data: { s: 'x'.repeat(70 * 1024) } }), 413);
    const r = await publish(node, { topic: TOPIC, event_type: 'a.b', data: { s: 'x'.repeat(60 * 1024) } });
    assert.equal(r.status, 202, r.text);
  });
});

describe('batch', () => {
  it('answers 200 with one result per event, in order', async (t) => {
    const c = await connect(node, await hs256(ids.admin()));
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const run = uniq();
    const id = uniq('b-');
    const r = await publishBatch(node, [
      { topic: TOPIC, event_type: 'call.status', data: { run, n: 0 } },
      { topic: TOPIC, data: { run, n: 1 } },
      { topic: 'customer_id:c1:call:*', event_type: 'call.status', data: { run, n: 2 } },
      { id, topic: TOPIC, event_type: 'call.status', data: { run, n: 3 } },
      'not an object',
      { topic: TOPIC, event_type: 'call.status', data: [1] },
    ]);
    assert.equal(r.status, 200, r.text);
    const res = r.json.results;
    assert.equal(res.length, 6, r.text);
    assert.equal(res[0].status, 202);
    assert.match(res[0].id, UUID_V4);
    assert.equal(res[0].topic, TOPIC);
    assert.deepEqual({ status: res[1].status, code: res[1].code }, { status: 400, code: 'INVALID_MESSAGE' });
    assert.equal(typeof res[1].message, 'string');
    assert.deepEqual({ status: res[2].status, code: res[2].code }, { status: 422, code: 'INVALID_TOPIC' });
    assert.deepEqual(res[3], { status: 202, id, topic: TOPIC });
    assert.deepEqual({ status: res[4].status, code: res[4].code }, { status: 400, code: 'INVALID_MESSAGE' });
    assert.deepEqual({ status: res[5].status, code: res[5].code }, { status: 400, code: 'INVALID_MESSAGE' });
    const got = await c.events(2, (m) => m.data?.run === run);
    assert.deepEqual(got.map((m) => m.data.n), [0, 3]);
    await sleep(200);
    assert.deepEqual(c.peek((m) => isEvent(m) && m.data?.run === run), []);
  });

  it('refuses a malformed batch as a whole', async () => {
    assertErrorBody(await publishBatch(node, 'nope'), 400, 'INVALID_MESSAGE');
    assertErrorBody(await publishBatch(node, '{}'), 400, 'INVALID_MESSAGE');
    assertErrorBody(await publishBatch(node, '{"events":{}}'), 400, 'INVALID_MESSAGE');
    assertErrorBody(await publishBatch(node, '[]'), 400, 'INVALID_MESSAGE');
  });

  it('answers an empty batch with no results', async () => {
    const r = await publishBatch(node, []);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { results: [] });
  });

  it('refuses more than limits.max_batch_events', async (t) => {
    const small = await startNode({ limits: { max_batch_events: 3 } });
    t.after(() => small.stop());
    const ev = { topic: TOPIC, event_type: 'a.b' };
    assert.equal((await publishBatch(small, [ev, ev, ev])).status, 200);
    const r = await publishBatch(small, [ev, ev, ev, ev]);
    assert.ok(r.status >= 400 && r.status < 500, `HTTP ${r.status}`);
    assertErrorBody(r, r.status);
  });

  it('needs the API key', async () => {
    assertErrorBody(await publishBatch(node, [{ topic: TOPIC, event_type: 'a.b' }], { apiKey: null }), 401);
    assertErrorBody(await publishBatch(node, [{ topic: TOPIC, event_type: 'a.b' }], { apiKey: 'bad' }), 401);
  });
});

describe('examples/publish.sh', () => {
  const script = join(SOURCE_DIR, 'examples', 'publish.sh');
  const haveCurl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some(existsSync);

  it('publishes an event that a subscriber receives', { skip: !haveCurl && 'curl is not installed' }, async (t) => {
    const c = await connect(node, await hs256(ids.admin()));
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const { stdout } = await promisify(execFile)('bash',
      [script, '-u', node.url, '-k', API_KEY, 'customer_id:c1:call:sh1', 'call.status', '{"status":"answered","who":"it\'s me"}'],
      { timeout: 10_000 });
    assert.match(stdout, /"id"/);
    const [ev] = await c.events(1);
    assert.equal(ev.topic, 'customer_id:c1:call:sh1');
    assert.deepEqual(ev.data, { status: 'answered', who: "it's me" });
  });

  it('exits non-zero when the node refuses', { skip: !haveCurl && 'curl is not installed' }, async () => {
    await assert.rejects(promisify(execFile)('bash',
      [script, '-u', node.url, '-k', 'wrong-key', 'customer_id:c1:call:sh1', 'call.status'], { timeout: 10_000 }));
  });
});
