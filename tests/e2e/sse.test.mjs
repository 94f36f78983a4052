// PROTOCOL §5: GET /api/events/stream, the server-sent events bridge, with
// a real client (the `eventsource` package) and raw HTTP for what an
// EventSource hides (headers, comments, exact bytes). Also §1 "Positions
// and history" on SSE: the `id:` line and Last-Event-ID.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, hs256, publish, publishOk, metrics, sleep, waitFor, uniq, algNone, HS256_SECRET,
} from './lib/index.mjs';
import {
  openSse, rawStream, streamPath, parseBlock, closeAllSse, settle, STREAM_PATH,
} from './lib/sse.mjs';

// Identities of the audience tests (PROTOCOL §3 claims).
const WHO = {
  A: { sub: 'u1', tenant_id: 't1', org_id: 'o1', roles: ['r1', 'r2'] },
  B: { sub: 'u2', tenant_id: 't1', org_id: 'o2', roles: ['r3'] },
  C: { sub: 'u3', tenant_id: 't2', org_id: 'o1', roles: ['r1'] },
  D: { sub: 'u4', tenant_id: 't1' },
};
const tokenOf = (name) => hs256(WHO[name]);

const nodes = [];
async function node0(overrides = {}) {
  const n = await startNode(overrides);
  nodes.push(n);
  return n;
}
let node;
before(async () => { node = await node0(); });
after(async () => {
  closeAllSse();
  for (const n of nodes) await n.stop();
});

/**
 * openSse, then settle (a probe has come through), so that what a test
 * publishes next cannot fall in the gap between the stream's head and its
 * registration (that gap is tested on its own, below). settleOpts: tenant
 * (default 't1'), eventType (one the stream's patterns take).
 */
async function openLive(n, token, opts = {}, settleOpts = {}) {
  const c = await openSse(n, token, opts);
  return settle(n, c, { tenant: 't1', ...settleOpts });
}

/** The same for a raw stream: probes until one is in the body. */
async function settleRaw(n, s, { tenant = 't1', eventType = 'zz.probe' } = {}) {
  const probe = uniq('rawprobe-');
  const deadline = Date.now() + 3000;
  while (!s.text().includes(probe)) {
    if (Date.now() > deadline) throw new Error('no probe reached the raw stream');
    await publishOk(n, { event_type: eventType, broadcast: true, audience: { tenant_id: tenant }, data: { probe } });
    await sleep(50);
  }
  return s;
}

/** A broadcast-only publish to a tenant (no topic). */
function bcast(n, tenant, eventType, data = {}, extra = {}) {
  return publishOk(n, { event_type: eventType, broadcast: true, audience: { tenant_id: tenant }, data, ...extra });
}

