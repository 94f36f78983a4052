// Event schemas (PROTOCOL §6 "Schemas", docs/schemas.md): publishes that
// break a bound JSON Schema are refused with 422 SCHEMA_VIOLATION and the
// failing path; the envelope endpoint's frames follow
// seeds/websocket-event.schema.json, checked here by an independent
// validator (ajv, draft 2020-12).

import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import {
  startNode, connect, hs256, publish, publishBatch, publishOk, isEvent, sleep, SOURCE_DIR,
} from './lib/index.mjs';

const SEED_FILE = join(SOURCE_DIR, 'config', 'schemas', 'websocket-event.schema.json');
const SEED = JSON.parse(readFileSync(SEED_FILE, 'utf8'));
const NOTE_TOPIC = 'customer_id:c1:notification:n1';
const ISO_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const FRAME_KEYS = ['data', 'event_id', 'event_type', 'timestamp', 'user_id'];

// The independent validator. `format` is not asserted (ajv-formats is not a
// dependency; Herald does not check formats either), and the seed's
// external $ref gets a stub that accepts anything, as Herald does without
// a local copy of match_response.json.
const ajv = new Ajv2020({ validateFormats: false, allErrors: true });
ajv.addSchema({
  $id: 'https://cityresourcegraph.com/schemas/match_response.json',
  definitions: { match: {} },
});
const validateFrame = ajv.compile(SEED);

/** The envelope Herald builds from a publish (docs/schemas.md). */
function envelopeOf(body) {
  const userId = typeof body.user_id === 'string' && body.user_id.trim() !== ''
    ? body.user_id.trim()
    : (typeof body.data?.user_id === 'string' && body.data.user_id.trim() !== ''
      ? body.data.user_id.trim() : undefined);
  return {
    event_type: body.event_type,
    event_id: body.id ?? randomUUID(),
    timestamp: new Date().toISOString().replace('Z', '000Z'),
    ...(userId === undefined ? {} : { user_id: userId }),
    data: body.data ?? {},
  };
}

const SALES_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['order_id'],
  properties: {
    order_id: { type: 'string', minLength: 1 },
    amount: { type: 'number', minimum: 0 },
    currency: { const: 'EUR' },
  },
};

let node;
let schemaDir;

before(async () => {
  schemaDir = mkdtempSync(join(tmpdir(), 'herald-schemas-'));
  writeFileSync(join(schemaDir, 'sales.json'), JSON.stringify(SALES_SCHEMA));
  node = await startNode({
    permissions: { resource_types: ['call', 'notification'] },
    schemas: {
      bindings: [
        { topic: 'customer_id:*:notification:>', file: SEED_FILE, validates: 'envelope' },
        { event_type: 'sales.*', file: join(schemaDir, 'sales.json') },
      ],
    },
  });
});

after(async () => {
  await node?.stop();
  if (schemaDir) rmSync(schemaDir, { recursive: true, force: true });
});

function note(data, extra = {}) {
  return { topic: NOTE_TOPIC, event_type: 'notification', data, ...extra };
}