/** Events of one run (payload.run), with their payload.n, as received. */
const runNs = (client, run) => client.ofRun(run).map((m) => m.json.payload.n);
const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, `HTTP ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, `content-type of a ${status}`);
  let body;
  try { body = JSON.parse(r.text); } catch { assert.fail(`error body is not JSON: ${r.text}`); }
  assert.equal(body.code, code, r.text);
  assert.equal(typeof body.message, 'string', r.text);
}

/** GET of the stream with fetch; the body is read only for non-200. */
async function getStream(n, path, headers = {}) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  try {
    const res = await fetch(n.url + path, { headers, signal: ac.signal });
    const text = res.status === 200 ? '' : await res.text();
    return { status: res.status, headers: res.headers, text };
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

describe('identity (401) and the response head', () => {
  it('answers 401 UNAUTHORIZED without a token', async () => {
    assertJsonError(await getStream(node, STREAM_PATH), 401, 'UNAUTHORIZED');
    assertJsonError(await getStream(node, `${STREAM_PATH}?token=`), 401, 'UNAUTHORIZED');
    assertJsonError(await getStream(node, STREAM_PATH, { authorization: 'Bearer ' }), 401, 'UNAUTHORIZED');
  });

  it('answers 401 UNAUTHORIZED to a bad token, in the header or in ?token=', async () => {
    const bad = {
      garbage: 'not-a-jwt',
      'wrong secret': await hs256(WHO.A, { secret: `${HS256_SECRET}-other` }),
      expired: await hs256(WHO.A, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      'alg none': algNone(WHO.A),
    };
    for (const [what, tok] of Object.entries(bad)) {
      const viaHeader = await getStream(node, STREAM_PATH, { authorization: `Bearer ${tok}` });
      assert.equal(viaHeader.status, 401, `${what} (header): HTTP ${viaHeader.status}`);
      assertJsonError(viaHeader, 401, 'UNAUTHORIZED');
      const viaQuery = await getStream(node, streamPath({ token: tok }));
      assert.equal(viaQuery.status, 401, `${what} (?token=): HTTP ${viaQuery.status}`);
      assertJsonError(viaQuery, 401, 'UNAUTHORIZED');
    }
  });

  it('answers 401 to a valid token without tenant_id or without sub', async () => {
    const cases = {
      'no tenant_id': await hs256({ sub: 'u1', org_id: 'o1', roles: ['r1'] }),
      'empty tenant_id': await hs256({ sub: 'u1', tenant_id: '' }),
      'no sub': await hs256({ sub: undefined, tenant_id: 't1' }),
    };
    for (const [what, tok] of Object.entries(cases)) {
      const h = await getStream(node, STREAM_PATH, { authorization: `Bearer ${tok}` });
      assert.equal(h.status, 401, `${what} (header): HTTP ${h.status}`);
      assertJsonError(h, 401, 'UNAUTHORIZED');
      const q = await getStream(node, streamPath({ token: tok }));
      assert.equal(q.status, 401, `${what} (?token=): HTTP ${q.status}`);
      assertJsonError(q, 401, 'UNAUTHORIZED');
    }
  });

  it('EventSource sees the 401 as a failure and does not open', async () => {
    const tok = await hs256({ sub: 'u1' });
    await assert.rejects(openSse(node, tok), (e) => e.code === 401);
    await assert.rejects(openSse(node, 'nope', { via: 'query' }), (e) => e.code === 401);
  });

  it('answers 200 with exactly the four headers of §5, chunked', async () => {
    const tok = await tokenOf('A');
    for (const [what, path, headers] of [
      ['Authorization', STREAM_PATH, { authorization: `Bearer ${tok}` }],
      ['?token=', streamPath({ token: tok }), {}],
    ]) {
      const s = await rawStream(node, path, headers);
      try {
        assert.equal(s.status, 200, what);
        assert.equal(s.headers['content-type'], 'text/event-stream', what);
        assert.equal(s.headers['cache-control'], 'no-cache, no-transform', what);
        assert.equal(s.headers.connection, 'keep-alive', what);
        assert.equal(s.headers['x-accel-buffering'], 'no', what);
        assert.equal(s.headers['transfer-encoding'], 'chunked', what);
        assert.equal(s.headers['content-length'], undefined, what);
        // each of those once
        const names = s.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
        for (const h of ['content-type', 'cache-control', 'connection', 'x-accel-buffering']) {
          assert.equal(names.filter((x) => x === h).length, 1, `${h} repeated: ${s.rawHeaders}`);
        }
      } finally {
        await s.close();
      }
    }
    // and fetch agrees (what a browser-like client sees)
    const f = await getStream(node, STREAM_PATH, { authorization: `Bearer ${tok}` });
    assert.equal(f.status, 200);
    assert.equal(f.headers.get('content-type'), 'text/event-stream');
  });

  it('frames are `id: <pos>\\ndata: <json>\\n\\n` with id, payload, timestamp, organizationId', async () => {
    const tok = await tokenOf('A');
    const s = await rawStream(node, STREAM_PATH, { authorization: `Bearer ${tok}` });
    try {
      await settleRaw(node, s);
      const run = uniq();
      const t0 = Date.now();
      await bcast(node, 't1', 'frame.check', { run, n: 0, nested: { a: [1, 2, { b: null }] }, s: 'x"y\\z' });
      await bcast(node, 't1', 'frame.check', { run, n: 1 }, { audience: { tenant_id: 't1', org_ids: ['o1', 'o2'] } });
      await publishOk(node, { event_type: 'frame.empty', broadcast: true, audience: { tenant_id: 't1' } });
      const t1 = Date.now();
      const frames = await s.waitFor(() => {
        const f = s.frames().filter((b) => !b.includes('"probe"'));
        return f.length >= 3 ? f : null;
      }, 3000, 'three frames');
      assert.equal(frames.length, 3, `more frames than published: ${JSON.stringify(frames)}`);
      const ids = [];
      for (const block of frames.slice(0, 3)) {
        const m = /^id: ([^\n]+)\ndata: ([^\n]+)$/.exec(block);
        assert.ok(m, `frame not "id: <pos>\\ndata: <json>": ${JSON.stringify(block)}`);
        ids.push(m[1]);
        const data = JSON.parse(m[2]);
        assert.deepEqual(Object.keys(data), ['id', 'payload', 'timestamp', 'organizationId'], m[2]);
        assert.ok(Number.isInteger(data.timestamp), m[2]);
        assert.ok(data.timestamp >= t0 - 1000 && data.timestamp <= t1 + 1000,
          `timestamp ${data.timestamp} is not epoch ms near ${t0}..${t1}`);
      }
      const [d0, d1, d2] = frames.slice(0, 3).map((b) => JSON.parse(parseBlock(b).data));
      assert.deepEqual(d0.payload, { run, n: 0, nested: { a: [1, 2, { b: null }] }, s: 'x"y\\z' });
      assert.equal(d0.id, 'frame.check');
      assert.equal(d0.organizationId, '');
      assert.equal(d1.organizationId, 'o1', 'organizationId is the first org of the audience');
      assert.equal(d2.id, 'frame.empty');
      assert.deepEqual(d2.payload, {}, 'an event without data has payload {}');
      assert.equal(new Set(ids).size, 3, `ids repeat: ${ids}`);
      for (const id of ids) assert.ok(id.length > 0 && !/\s/.test(id), `id ${JSON.stringify(id)}`);
    } finally {
      await s.close();
    }
  });

  it('sends no heartbeat before sse.heartbeat_ms (default 30 s)', async () => {
    const s = await rawStream(node, STREAM_PATH, { authorization: `Bearer ${await tokenOf('A')}` });
    try {
      await sleep(600);
      assert.doesNotMatch(s.text(), /:heartbeat/);
    } finally {
      await s.close();
    }
  });

  it('counts open streams in herald_sse_connections', async () => {
    // every stream of the tests above is closed: the gauge goes back to 0
    await waitFor(async () => (await metrics(node)).herald_sse_connections === 0,
      { timeoutMs: 5000, message: 'herald_sse_connections == 0 once earlier streams are closed' });
    const m0 = 0;
    const a = await openSse(node, await tokenOf('A'));
    const b = await openSse(node, await tokenOf('C'), { via: 'query' });
    await waitFor(async () => (await metrics(node)).herald_sse_connections === m0 + 2,
      { timeoutMs: 3000, message: `herald_sse_connections == ${m0 + 2}` });
    a.close();
    b.close();
    await waitFor(async () => (await metrics(node)).herald_sse_connections === m0,
      { timeoutMs: 3000, message: `herald_sse_connections back to ${m0} after the clients left` });
  });
});

describe('a fresh stream', () => {
  it('delivers an event published as soon as the stream is open (100 fresh streams)', { timeout: 60_000 }, async () => {
    // A client has no other sign than `open` (the response head) that the
    // stream is live: what is published after it must arrive.
    const lost = [];
    const N = 100;
    for (let i = 0; i < N; i++) {
      const s = await openSse(node, await tokenOf('A'));
      try {
        const run = uniq();
        await bcast(node, 't1', 'fresh.x', { run, n: 0 });
        await bcast(node, 't1', 'fresh.x', { run, n: 1 });
        await settle(node, s, { tenant: 't1' }); // surely live now: whatever of the run arrives has arrived
        await sleep(20);
        const got = runNs(s, run);
        if (got.length !== 2) lost.push(`stream ${i} got ${JSON.stringify(got)}`);
      } finally {
        s.close();
      }
    }
    assert.deepEqual(lost, [], `events published right after \`open\` were lost on ${lost.length}/${N} fresh streams`);
  });
});

describe('audience', () => {
  const streams = {};
  before(async () => {
    for (const name of Object.keys(WHO)) {
      streams[name] = await openLive(node, await tokenOf(name), {}, { tenant: WHO[name].tenant_id });
    }
  });
  after(() => { for (const s of Object.values(streams)) s.close(); });

  /**
   * Publishes every case (`publish`: the body without event_type/data.run),
   * then a marker per tenant, and checks that each stream received exactly
   * the cases whose `to` names it, in order, with the expected
   * organizationId.
   */
  async function check(cases) {
    const run = uniq();
    for (const [i, c] of cases.entries()) {
      const body = { event_type: 'aud.case', broadcast: true, ...c.publish };
      body.data = { ...(c.publish.data ?? {}), run, n: i };
      const r = await publish(node, body);
      assert.equal(r.status, 202, `case ${c.name}: publish answered ${r.status} ${r.text}`);
    }
    for (const t of ['t1', 't2']) await bcast(node, t, 'aud.marker', { run, marker: t });
    for (const [name, s] of Object.entries(streams)) {
      await s.take((m) => m.json?.payload?.run === run && m.json.payload.marker, 1, 3000, `the marker on stream ${name}`);
    }
    await sleep(150);
    const problems = [];
    for (const [name, s] of Object.entries(streams)) {
      const got = s.ofRun(run).filter((m) => m.json.payload.marker === undefined);
      const gotNames = got.map((m) => cases[m.json.payload.n].name);
      const want = cases.filter((c) => c.to.includes(name)).map((c) => c.name);
      if (JSON.stringify(gotNames) !== JSON.stringify(want)) {
        problems.push(`stream ${name} ${JSON.stringify(WHO[name])}: got ${JSON.stringify(gotNames)}, want ${JSON.stringify(want)}`);
      }
      for (const m of got) {
        const c = cases[m.json.payload.n];
        if (m.json.organizationId !== (c.org ?? '')) {
          problems.push(`case ${c.name}: organizationId ${JSON.stringify(m.json.organizationId)}, want ${JSON.stringify(c.org ?? '')}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  }

  it('tenant: must equal the token\'s tenant_id', () => check([
    { name: 't1', publish: { audience: { tenant_id: 't1' } }, to: ['A', 'B', 'D'] },
    { name: 't2', publish: { audience: { tenant_id: 't2' } }, to: ['C'] },
    { name: 't3 (nobody)', publish: { audience: { tenant_id: 't3' } }, to: [] },
    { name: 'T1 (case differs)', publish: { audience: { tenant_id: 'T1' } }, to: [] },
  ]));

  it('org: org_ids must contain the token\'s org_id (a token without org never matches)', () => check([
    { name: 'o1', publish: { audience: { tenant_id: 't1', org_ids: ['o1'] } }, to: ['A'], org: 'o1' },
    { name: 'o2', publish: { audience: { tenant_id: 't1', org_ids: ['o2'] } }, to: ['B'], org: 'o2' },
    { name: 'o2,o1', publish: { audience: { tenant_id: 't1', org_ids: ['o2', 'o1'] } }, to: ['A', 'B'], org: 'o2' },
    { name: 'o9', publish: { audience: { tenant_id: 't1', org_ids: ['o9'] } }, to: [], org: 'o9' },
    { name: 't2/o1', publish: { audience: { tenant_id: 't2', org_ids: ['o1'] } }, to: ['C'], org: 'o1' },
  ]));

  it('user: user_ids must contain sub', () => check([
    { name: 'u2', publish: { audience: { tenant_id: 't1', user_ids: ['u2'] } }, to: ['B'] },
    { name: 'u1,u4', publish: { audience: { tenant_id: 't1', user_ids: ['u1', 'u4'] } }, to: ['A', 'D'] },
    { name: 'u3 in t1', publish: { audience: { tenant_id: 't1', user_ids: ['u3'] } }, to: [] },
    { name: 'u1 in t2', publish: { audience: { tenant_id: 't2', user_ids: ['u1'] } }, to: [] },
  ]));

  it('role: role_ids must intersect roles', () => check([
    { name: 'r1', publish: { audience: { tenant_id: 't1', role_ids: ['r1'] } }, to: ['A'] },
    { name: 'r2', publish: { audience: { tenant_id: 't1', role_ids: ['r2'] } }, to: ['A'] },
    { name: 'r3,r9', publish: { audience: { tenant_id: 't1', role_ids: ['r3', 'r9'] } }, to: ['B'] },
    { name: 'r9', publish: { audience: { tenant_id: 't1', role_ids: ['r9'] } }, to: [] },
    { name: 'r1 in t2', publish: { audience: { tenant_id: 't2', role_ids: ['r1'] } }, to: ['C'] },
  ]));

  it('combined: every restriction given must hold', () => check([
    { name: 'o1+u1+r2', publish: { audience: { tenant_id: 't1', org_ids: ['o1'], user_ids: ['u1'], role_ids: ['r2'] } }, to: ['A'], org: 'o1' },
    { name: 'o1+u2', publish: { audience: { tenant_id: 't1', org_ids: ['o1'], user_ids: ['u2'] } }, to: [], org: 'o1' },
    { name: 'o2+r1', publish: { audience: { tenant_id: 't1', org_ids: ['o2'], role_ids: ['r1'] } }, to: [], org: 'o2' },
    { name: 'o1,o2+r3', publish: { audience: { tenant_id: 't1', org_ids: ['o1', 'o2'], role_ids: ['r3'] } }, to: ['B'], org: 'o1' },
    { name: 'u1,u2,u4+r1,r3', publish: { audience: { tenant_id: 't1', user_ids: ['u1', 'u2', 'u4'], role_ids: ['r1', 'r3'] } }, to: ['A', 'B'] },
    { name: 't2+o1+u3+r1', publish: { audience: { tenant_id: 't2', org_ids: ['o1'], user_ids: ['u3'], role_ids: ['r1'] } }, to: ['C'], org: 'o1' },
    { name: 't1+o1+u3', publish: { audience: { tenant_id: 't1', org_ids: ['o1'], user_ids: ['u3'] } }, to: [], org: 'o1' },
  ]));

  it('payload forms: tenantId, organizationId(s), recipientUserId(s), recipientRoleId(s), user_id', () => check([
    { name: 'tenantId', publish: { data: { tenantId: 't1' } }, to: ['A', 'B', 'D'] },
    { name: 'tenantId t2', publish: { data: { tenantId: 't2' } }, to: ['C'] },
    { name: 'organizationId', publish: { data: { tenantId: 't1', organizationId: 'o2' } }, to: ['B'], org: 'o2' },
    { name: 'organizationIds', publish: { data: { tenantId: 't1', organizationIds: ['o1', 'o2'] } }, to: ['A', 'B'], org: 'o1' },
    { name: 'recipientUserId', publish: { data: { tenantId: 't1', recipientUserId: 'u4' } }, to: ['D'] },
    { name: 'recipientUserIds', publish: { data: { tenantId: 't1', recipientUserIds: ['u1', 'u2'] } }, to: ['A', 'B'] },
    { name: 'recipientRoleId', publish: { data: { tenantId: 't1', recipientRoleId: 'r3' } }, to: ['B'] },
    { name: 'recipientRoleIds', publish: { data: { tenantId: 't1', recipientRoleIds: ['r2', 'r3'] } }, to: ['A', 'B'] },
    { name: 'combined', publish: { data: { tenantId: 't1', organizationId: 'o1', recipientRoleIds: ['r3'] } }, to: [], org: 'o1' },
    { name: 'user_id', publish: { data: { tenantId: 't1', user_id: 'u2' } }, to: ['B'] },
    // an audience object wins over the payload
    { name: 'audience over payload', publish: { audience: { tenant_id: 't2' }, data: { tenantId: 't1' } }, to: ['C'] },
  ]));

  it('no tenant, or not broadcast: never delivered', () => check([
    { name: 'broadcast, no audience, no tenantId', publish: { topic: 'customer_id:c1:call:x1', data: { organizationId: 'o1' } }, to: [] },
    { name: 'broadcast, audience without tenant', publish: { topic: 'customer_id:c1:call:x1', audience: { org_ids: ['o1'], user_ids: ['u1'] } }, to: [] },
    { name: 'broadcast, empty tenant', publish: { topic: 'customer_id:c1:call:x1', audience: { tenant_id: '' } }, to: [] },
    { name: 'not broadcast', publish: { topic: 'customer_id:c1:call:x1', broadcast: false, audience: { tenant_id: 't1' } }, to: [] },
    { name: 'no broadcast field', publish: { topic: 'customer_id:c1:call:x1', broadcast: undefined, audience: { tenant_id: 't1' } }, to: [] },
    { name: 'broadcast with a topic', publish: { topic: 'customer_id:c1:call:x1', audience: { tenant_id: 't1' } }, to: ['A', 'B', 'D'] },
  ]));

  it('refuses a broadcast-only publish without a tenant (400)', async () => {
    for (const body of [
      { event_type: 'x.y', broadcast: true },
      { event_type: 'x.y', broadcast: true, audience: { org_ids: ['o1'] } },
      { event_type: 'x.y', broadcast: true, data: { organizationId: 'o1' } },
      { event_type: 'x.y', audience: { tenant_id: 't1' } },
    ]) {
      const r = await publish(node, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: HTTP ${r.status} ${r.text}`);
      assert.equal(r.json?.code, 'INVALID_MESSAGE', r.text);
    }
  });
});

describe('pattern', () => {
  const TYPES = ['sales', 'sales.order', 'sales.order.created', 'sales.invoice', 'salesx.order',
    'crm.lead', 'crm.lead.won', 'x.sales.order'];

  /** Opens a stream with `patterns` (any `query`), publishes TYPES to t1,
   * then `marker` (a type the stream takes), and returns the types received. */
  async function typesFor(patterns, marker, openOpts = {}) {
    const s = await openLive(node, await tokenOf('A'), { patterns, ...openOpts }, { eventType: marker });
    try {
      const run = uniq();
      for (const [n, t] of TYPES.entries()) await bcast(node, 't1', t, { run, n });
      await bcast(node, 't1', marker, { run, marker: true });
      await s.take((m) => m.json?.payload?.run === run && m.json.payload.marker, 1, 3000, `the marker ${marker}`);
      await sleep(100);
      return s.ofRun(run).filter((m) => !m.json.payload.marker).map((m) => m.json.id);
    } finally {
      s.close();
    }
  }

  it('default: every event_type', async () => {
    assert.deepEqual(await typesFor([], 'zz.marker'), TYPES);
  });

  it('sales.*: one dot-separated part', async () => {
    assert.deepEqual(await typesFor(['sales.*'], 'sales.marker'), ['sales.order', 'sales.invoice']);
  });

  it('exact, middle *, and * alone', async () => {
    assert.deepEqual(await typesFor(['crm.lead'], 'crm.lead'), ['crm.lead']);
    assert.deepEqual(await typesFor(['sales.*.created'], 'sales.marker.created'), ['sales.order.created']);
    assert.deepEqual(await typesFor(['*.order'], 'zz.order'), ['sales.order', 'salesx.order']);
    assert.deepEqual(await typesFor(['*'], 'zz.marker'), TYPES);
  });

  it('repeated ?pattern= takes the union, each event once', async () => {
    assert.deepEqual(await typesFor(['sales.*', 'crm.lead.*', 'sales.order'], 'crm.lead.marker'),
      ['sales.order', 'sales.invoice', 'crm.lead.won']);
  });

  it('a percent-encoded pattern is decoded (sales.%2A)', async () => {
    const tok = await tokenOf('A');
    const s = await rawStream(node, `${STREAM_PATH}?pattern=sales.%2A`, { authorization: `Bearer ${tok}` });
    try {
      assert.equal(s.status, 200);
      await settleRaw(node, s, { eventType: 'sales.probe' });
      const run = uniq();
      await bcast(node, 't1', 'crm.lead', { run, n: 0 });
      await bcast(node, 't1', 'sales.order', { run, n: 1 });
      const frames = await s.waitFor(() => {
        const f = s.frames().map(parseBlock).filter((b) => b.data && JSON.parse(b.data).payload?.run === run);
        return f.length >= 1 ? f : null;
      }, 3000, 'the sales.order event');
      assert.deepEqual(frames.map((b) => JSON.parse(b.data).id), ['sales.order']);
    } finally {
      await s.close();
    }
  });

  it('a malformed pattern is 400 INVALID_MESSAGE', async () => {
    const tok = await tokenOf('A');
    for (const bad of [['sa*les'], ['sales.*x'], ['sales.'], ['.sales'], ['sales..order'], [''], ['sales.>'],
      ['sales order'], ['sales.*', 'cr*m']]) {
      const r = await getStream(node, streamPath({ patterns: bad }), { authorization: `Bearer ${tok}` });
      assert.equal(r.status, 400, `pattern ${JSON.stringify(bad)}: HTTP ${r.status} ${r.text}`);
      assertJsonError(r, 400, 'INVALID_MESSAGE');
    }
  });
});

describe('sse.broadcast_event_types', () => {
  let bnode;
  before(async () => { bnode = await node0({ sse: { broadcast_event_types: ['sales.*', 'crm.lead.won'] } }); });

  it('carries declared event types published without broadcast: true', async () => {
    const s = await openLive(bnode, await tokenOf('A'));
    try {
      const run = uniq();
      const topic = 'customer_id:c1:call:b1';
      const sent = [
        ['sales.order', { topic, audience: { tenant_id: 't1' } }, true],
        ['sales.order.created', { topic, audience: { tenant_id: 't1' } }, false],
        ['crm.lead.won', { topic, data: { tenantId: 't1' } }, true],
        ['crm.lead.lost', { topic, audience: { tenant_id: 't1' } }, false],
        ['sales.invoice', { topic }, false], // no tenant
        ['sales.invoice', { topic, audience: { tenant_id: 't2' } }, false], // another tenant
        ['sales.refund', { topic, audience: { tenant_id: 't1', user_ids: ['u2'] } }, false], // audience
        ['other.thing', { topic, audience: { tenant_id: 't1' }, broadcast: true }, true],
      ];
      for (const [n, [type, extra]] of sent.entries()) {
        const body = { event_type: type, ...extra, data: { ...(extra.data ?? {}), run, n } };
        const r = await publish(bnode, body);
        assert.equal(r.status, 202, r.text);
      }
      await bcast(bnode, 't1', 'zz.marker', { run, marker: true });
      await s.take((m) => m.json?.payload?.marker && m.json.payload.run === run, 1, 3000, 'the marker');
      await sleep(100);
      const got = s.ofRun(run).filter((m) => !m.json.payload.marker).map((m) => m.json.payload.n);
      const want = sent.map((x, n) => (x[2] ? n : -1)).filter((n) => n >= 0);
      assert.deepEqual(got, want, `received ${got.map((n) => sent[n][0])}, want ${want.map((n) => sent[n][0])}`);
    } finally {
      s.close();
    }
  });

  it('refuses a malformed broadcast_event_types pattern at start', async () => {
    await assert.rejects(startNode({ sse: { broadcast_event_types: ['sa*les'] } }), /did not start/);
  });
});

describe('frames: trace and size', () => {
  const ET = 'size.check';
  const TS = '1737000000000';
  /** The byte length of the data JSON the node sends for `payload`. */
  const dataBytes = (payload, org = '') => Buffer.byteLength(
    `{"id":${JSON.stringify(ET)},"payload":${JSON.stringify(payload)},"timestamp":${TS},"organizationId":${JSON.stringify(org)}}`);

  /** A payload whose data JSON is exactly `target` bytes; `multibyte` pads
   * with 2-byte characters (so it has fewer characters than bytes). */
  function payloadOf(target, base, multibyte = false) {
    const p = { ...base, pad: '' };
    const need = target - dataBytes(p);
    assert.ok(need > 0);
    p.pad = multibyte ? 'é'.repeat(Math.floor(need / 2)) + 'x'.repeat(need % 2) : 'x'.repeat(need);
    assert.equal(dataBytes(p), target);
    return p;
  }

  it('the timestamp is 13 digits (the size arithmetic below relies on it)', () => {
    assert.equal(String(Date.now()).length, TS.length);
  });

  it('passes trace through untouched, and has no trace without one', async () => {
    const s = await openLive(node, await tokenOf('A'));
    try {
      const run = uniq();
      const trace = {
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_context: { span_id: '00f067aa0ba902b7', trace_flags: 1, state: { vendor: ['a', 'b'] } },
        session_id: 'sess-1',
        client_id: 'client-1',
      };
      await bcast(node, 't1', 'trace.check', { run, n: 0 }, { trace });
      await bcast(node, 't1', 'trace.check', { run, n: 1 });
      const [m0, m1] = await s.take((m) => m.json?.payload?.run === run, 2);
      assert.deepEqual(m0.json.trace, trace);
      assert.deepEqual(Object.keys(m0.json), ['id', 'payload', 'timestamp', 'organizationId', 'trace']);
      assert.equal('trace' in m1.json, false, m1.data);
    } finally {
      s.close();
    }
  });

  it('sends exactly 4096 bytes whole and truncates 4097, counting in UTF-8 bytes', async () => {
    const s = await openLive(node, await tokenOf('A'));
    try {
      const run = uniq();
      const base = { id: ` ord-${run} `, entityId: 'e-1', entityType: ' order ', run };
      const cases = [
        ['4096 ascii', payloadOf(4096, { ...base, n: 0 }), false],
        ['4097 ascii', payloadOf(4097, { ...base, n: 1 }), true],
        ['4096 bytes, fewer chars', payloadOf(4096, { ...base, n: 2 }, true), false],
        ['4097 bytes, fewer chars', payloadOf(4097, { ...base, n: 3 }, true), true],
        ['4095 ascii', payloadOf(4095, { ...base, n: 4 }), false],
      ];
      const m0 = await metrics(node);
      for (const [, p] of cases) await bcast(node, 't1', ET, p);
      await bcast(node, 't1', 'zz.marker', { run, marker: true });
      await s.take((m) => m.json?.payload?.marker && m.json.payload.run === run, 1, 3000, 'the marker');
      const got = s.list((m) => m.json?.id === ET && (m.json.payload.run === run || m.json.payload.id === `ord-${run}`));
      assert.equal(got.length, cases.length, `got ${got.length} size events for ${cases.length} published`);
      for (const [i, [what, p, truncated]] of cases.entries()) {
        const m = got[i];
        if (truncated) {
          assert.deepEqual(m.json.payload, { truncated: true, id: `ord-${run}`, entityId: 'e-1', entityType: 'order' },
            `${what}: ${m.data.slice(0, 200)}`);
          assert.ok(Buffer.byteLength(m.data) <= 4096);
        } else {
          assert.deepEqual(m.json.payload, p, `${what}: sent truncated or altered (${m.data.slice(0, 120)}…)`);
          assert.equal(Buffer.byteLength(m.data), dataBytes(p), `${what}: data is ${Buffer.byteLength(m.data)} bytes`);
        }
      }
      const m1 = await metrics(node);
      assert.equal(m1.herald_sse_truncated_total - (m0.herald_sse_truncated_total ?? 0), 2, 'herald_sse_truncated_total');
      assert.equal((m1.herald_sse_skipped_total ?? 0) - (m0.herald_sse_skipped_total ?? 0), 0, 'herald_sse_skipped_total');
    } finally {
      s.close();
    }
  });

  it('the truncated form keeps only non-empty string id, entityId, entityType, trimmed', async () => {
    const s = await openLive(node, await tokenOf('A'));
    try {
      const run = uniq();
      const big = 'y'.repeat(5000);
      await bcast(node, 't1', 'trunc.a', { run, id: 7, entityId: '   ', entityType: 'kind', big }, { audience: { tenant_id: 't1', org_ids: ['o1'] } });
      await bcast(node, 't1', 'trunc.b', { run, big });
      await bcast(node, 't1', 'trunc.c', { id: '\tabc\n', entityId: ['x'], entityType: '', big }, { trace: { trace_id: 't' } });
      const got = await s.take((m) => m.json?.id?.startsWith('trunc.') && m.json.timestamp, 3);
      assert.deepEqual(got.map((m) => m.json.payload), [
        { truncated: true, entityType: 'kind' },
        { truncated: true },
        { truncated: true, id: 'abc' },
      ]);
      assert.equal(got[0].json.organizationId, 'o1');
      assert.deepEqual(got[2].json.trace, { trace_id: 't' }, 'trace kept in the truncated form');
    } finally {
      s.close();
    }
  });

  it('skips (and counts) an event too large even truncated', async () => {
    const s = await openLive(node, await tokenOf('A'));
    try {
      const run = uniq();
      const m0 = await metrics(node);
      await bcast(node, 't1', 'skip.me', { id: 'z'.repeat(5000), run });
      await bcast(node, 't1', 'skip.after', { run, after: true });
      await s.take((m) => m.json?.payload?.run === run && m.json.payload.after, 1, 3000, 'the event after');
      await sleep(100);
      assert.deepEqual(s.list((m) => m.json?.id === 'skip.me'), [], 'the oversized event was sent');
      const m1 = await metrics(node);
      assert.equal(m1.herald_sse_skipped_total - (m0.herald_sse_skipped_total ?? 0), 1, 'herald_sse_skipped_total');
      assert.equal(m1.herald_sse_truncated_total - (m0.herald_sse_truncated_total ?? 0), 0, 'herald_sse_truncated_total');
    } finally {
      s.close();
    }
  });
});

describe('heartbeat', () => {
  let hb;
  before(async () => { hb = await node0({ sse: { heartbeat_ms: 200 } }); });

  it('sends a :heartbeat comment every sse.heartbeat_ms', async () => {
    const s = await rawStream(hb, STREAM_PATH, { authorization: `Bearer ${await tokenOf('A')}` });
    try {
      const t0 = Date.now();
      await s.waitFor((b) => (b.match(/:heartbeat\n\n/g) ?? []).length >= 3, 3000, 'three heartbeats');
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 450, `three heartbeats after ${elapsed} ms: faster than every 200 ms`);
      // interleaved with events, every block stays whole
      const run = uniq();
      await bcast(hb, 't1', 'hb.event', { run });
      await s.waitFor((b) => b.includes(run), 3000, 'the event');
      await sleep(450);
      const blocks = s.frames();
      for (const b of blocks) {
        assert.ok(b === ':heartbeat' || /^id: [^\n]+\ndata: \{[^\n]*\}$/.test(b), `odd block ${JSON.stringify(b)}`);
      }
      const beats = blocks.filter((b) => b === ':heartbeat').length;
      const total = Date.now() - t0;
      assert.ok(beats <= Math.ceil(total / 200) + 1, `${beats} heartbeats in ${total} ms`);
      assert.ok(beats >= Math.floor(total / 200) - 2, `${beats} heartbeats in ${total} ms`);
    } finally {
      await s.close();
    }
  });

  it('heartbeats are invisible to EventSource', async () => {
    const s = await openSse(hb, await tokenOf('A'));
    try {
      await sleep(500);
      assert.deepEqual(s.messages, []);
      assert.deepEqual(s.errors, []);
    } finally {
      s.close();
    }
  });
});