function assertViolation(r, path) {
  assert.equal(r.status, 422, `HTTP ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(Object.keys(r.json).sort(), ['code', 'message', 'path'], r.text);
  assert.equal(r.json.code, 'SCHEMA_VIOLATION', r.text);
  assert.equal(r.json.path, path, r.text);
  assert.ok(r.json.message.startsWith(`${path || '(root)'}: `), `message does not name the path: ${r.text}`);
}

// Each case: a publish to an envelope-bound topic, the path Herald must
// report (null: accepted). ajv judges the same envelope and must agree.
const envelopeCases = [
  ['a notification', note({ title: 'Hello', message: 'World' }), null],
  ['a notification with every field', note({
    title: 'T', message: 'M', priority: 'urgent', action_url: 'https://x/y', expires_at: '2030-01-01T00:00:00Z',
  }, { user_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }), null],
  ['a title of exactly 200 characters', note({ title: 't'.repeat(200), message: 'm' }), null],
  ['a title of 200 non-ASCII characters', note({ title: 'é'.repeat(200), message: 'm' }), null],
  ['a match event (external $ref accepts anything)', { ...note({ match: { any: ['thing'] }, reason: 'price_change' }), event_type: 'match_found' }, null],
  ['a resource event', { ...note({ resource_id: 'r1', changes: { price: 3 }, affected_matches: ['m1'] }), event_type: 'resource_updated' }, null],
  ['a system event', { ...note({ component: 'queue', status: 'maintenance' }), event_type: 'system_status' }, null],
  ['a title over maxLength', note({ title: 't'.repeat(201), message: 'm' }), '/data/title'],
  ['a message over maxLength', note({ title: 't', message: 'm'.repeat(1001) }), '/data/message'],
  ['a priority outside the enum', note({ title: 't', message: 'm', priority: 'asap' }), '/data/priority'],
  ['a match reason outside the enum', { ...note({ match: 1, reason: 'whim' }), event_type: 'match_found' }, '/data/reason'],
  ['an item of the wrong type', { ...note({ resource_id: 'r', changes: {}, affected_matches: [1] }), event_type: 'resource_updated' }, '/data/affected_matches/0'],
  ['a required member missing (no oneOf branch)', note({ title: 'only a title' }), '/data'],
  ['data matching two oneOf branches', note({ title: 't', message: 'm', component: 'api', status: 'down' }), '/data'],
  ['an event_type outside the enum', { ...note({ title: 't', message: 'm' }), event_type: 'call.status' }, '/event_type'],
];

describe('publishes to an envelope-bound topic', () => {
  for (const [name, body, path] of envelopeCases) {
    it(`${path === null ? 'accepts' : 'refuses'} ${name}`, async () => {
      const ajvSays = validateFrame(envelopeOf(body));
      assert.equal(ajvSays, path === null, `ajv disagrees: ${JSON.stringify(validateFrame.errors)}`);
      const r = await publish(node, body);
      if (path === null) assert.equal(r.status, 202, r.text);
      else assertViolation(r, path);
    });
  }

  it('names the failing keyword in the message', async () => {
    const r = await publish(node, note({ title: 'x'.repeat(300), message: 'm' }));
    assertViolation(r, '/data/title');
    assert.equal(r.json.message, '/data/title: must be at most 200 characters long (got 300)');
    const r2 = await publish(node, note({}));
    assertViolation(r2, '/data');
    assert.match(r2.json.message, /matches none of the 4 schemas of oneOf/);
    assert.match(r2.json.message, /notification_event: required property "title" is missing/);
  });

  it('leaves other topics alone', async () => {
    const r = await publish(node, { topic: 'customer_id:c1:call:x1', event_type: 'call.status', data: { title: 5 } });
    assert.equal(r.status, 202, r.text);
  });
});

describe('a data-bound event_type', () => {
  it('applies the schema to data and reports paths under /data', async () => {
    const base = { topic: 'customer_id:c1:call:x1', event_type: 'sales.order' };
    assert.equal((await publish(node, { ...base, data: { order_id: 'o1', amount: 3, currency: 'EUR' } })).status, 202);
    assertViolation(await publish(node, { ...base, data: { amount: 3 } }), '/data');
    assertViolation(await publish(node, { ...base, data: { order_id: 'o1', amount: -1 } }), '/data/amount');
    const r = await publish(node, { ...base, data: { order_id: 'o1', currency: 'USD' } });
    assertViolation(r, '/data/currency');
    assert.equal(r.json.message, '/data/currency: must be equal to "EUR"');
    // No data at all is `{}`: the required member is missing.
    assertViolation(await publish(node, base), '/data');
    // `*` is one dot-separated part.
    assert.equal((await publish(node, { ...base, event_type: 'sales.order.created', data: {} })).status, 202);
  });
});

describe('batch publishes', () => {
  it('answer per event, with the path of each violation', async () => {
    const r = await publishBatch(node, [
      note({ title: 'a', message: 'b' }),
      note({ title: 't'.repeat(201), message: 'm' }),
      { topic: 'customer_id:c1:call:x1', event_type: 'call.status' },
      note({ title: 'a', message: 'b', priority: 'never' }),
      { topic: 'customer_id:c1:call:x1', event_type: 'sales.refund', data: {} },
    ]);
    assert.equal(r.status, 200, r.text);
    const res = r.json.results;
    assert.deepEqual(res.map((x) => x.status), [202, 422, 202, 422, 422], r.text);
    assert.equal(res[1].code, 'SCHEMA_VIOLATION');
    assert.equal(res[1].path, '/data/title');
    assert.match(res[1].message, /^\/data\/title: /);
    assert.equal(res[3].path, '/data/priority');
    assert.equal(res[4].path, '/data');
    assert.equal(res[0].path, undefined);
    assert.equal(typeof res[0].id, 'string');
  });
});

describe('delivery', () => {
  it('a refused event reaches nobody; an accepted one does', async () => {
    const token = await hs256({ sub: 'u1', customer_id: 'c1', roles: ['admin'] });
    const c = await connect(node, token);
    await c.subscribe('customer_id:c1:notification:*');
    const bad = randomUUID();
    const good = randomUUID();
    assertViolation(await publish(node, note({ title: 'only' }, { id: bad })), '/data');
    await publishOk(node, note({ title: 'ok', message: 'fine' }, { id: good }));
    const [ev] = await c.events(1);
    assert.equal(ev.id, good);
    await sleep(100);
    assert.equal(c.peek((m) => isEvent(m) && m.id === bad).length, 0);
    await c.close();
  });
});

describe('configuration', () => {
  it('a missing schema file stops the node at start with one line', async () => {
    await assert.rejects(
      startNode({ schemas: { bindings: [{ topic: 'a:>', file: 'missing.schema.json' }] } }),
      (e) => {
        assert.match(e.message, /config: schemas\.bindings\[0\]\.file: cannot read \S*missing\.schema\.json: No such file or directory/);
        return true;
      },
    );
  });
});

// The envelope endpoint: its frames are exactly the envelope, validated by
// ajv against the seed.
test('frames of /ws/events validate against websocket-event.schema.json', async () => {
  const me = randomUUID();
  const other = randomUUID();
  const token = await hs256({ sub: me, customer_id: 'c1', roles: ['admin'] });
  const c = await connect(node, token, { url: `ws://${node.address}:${node.port}/ws/events` });
  await c.subscribe('customer_id:c1:notification:*');
  const mine = randomUUID();
  const theirs = randomUUID();
  const everyone = randomUUID();
  await publishOk(node, note({ title: 'For you', message: 'Hello', priority: 'high' }, { id: mine, user_id: me }));
  await publishOk(node, note({ title: 'Not for you', message: 'Hello' }, { id: theirs, user_id: other }));
  await publishOk(node, {
    ...note({ component: 'database', status: 'degraded', message: 'slow' }),
    id: everyone, event_type: 'system_status',
  });
  const frames = await c.take((m) => typeof m.event_id === 'string', 2, 5000, 'two envelope frames');
  for (const f of frames) {
    assert.ok(validateFrame(f), `ajv: ${JSON.stringify(validateFrame.errors)} in ${JSON.stringify(f)}`);
    assert.match(f.timestamp, ISO_US);
  }
  const [a, b] = frames;
  assert.deepEqual(Object.keys(a).sort(), FRAME_KEYS);
  assert.equal(a.event_id, mine);
  assert.equal(a.user_id, me);
  assert.deepEqual(a.data, { title: 'For you', message: 'Hello', priority: 'high' });
  assert.equal(a.event_type, 'notification');
  // Without a target user the frame has no user_id, and nothing else.
  assert.deepEqual(Object.keys(b).sort(), FRAME_KEYS.filter((k) => k !== 'user_id'));
  assert.equal(b.event_id, everyone);
  // user_id targets that user's connections only.
  await sleep(100);
  assert.equal(c.peek((m) => m.event_id === theirs).length, 0);
  await c.close();
});