describe('reconnect with Last-Event-ID', () => {
  const tok = () => tokenOf('A');

  async function publishRun(n, run, from, to, type = 'rc.event') {
    for (let i = from; i < to; i++) await bcast(n, 't1', type, { run, n: i });
  }

  it('replays exactly the 50 missed, in order, then live, no duplicates (header)', async () => {
    const run = uniq();
    const a = await openLive(node, await tok());
    await publishRun(node, run, 0, 3);
    const seen = await a.take((m) => m.json?.payload?.run === run, 3);
    const last = seen[2].id;
    assert.ok(last, 'no id: on the frames');
    a.close();
    const m0 = await metrics(node);

    await publishRun(node, run, 3, 53);

    const b = await openSse(node, await tok(), { lastEventId: last });
    try {
      assert.equal(b.requests[0].headers['Last-Event-ID'], last);
      await b.take((m) => m.json?.payload?.run === run, 50, 5000, 'the 50 missed');
      await publishRun(node, run, 53, 56);
      await b.take((m) => m.json?.payload?.run === run, 53, 3000, 'the 3 live ones');
      await sleep(150);
      assert.deepEqual(runNs(b, run), range(3, 56));
      const ids = b.ofRun(run).map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, 'ids repeat');
      assert.ok(!ids.includes(last));
      assert.deepEqual(b.list(() => true, 'herald.recovery'), [], 'a recovery event on a recoverable reconnect');
      const m1 = await metrics(node);
      assert.equal(m1.herald_replays_total - m0.herald_replays_total, 1, 'herald_replays_total');
      assert.equal(m1.herald_replays_failed_total - m0.herald_replays_failed_total, 0, 'herald_replays_failed_total');
    } finally {
      b.close();
    }
  });

  it('takes ?last_event_id= when no header is sent', async () => {
    const run = uniq();
    const a = await openLive(node, await tok(), { via: 'query' });
    await publishRun(node, run, 0, 2);
    const seen = await a.take((m) => m.json?.payload?.run === run, 2);
    a.close();
    await publishRun(node, run, 2, 12);
    const b = await openSse(node, await tok(), { via: 'query', lastEventIdQuery: seen[1].id });
    try {
      await b.take((m) => m.json?.payload?.run === run, 10, 3000, 'the 10 missed');
      await publishRun(node, run, 12, 13);
      await b.take((m) => m.json?.payload?.run === run, 11, 3000, 'the live one');
      await sleep(100);
      assert.deepEqual(runNs(b, run), range(2, 13));
    } finally {
      b.close();
    }
  });

  it('EventSource reconnects by itself after the stream drops and loses nothing', { timeout: 20_000 }, async () => {
    const run = uniq();
    let openGate;
    const gate = new Promise((r) => { openGate = r; });
    const a = await openLive(node, await tok(), { beforeReconnect: () => gate });
    try {
      await publishRun(node, run, 0, 3);
      const seen = await a.take((m) => m.json?.payload?.run === run, 3);
      a.cut(); // the network drops the response
      await waitFor(() => a.errors.length > 0, { timeoutMs: 3000, message: 'EventSource to notice the drop' });
      await publishRun(node, run, 3, 23); // while away
      openGate();
      await waitFor(() => a.opens >= 2, { timeoutMs: 10_000, message: 'EventSource to reconnect' });
      assert.equal(a.requests[1].headers['Last-Event-ID'], seen[2].id, 'EventSource did not send the last id');
      await a.take((m) => m.json?.payload?.run === run, 23, 5000, 'the 20 missed');
      await publishRun(node, run, 23, 25);
      await a.take((m) => m.json?.payload?.run === run, 25, 3000, 'the live ones');
      await sleep(100);
      assert.deepEqual(runNs(a, run), range(0, 25));
    } finally {
      a.close();
    }
  });

  it('no gap and no duplicate at the seam while publishing goes on', { timeout: 30_000 }, async () => {
    const run = uniq();
    let next = 0;
    let stop = false;
    const publisher = (async () => {
      while (!stop) {
        await bcast(node, 't1', 'seam.event', { run, n: next });
        next += 1;
      }
    })();
    try {
      const a = await openSse(node, await tok());
      await a.take((m) => m.json?.payload?.run === run, 20, 5000, '20 events');
      a.close();
      const got = runNs(a, run);
      const lastSeen = a.ofRun(run).at(-1);
      await sleep(50);
      const b = await openSse(node, await tok(), { lastEventId: lastSeen.id });
      await b.take((m) => m.json?.payload?.run === run && m.json.payload.n >= got.at(-1) + 100, 1, 10_000, '100 more events');
      stop = true;
      await publisher;
      const last = next - 1;
      await b.take((m) => m.json?.payload?.run === run && m.json.payload.n === last, 1, 3000, `the last event (${last})`);
      await sleep(100);
      b.close();
      const first = got[0];
      assert.deepEqual(got, range(first, first + got.length), 'first stream had a gap');
      assert.deepEqual(runNs(b, run), range(got.at(-1) + 1, last + 1), 'gap or duplicate across the reconnect');
    } finally {
      stop = true;
      await publisher;
    }
  });

  it('replays only what the new stream\'s pattern and audience allow', async () => {
    const run = uniq();
    const a = await openLive(node, await tok());
    await bcast(node, 't1', 'rp.start', { run, n: 0 });
    const [first] = await a.take((m) => m.json?.payload?.run === run, 1);
    a.close();
    const sent = [
      ['rp.a', { audience: { tenant_id: 't1' } }, true],
      ['other.a', { audience: { tenant_id: 't1' } }, false], // pattern
      ['rp.b', { audience: { tenant_id: 't1', user_ids: ['u2'] } }, false], // audience
      ['rp.c', { audience: { tenant_id: 't2' } }, false], // tenant
      ['rp.d', { topic: 'customer_id:c1:call:z', broadcast: false, audience: { tenant_id: 't1' } }, false], // not broadcast
      ['rp.e', { audience: { tenant_id: 't1', org_ids: ['o1'], role_ids: ['r2'] } }, true],
      ['rp.f', { data: { tenantId: 't1', recipientUserId: 'u1' } }, true],
    ];
    for (const [n, [type, extra]] of sent.entries()) {
      await publishOk(node, { event_type: type, broadcast: true, ...extra, data: { ...(extra.data ?? {}), run, n: n + 1 } });
    }
    const b = await openSse(node, await tok(), { lastEventId: first.id, patterns: ['rp.*'] });
    try {
      await bcast(node, 't1', 'rp.live', { run, n: 99 });
      await b.take((m) => m.json?.payload?.run === run && m.json.payload.n === 99, 1, 3000, 'the live event');
      await sleep(100);
      assert.deepEqual(b.ofRun(run).map((m) => m.json.id), ['rp.a', 'rp.e', 'rp.f', 'rp.live']);
    } finally {
      b.close();
    }
  });

  it('replays nothing and sends no recovery event when nothing was missed', async () => {
    const run = uniq();
    const a = await openLive(node, await tok());
    await bcast(node, 't1', 'nm.x', { run, n: 0 });
    const [ev] = await a.take((m) => m.json?.payload?.run === run, 1);
    a.close();
    const b = await openSse(node, await tok(), { lastEventId: ev.id });
    try {
      await bcast(node, 't1', 'nm.x', { run, n: 1 });
      await b.take((m) => m.json?.payload?.run === run, 1);
      await sleep(100);
      assert.deepEqual(runNs(b, run), [1]);
      assert.deepEqual(b.list(() => true, 'herald.recovery'), []);
    } finally {
      b.close();
    }
  });

  it('an unknown Last-Event-ID: `event: herald.recovery` {"recovered":false} first, then live', async () => {
    const m0 = await metrics(node);
    const s = await rawStream(node, STREAM_PATH, { authorization: `Bearer ${await tok()}`, 'Last-Event-ID': 'no-such-position' });
    try {
      assert.equal(s.status, 200);
      await s.waitFor((b) => b.includes('\n\n'), 3000, 'the recovery event');
      assert.equal(s.frames()[0], 'event: herald.recovery\ndata: {"recovered":false}');
      const run = uniq();
      await bcast(node, 't1', 'unk.x', { run });
      await s.waitFor((b) => b.includes(run), 3000, 'a live event');
      const blocks = s.frames().map(parseBlock);
      assert.equal(blocks.length, 2, JSON.stringify(s.frames()));
      assert.equal(JSON.parse(blocks[1].data).payload.run, run);
    } finally {
      await s.close();
    }
    const m1 = await metrics(node);
    assert.equal(m1.herald_replays_failed_total - m0.herald_replays_failed_total, 1, 'herald_replays_failed_total');

    // the same through EventSource: a named event its listeners get
    const e = await openSse(node, await tok(), { lastEventId: 'also-unknown' });
    try {
      const [rec] = await e.take(() => true, 1, 3000, 'herald.recovery', 'herald.recovery');
      assert.deepEqual(rec.json, { recovered: false });
      const run = uniq();
      await bcast(node, 't1', 'unk.y', { run });
      await e.take((m) => m.json?.payload?.run === run, 1);
      assert.equal(e.list(() => true, 'herald.recovery').length, 1);
    } finally {
      e.close();
    }
  });

  it('a position of this node\'s future, or of a node that restarted, cannot be recovered', async () => {
    const run = uniq();
    const a = await openLive(node, await tok());
    await bcast(node, 't1', 'fut.x', { run });
    const [ev] = await a.take((m) => m.json?.payload?.run === run, 1);
    a.close();
    // docs/history.md: positions read <epoch>-<seq> today
    const m = /^(.*)-(\d+)$/.exec(ev.id);
    assert.ok(m, `position ${ev.id} is not <epoch>-<seq> (docs/history.md)`);
    const future = `${m[1]}-${Number(m[2]) + 1_000_000}`;
    const b = await openSse(node, await tok(), { lastEventId: future });
    try {
      const [rec] = await b.take(() => true, 1, 3000, 'herald.recovery', 'herald.recovery');
      assert.deepEqual(rec.json, { recovered: false });
    } finally {
      b.close();
    }

    // a restarted node: its history (and epoch) are new
    const r1 = await node0();
    const c = await openLive(r1, await tok());
    await bcast(r1, 't1', 'rs.x', { run, n: 0 });
    const [old] = await c.take((x) => x.json?.payload?.run === run, 1);
    c.close();
    await r1.stop();
    nodes.splice(nodes.indexOf(r1), 1);
    const r2 = await node0();
    const d = await openSse(r2, await tok(), { lastEventId: old.id });
    try {
      const [rec] = await d.take(() => true, 1, 3000, 'herald.recovery after a restart', 'herald.recovery');
      assert.deepEqual(rec.json, { recovered: false });
      await bcast(r2, 't1', 'rs.x', { run, n: 1 });
      await d.take((x) => x.json?.payload?.run === run, 1);
    } finally {
      d.close();
    }
  });

  it('history exceeded (history.max_events 50): herald.recovery, nothing replayed, then live', async () => {
    const small = await node0({ history: { max_events: 50 } });
    const run = uniq();
    const a = await openLive(small, await tok());
    await publishRun(small, run, 0, 1);
    const [first] = await a.take((m) => m.json?.payload?.run === run, 1);
    a.close();
    await publishRun(small, run, 1, 61); // 60 missed, 50 held
    // 202 is sent when the publish is accepted, before the history appends it: wait (bounded) for the last append.
    const m0 = await waitFor(async () => {
      const m = await metrics(small);
      return m.herald_history_evicted_total >= 11 ? m : null;
    }, { message: 'herald_history_evicted_total to reach 11' });
    assert.ok(m0.herald_history_events <= 50, `herald_history_events ${m0.herald_history_events} > max_events 50`);
    assert.ok(m0.herald_history_evicted_total >= 11, `herald_history_evicted_total ${m0.herald_history_evicted_total}`);
    const b = await openSse(small, await tok(), { lastEventId: first.id });
    try {
      const [rec] = await b.take(() => true, 1, 3000, 'herald.recovery', 'herald.recovery');
      assert.deepEqual(rec.json, { recovered: false });
      await publishRun(small, run, 61, 62);
      await b.take((m) => m.json?.payload?.run === run, 1, 3000, 'the live event');
      await sleep(100);
      assert.deepEqual(runNs(b, run), [61], 'a partial replay after recovered:false');
      const rec0 = b.messages.findIndex((m) => m.type === 'herald.recovery');
      const live0 = b.messages.findIndex((m) => m.json?.payload?.run === run);
      assert.ok(rec0 < live0, 'herald.recovery came after a live event');
      const m1 = await metrics(small);
      assert.equal(m1.herald_replays_failed_total - m0.herald_replays_failed_total, 1);
    } finally {
      b.close();
    }
  });
});
