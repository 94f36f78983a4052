// docs/chat-events.md, seeds/chat-events-asyncapi.md: the node's chat
// events, seen as a backend sees them. A backend subscribes to
// `system:chat:event:*` on /ws (an admin token) and runs a real HTTP
// server as the webhook. Every connection (/ws, a plugin endpoint, SSE)
// emits userConnected and userDisconnected (reason, code, forced); the
// chat plugin's personal messages emit personalChatSent and, over its rate
// limit, userChatRateLimited; each event is checked against the seed's
// whole envelope. The webhook gets the same envelopes, is retried on 500
// and on a timeout, and a failing one holds nothing else up. Personal
// messages reach every session of every member, on a three-node cluster
// too, where each event is still posted once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startNode, startCluster, stopAll, connect, hs256, publishOk, metrics, sleep, waitFor, within, uniq, isEvent,
} from './lib/index.mjs';
import { openSse, closeAllSse } from './lib/sse.mjs';

const NS = 'e2e.chat';
const PARENT_NS = 'e2e';
const TOPIC_PREFIX = 'system:chat:event:';
const ENVELOPE_KEYS = ['payload', 'id', 'version', 'name', 'namespace', 'parentNamespace', 'timestamp',
  'clientId', 'userId', 'traceId', 'sessionId', 'spanContext'];
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const CHAT = { rate_messages: 3, rate_window_ms: 60000 };

// ---------------------------------------------------------------------------
// The webhook target: a real HTTP server that records every post and
// answers 200, or what failFor() says for the posts of chosen events.

async function startWebhook() {
  const posts = [];
  const rules = []; // {pred, answers: [500 | 'hang', ...]}, consumed per post
  const held = new Set();
  let fallback = 200;
  // Posts being answered at once (a held one stops counting when held):
  // the node posts one at a time.
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((req, res) => {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      const rule = rules.find((r) => r.answers.length > 0 && r.pred(json));
      const answer = rule ? rule.answers.shift() : fallback;
      posts.push({ method: req.method, url: req.url, headers: req.headers, json, answer, at: Date.now() });
      if (answer === 'hang') {
        open -= 1;
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      res.on('finish', () => { open -= 1; });
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end(answer === 200 ? 'ok' : 'failed');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    posts,
    get maxConcurrent() { return maxOpen; },
    url: `http://127.0.0.1:${server.address().port}/hook`,
    /** The next answers for posts whose envelope matches `pred`. */
    failFor(pred, answers) { rules.push({ pred, answers: [...answers] }); },
    /** What every post not caught by failFor gets (200, 500, 'hang'). */
    set fallback(v) { fallback = v; },
    of: (id) => posts.filter((p) => p.json?.id === id),
    /** Waits (bounded) for `n` posts matching `pred`. */
    async take(pred, n = 1, timeoutMs = 5000, what = 'webhook posts') {
      return waitFor(() => {
        const got = posts.filter((p) => pred(p.json ?? {}, p));
        return got.length >= n ? got : null;
      }, { timeoutMs, intervalMs: 20, message: `${n} ${what}` });
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections?.();
      await within(new Promise((r) => server.close(r)), 2000);
    },
  };
}

// ---------------------------------------------------------------------------
// Checks.

/**
 * Asserts `env` is a whole envelope of the seed for event `name` (every
 * field present and of the seed's type, Herald's formats) and returns
 * payload[name]. want: userId, clientId, node, sessionId, traceId.
 */
function checkEnvelope(env, name, want = {}) {
  const where = `${name} envelope ${JSON.stringify(env)}`;
  assert.ok(env && typeof env === 'object', where);
  for (const k of ENVELOPE_KEYS) assert.ok(k in env, `${where}: missing ${k}`);
  for (const k of ENVELOPE_KEYS.filter((x) => !['payload', 'version'].includes(x))) {
    assert.equal(typeof env[k], 'string', `${where}: ${k} is not a string`);
  }
  assert.match(env.id, UUID_V4, where);
  assert.ok(Number.isInteger(env.version), `${where}: version is not an integer`);
  assert.equal(env.version, 1, where);
  assert.equal(env.name, name, where);
  assert.equal(env.namespace, NS, where);
  assert.equal(env.parentNamespace, PARENT_NS, where);
  assert.match(env.timestamp, ISO_US, where);
  assert.ok(Math.abs(Date.parse(env.timestamp) - Date.now()) < 60_000, `${where}: timestamp far from now`);
  assert.match(env.traceId, /^[0-9a-f]{32}$/, where);
  assert.match(env.spanContext, new RegExp(`^00-${env.traceId}-[0-9a-f]{16}-01$`), `${where}: spanContext`);
  if (want.node) {
    assert.equal(env.node, want.node, where);
    assert.match(env.sessionId, new RegExp(`^${want.node}/\\d+$`), `${where}: sessionId`);
  }
  for (const k of ['userId', 'clientId', 'sessionId', 'traceId']) {
    if (want[k] !== undefined) assert.equal(env[k], want[k], `${where}: ${k}`);
  }
  assert.ok(env.payload && typeof env.payload === 'object' && !Array.isArray(env.payload), where);
  assert.deepEqual(Object.keys(env.payload), [name], `${where}: payload holds ${name} alone`);
  const own = env.payload[name];
  assert.ok(own && typeof own === 'object' && !Array.isArray(own), `${where}: payload.${name} is not an object`);
  return own;
}

function checkDisconnect(own, { reason, code, forced }, where = '') {
  assert.equal(typeof own.reason, 'string', where);
  assert.ok(own.reason.length > 0, `${where}: empty reason`);
  if (reason instanceof RegExp) assert.match(own.reason, reason, where);
  else if (reason !== undefined) assert.equal(own.reason, reason, where);
  assert.ok(Number.isInteger(own.code), `${where}: code is not an integer`);
  assert.equal(own.code, code, where);
  assert.equal(typeof own.forced, 'boolean', where);
  assert.equal(own.forced, forced, where);
}

// ---------------------------------------------------------------------------
// A backend: an admin /ws client subscribed to every chat event.

async function backendOf(node, pattern = `${TOPIC_PREFIX}*`) {
  const c = await connect(node, await hs256({ sub: uniq('backend-'), roles: ['admin'] }));
  await c.subscribe(pattern);
  return {
    client: c,
    /** The next event frame of `name` whose envelope matches `pred`. */
    async event(name, pred = () => true, timeoutMs = 5000) {
      const frame = await c.next((m) => isEvent(m) && m.data?.name === name && pred(m.data), timeoutMs,
        `${name} on ${TOPIC_PREFIX}${name}`);
      assert.equal(frame.topic, `${TOPIC_PREFIX}${name}`, JSON.stringify(frame));
      assert.equal(frame.event_type, `chat.${name}`, JSON.stringify(frame));
      assert.equal(typeof frame.pos, 'string');
      return frame.data;
    },
    /** Queued envelopes of `name` matching `pred`, after `ms` of quiet. */
    async quiet(name, pred, ms = 300) {
      await sleep(ms);
      return c.peek((m) => isEvent(m) && m.data?.name === name && pred(m.data)).map((m) => m.data);
    },
  };
}

const ofType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const forUser = (u) => (env) => env.userId === u;

// ---------------------------------------------------------------------------
// One node: chat events on, a webhook, the chat and contest plugins, short
// ping timers (for the missed-ping test; every other client answers).

let node;
let hook;
let backend;
const wsUrl = (n, path) => `${n.url.replace('http', 'ws')}${path}`;
const chatUrl = (n) => wsUrl(n, '/api/v69/ws/chat');

before(async () => {
  hook = await startWebhook();
  node = await startNode({
    node: { name: 'solo' },
    chat_events: {
      connections: true, namespace: NS, parent_namespace: PARENT_NS,
      webhook: { url: hook.url, backoff_ms: 50, max_attempts: 3, timeout_ms: 400, failure_threshold: 8, open_ms: 300 },
    },
    ws: { ping_interval_ms: 300, pong_timeout_ms: 1500 },
    plugins: {
      load: [
        { path: 'herald_chat.so', config: CHAT },
        { path: 'herald_contest.so', config: { presence_refresh_ms: 1000 } },
      ],
    },
  });
  backend = await backendOf(node);
});
after(async () => {
  closeAllSse();
  await node?.stop();
  await hook?.close();
});

describe('userConnected and userDisconnected', () => {
  it('a /ws session emits both, in the full envelope, on their topics; a polite close is 1000, not forced', async () => {
    const user = uniq('alice-');
    const c = await connect(node, await hs256({ sub: user, client_id: 'web-app' }));
    const up = await backend.event('userConnected', forUser(user));
    assert.deepEqual(checkEnvelope(up, 'userConnected', { userId: user, clientId: 'web-app', node: 'solo' }), {});
    await c.close();
    const down = await backend.event('userDisconnected', forUser(user));
    const own = checkEnvelope(down, 'userDisconnected', {
      userId: user, clientId: 'web-app', node: 'solo', sessionId: up.sessionId, traceId: up.traceId,
    });
    checkDisconnect(own, { reason: 'client closed', code: 1000, forced: false }, 'polite close');
    assert.notEqual(down.id, up.id);
    assert.ok(Date.parse(down.timestamp) >= Date.parse(up.timestamp));
  });

  it('each session has its own sessionId and traceId; a client close code is kept', async () => {
    const user = uniq('bob-');
    const token = await hs256({ sub: user });
    const c1 = await connect(node, token);
    const c2 = await connect(node, token);
    const ups = [await backend.event('userConnected', forUser(user)), await backend.event('userConnected', forUser(user))];
    assert.notEqual(ups[0].sessionId, ups[1].sessionId);
    assert.notEqual(ups[0].traceId, ups[1].traceId);
    for (const up of ups) assert.deepEqual(checkEnvelope(up, 'userConnected', { userId: user, clientId: '' }), {});
    c1.ws.close(4321, 'bye now');
    await c1.waitClose();
    const d1 = await backend.event('userDisconnected', forUser(user));
    checkDisconnect(checkEnvelope(d1, 'userDisconnected', { userId: user }), { code: 4321, forced: false }, 'code 4321');
    await c2.close();
    const d2 = await backend.event('userDisconnected', forUser(user));
    assert.deepEqual(new Set([d1.sessionId, d2.sessionId]), new Set(ups.map((u) => u.sessionId)));
  });

  it('a dropped connection is 1006, not forced', async () => {
    const user = uniq('drop-');
    const c = await connect(node, await hs256({ sub: user }));
    const up = await backend.event('userConnected', forUser(user));
    c.terminate();
    const down = await backend.event('userDisconnected', forUser(user));
    checkDisconnect(checkEnvelope(down, 'userDisconnected', { sessionId: up.sessionId }), { code: 1006, forced: false },
      'dropped');
  });

  it('the node closing a session is forced: a frame over the limit (1009), a missed ping (1001)', async () => {
    const big = uniq('big-');
    const c = await connect(node, await hs256({ sub: big }));
    await backend.event('userConnected', forUser(big));
    c.send('x'.repeat(70_000));
    assert.equal((await c.waitClose()).code, 1009);
    const d1 = await backend.event('userDisconnected', forUser(big));
    checkDisconnect(checkEnvelope(d1, 'userDisconnected', { userId: big }), { code: 1009, forced: true }, 'frame too big');

    const mute = uniq('mute-');
    const m = await connect(node, await hs256({ sub: mute }), { autoPong: false });
    await backend.event('userConnected', forUser(mute));
    assert.equal((await m.waitClose(5000)).code, 1001);
    assert.ok(m.pings > 0, 'the node pinged');
    const d2 = await backend.event('userDisconnected', forUser(mute));
    checkDisconnect(checkEnvelope(d2, 'userDisconnected', { userId: mute }), { reason: /ping/, code: 1001, forced: true },
      'missed ping');
  });

  it('plugin endpoints and SSE streams emit them too; an anonymous session has an empty userId', async () => {
    const user = uniq('multi-');
    const chat = await connect(node, await hs256({ sub: user, client_id: 'chat-ui' }), { url: chatUrl(node) });
    const upChat = await backend.event('userConnected', (e) => e.userId === user && e.clientId === 'chat-ui');
    checkEnvelope(upChat, 'userConnected', { node: 'solo' });

    // The only anonymous session of the suite.
    const anon = await connect(node, null, { url: wsUrl(node, '/api/v69/ws/contest') });
    const upAnon = await backend.event('userConnected', (e) => e.userId === '');
    checkEnvelope(upAnon, 'userConnected', { userId: '', clientId: '', node: 'solo' });

    const sse = await openSse(node, await hs256({ sub: user, tenant_id: 't1', client_id: 'sse-ui' }));
    const upSse = await backend.event('userConnected', (e) => e.userId === user && e.clientId === 'sse-ui');
    checkEnvelope(upSse, 'userConnected', { node: 'solo' });

    await chat.close();
    const dChat = await backend.event('userDisconnected', (e) => e.sessionId === upChat.sessionId);
    checkDisconnect(checkEnvelope(dChat, 'userDisconnected', { userId: user, clientId: 'chat-ui' }),
      { reason: 'client closed', code: 1000, forced: false }, 'chat endpoint');
    anon.terminate();
    const dAnon = await backend.event('userDisconnected', (e) => e.sessionId === upAnon.sessionId);
    checkDisconnect(checkEnvelope(dAnon, 'userDisconnected', { userId: '' }), { code: 1006, forced: false }, 'anonymous');
    sse.close();
    const dSse = await backend.event('userDisconnected', (e) => e.sessionId === upSse.sessionId);
    checkDisconnect(checkEnvelope(dSse, 'userDisconnected', { userId: user, clientId: 'sse-ui', traceId: upSse.traceId }),
      { code: 1000, forced: false }, 'SSE');
  });

  it('the azp claim stands for clientId when there is no client_id', async () => {
    const user = uniq('azp-');
    const c = await connect(node, await hs256({ sub: user, azp: 'mobile-app' }));
    const up = await backend.event('userConnected', forUser(user));
    checkEnvelope(up, 'userConnected', { clientId: 'mobile-app' });
    await c.close();
    checkEnvelope(await backend.event('userDisconnected', forUser(user)), 'userDisconnected', { clientId: 'mobile-app' });
  });

  it('a backend that comes back with its last pos gets what it missed (the topics keep history)', async () => {
    const token = await hs256({ sub: uniq('backend-'), roles: ['admin'] });
    const pattern = `${TOPIC_PREFIX}*`;
    const b1 = await connect(node, token);
    await b1.subscribe(pattern);
    const probe = uniq('probe-');
    const p = await connect(node, await hs256({ sub: probe }));
    const [seen] = await b1.events(1, (m) => m.data?.userId === probe);
    await b1.close();
    const user = uniq('missed-');
    const c = await connect(node, await hs256({ sub: user }));
    await c.close();
    await backend.event('userDisconnected', forUser(user));
    const b2 = await connect(node, token);
    const ack = await b2.subscribe(pattern, { since: seen.pos });
    assert.equal(ack.recovered, true, JSON.stringify(ack));
    const missed = await b2.events(2, (m) => m.data?.userId === user);
    assert.deepEqual(missed.map((m) => m.data.name), ['userConnected', 'userDisconnected']);
    assert.equal(missed[0].data.sessionId, missed[1].data.sessionId);
    await b2.close();
    await p.close();
  });

  it('a /ws client without the admin role may not subscribe to them', async () => {
    const c = await connect(node, await hs256({ sub: uniq('nosy-'), roles: ['manager'], customer_id: 'c1' }));
    const r = await c.request({ type: 'subscribe', topics: [`${TOPIC_PREFIX}*`] });
    assert.equal(r.type, 'error');
    assert.equal(r.code, 'PERMISSION_DENIED');
    await c.close();
  });
});

// ---------------------------------------------------------------------------

/** Opens `n` chat sessions of `user` on `n0` and waits for their userConnected. */
async function chatSessions(n0, user, count, back, claims = {}) {
  const token = await hs256({ sub: user, ...claims });
  const out = [];
  for (let i = 0; i < count; i++) out.push(await connect(n0, token, { url: chatUrl(n0) }));
  if (back) for (let i = 0; i < count; i++) await back.event('userConnected', forUser(user));
  return out;
}

function checkPersonal(msg, want) {
  assert.equal(msg.type, 'personal_message', JSON.stringify(msg));
  assert.match(msg.timestamp, /Z$/);
  for (const [k, v] of Object.entries(want)) assert.deepEqual(msg.data[k], v, `personal_message.${k}: ${JSON.stringify(msg)}`);
  assert.equal(typeof msg.data.sent_at, 'string');
}

describe('personalChatSent (the chat plugin)', () => {
  it('a direct message reaches every session of target and sender, and emits personalChatSent', async (t) => {
    const alice = uniq('alice-');
    const bob = uniq('bob-');
    const carol = uniq('carol-');
    const as = await chatSessions(node, alice, 2, backend, { client_id: 'chat-ui' });
    const bs = await chatSessions(node, bob, 2, backend);
    const [cs] = await chatSessions(node, carol, 1, backend);
    t.after(() => { for (const c of [...as, ...bs, cs]) c.close(); });

    const trace = 'ab'.repeat(16);
    as[0].send({ type: 'send_message', target_type: 'user', target_id: bob, payload: 'hello bob', trace_id: trace, id: 'm1' });
    const sent = await as[0].next(ofType('message_sent'));
    assert.equal(sent.id, 'm1');
    assert.match(sent.data.message_id, UUID_V4);
    assert.deepEqual(sent.data, { message_id: sent.data.message_id, target_id: bob, target_type: 'user', target_members: [bob, alice] });
    const want = {
      message_id: sent.data.message_id, sender_id: alice, target_id: bob, target_type: 'user',
      target_members: [bob, alice], payload: 'hello bob',
    };
    for (const c of [...as, ...bs]) checkPersonal(await c.next(ofType('personal_message')), want);
    await sleep(200);
    assert.deepEqual(cs.peek(ofType('personal_message')), [], 'carol is not a member');

    const ev = await backend.event('personalChatSent', forUser(alice));
    const own = checkEnvelope(ev, 'personalChatSent', { userId: alice, clientId: 'chat-ui', node: 'solo', traceId: trace });
    assert.deepEqual(own, {
      message_id: sent.data.message_id, sender_id: alice, target_id: bob, payload: 'hello bob',
      target_type: 'user', target_members: [bob, alice],
    });
    // The sessionId is that of the session that sent it.
    const ups = (await hook.take((e) => e.name === 'userConnected' && e.userId === alice, 2)).map((p) => p.json.sessionId);
    assert.ok(ups.includes(ev.sessionId), `${ev.sessionId} is one of alice's sessions ${ups}`);
  });

  it('personalChatSent takes azp for clientId when the token has no client_id', async (t) => {
    const sender = uniq('azp-sender-');
    const target = uniq('azp-target-');
    const [s] = await chatSessions(node, sender, 1, backend, { azp: 'mobile-app' });
    const [r] = await chatSessions(node, target, 1, backend);
    t.after(() => { s.close(); r.close(); });
    s.send({ type: 'send_message', target_type: 'user', target_id: target, payload: 'via azp', id: 'z1' });
    assert.equal((await s.next(ofType('message_sent'))).id, 'z1');
    const ev = await backend.event('personalChatSent', forUser(sender));
    checkEnvelope(ev, 'personalChatSent', { userId: sender, clientId: 'mobile-app' });
  });

  it('a party message reaches every session of every member; members only, known parties only', async (t) => {
    const party = uniq('party-');
    const [a, b, c, d] = ['pa-', 'pb-', 'pc-', 'pd-'].map(uniq);
    await publishOk(node, { topic: `chat:party:${party}`, event_type: 'party.members', data: { members: [a, b, c] } });
    const sa = await chatSessions(node, a, 1, backend);
    const sb = await chatSessions(node, b, 2, backend);
    const sc = await chatSessions(node, c, 3, backend);
    const [sd] = await chatSessions(node, d, 1, backend);
    t.after(() => { for (const x of [...sa, ...sb, ...sc, sd]) x.close(); });
    await waitFor(async () => {
      sa[0].send({ type: 'get_parties' });
      const p = await sa[0].next(ofType('parties'));
      return p.data.parties.some((x) => x.party_id === party);
    }, { timeoutMs: 3000, message: 'the party to be known' });
    sb[1].send({ type: 'get_parties', id: 'gp' });
    const parties = await sb[1].next(ofType('parties'));
    assert.deepEqual(parties.data.parties.find((x) => x.party_id === party), { party_id: party, members: [a, b, c] });

    sb[0].send({ type: 'send_message', target_type: 'party', target_id: party, payload: 'hi all', message_id: 'pm-1' });
    const sent = await sb[0].next(ofType('message_sent'));
    assert.equal(sent.data.message_id, 'pm-1');
    const want = { message_id: 'pm-1', sender_id: b, target_id: party, target_type: 'party', target_members: [a, b, c], payload: 'hi all' };
    for (const s of [...sa, ...sb, ...sc]) checkPersonal(await s.next(ofType('personal_message')), want);
    const own = checkEnvelope(await backend.event('personalChatSent', forUser(b)), 'personalChatSent', { userId: b, clientId: '' });
    assert.deepEqual(own, {
      message_id: 'pm-1', sender_id: b, target_id: party, payload: 'hi all', target_type: 'party', target_members: [a, b, c],
    });

    sd.send({ type: 'send_message', target_type: 'party', target_id: party, payload: 'let me in', id: 'x' });
    const denied = await sd.next(ofType('error'));
    assert.equal(denied.data.code, 'PERMISSION_DENIED');
    assert.equal(denied.id, 'x');
    sd.send({ type: 'send_message', target_type: 'party', target_id: uniq('nope-'), payload: '?' });
    assert.equal((await sd.next(ofType('error'))).data.code, 'NOT_FOUND');
    await sleep(200);
    assert.deepEqual(sd.peek(ofType('personal_message')), []);
    assert.deepEqual(await backend.quiet('personalChatSent', forUser(d), 0), [], 'a refused message emits nothing');

    // An empty member list dissolves the party.
    await publishOk(node, { topic: `chat:party:${party}`, event_type: 'party.members', data: { members: [] } });
    await waitFor(async () => {
      sb[0].send({ type: 'get_parties' });
      const p = await sb[0].next(ofType('parties'));
      return !p.data.parties.some((x) => x.party_id === party);
    }, { timeoutMs: 3000, message: 'the party to be dissolved' });
    sa[0].send({ type: 'send_message', target_type: 'party', target_id: party, payload: 'anyone?' });
    assert.equal((await sa[0].next(ofType('error'))).data.code, 'NOT_FOUND');
  });

  it('bad messages are error frames, the connection stays', async (t) => {
    const [c] = await chatSessions(node, uniq('bad-'), 1, null);
    t.after(() => c.close());
    for (const [frame, code] of [
      [{ type: 'send_message', target_id: 'x', payload: 'p' }, 'INVALID_MESSAGE'],
      [{ type: 'send_message', target_type: 'group', target_id: 'x', payload: 'p' }, 'INVALID_MESSAGE'],
      [{ type: 'send_message', target_type: 'user', target_id: 'no spaces', payload: 'p' }, 'INVALID_MESSAGE'],
      [{ type: 'send_message', target_type: 'user', target_id: 'x', payload: 7 }, 'INVALID_MESSAGE'],
      [{ type: 'send_message', target_type: 'user', target_id: 'x', payload: 'y'.repeat(5000) }, 'LIMIT_EXCEEDED'],
      [{ type: 'shout' }, 'INVALID_MESSAGE'],
    ]) {
      c.send(frame);
      assert.equal((await c.next(ofType('error'))).data.code, code, JSON.stringify(frame).slice(0, 100));
    }
    assert.ok(c.isOpen);
  });
});

describe('userChatRateLimited', () => {
  it('the message over the rate is refused with RATE_LIMITED and emits the event; the connection stays', async (t) => {
    const user = uniq('chatty-');
    const peer = uniq('peer-');
    const [s1, s2] = await chatSessions(node, user, 2, backend, { client_id: 'chat-ui' });
    const [p] = await chatSessions(node, peer, 1, backend);
    t.after(() => { s1.close(); s2.close(); p.close(); });
    // The limit is per user, over all their sessions.
    for (let i = 0; i < CHAT.rate_messages; i++) {
      const s = i % 2 ? s2 : s1;
      s.send({ type: 'send_message', target_type: 'user', target_id: peer, payload: `m${i}` });
      await s.next(ofType('message_sent'));
    }
    s2.send({ type: 'send_message', target_type: 'user', target_id: peer, payload: 'one too many', id: 'over' });
    const refused = await s2.next(ofType('error'));
    assert.equal(refused.data.code, 'RATE_LIMITED');
    assert.equal(refused.id, 'over');
    const ev = await backend.event('userChatRateLimited', forUser(user));
    const own = checkEnvelope(ev, 'userChatRateLimited', { userId: user, clientId: 'chat-ui', node: 'solo' });
    assert.equal(own.code, 429);
    assert.equal(own.forced, false);
    assert.equal(typeof own.reason, 'string');
    assert.ok(own.reason.length > 0);
    assert.equal(own.endpoint, 'chat');
    assert.equal(own.limit, CHAT.rate_messages);
    assert.equal(own.window_ms, CHAT.rate_window_ms);
    const sessions = (await hook.take((e) => e.name === 'userConnected' && e.userId === user, 2)).map((x) => x.json.sessionId);
    assert.ok(sessions.includes(ev.sessionId));
    await sleep(200);
    assert.equal(p.peek((m) => m.type === 'personal_message' && m.data.payload === 'one too many').length, 0);
    assert.ok(s1.isOpen && s2.isOpen, 'the connections stay');
    assert.deepEqual(await backend.quiet('personalChatSent', (e) => e.payload.personalChatSent.payload === 'one too many', 0), []);
  });
});

// ---------------------------------------------------------------------------

describe('the webhook', () => {
  it('gets every event as JSON POSTs, the same envelopes as the topics', async (t) => {
    const user = uniq('hooked-');
    const peer = uniq('hpeer-');
    const [p] = await chatSessions(node, peer, 1, backend);
    t.after(() => p.close());
    const [s] = await chatSessions(node, user, 1, null);
    const seen = { userConnected: await backend.event('userConnected', forUser(user)) };
    for (let i = 0; i <= CHAT.rate_messages; i++) {
      s.send({ type: 'send_message', target_type: 'user', target_id: peer, payload: `w${i}` });
      await s.next((m) => m.type === 'message_sent' || m.type === 'error');
    }
    seen.personalChatSent = await backend.event('personalChatSent', forUser(user));
    seen.userChatRateLimited = await backend.event('userChatRateLimited', forUser(user));
    await s.close();
    seen.userDisconnected = await backend.event('userDisconnected', forUser(user));
    await hook.take((e) => e.id === seen.userDisconnected.id, 1, 5000, 'the last event posted');
    // Posted in the order they were emitted, one at a time.
    assert.deepEqual(hook.posts.filter((x) => x.json?.userId === user).map((x) => x.json.name), [
      'userConnected', ...Array(CHAT.rate_messages).fill('personalChatSent'), 'userChatRateLimited', 'userDisconnected']);
    assert.equal(hook.maxConcurrent, 1, 'never two posts at once');
    for (const [name, env] of Object.entries(seen)) {
      const [post] = await hook.take((e) => e.id === env.id, 1, 5000, `the webhook post of ${name}`);
      assert.equal(post.method, 'POST');
      assert.equal(post.url, '/hook');
      assert.match(post.headers['content-type'] ?? '', /^application\/json/);
      assert.deepEqual(post.json, env, `${name}: the webhook and the topic carry the same envelope`);
      checkEnvelope(post.json, name, { userId: user });
    }
    assert.equal(hook.posts.filter((x) => x.json?.userId === user && x.json.name === 'personalChatSent').length,
      CHAT.rate_messages, 'one post per message');
  });

  it('retries a post answered 500, with a growing backoff, until it is taken', async () => {
    const user = uniq('retry-');
    hook.failFor((e) => e.userId === user && e.name === 'userConnected', [500, 500]);
    const before = await metrics(node);
    const c = await connect(node, await hs256({ sub: user }));
    const up = await backend.event('userConnected', forUser(user));
    const posts = await hook.take((e) => e.id === up.id, 3, 5000, 'three attempts');
    assert.deepEqual(posts.map((x) => x.answer), [500, 500, 200]);
    for (const x of posts) assert.deepEqual(x.json, up, 'each attempt posts the same envelope');
    const gaps = [posts[1].at - posts[0].at, posts[2].at - posts[1].at];
    assert.ok(gaps[0] >= 40, `first retry after the backoff (${gaps[0]} ms)`);
    assert.ok(gaps[1] >= 90, `the backoff doubles (${gaps[1]} ms)`);
    await c.close();
    await hook.take((e) => e.name === 'userDisconnected' && e.userId === user, 1);
    const after = await metrics(node);
    assert.ok(after.herald_webhook_failures_total - before.herald_webhook_failures_total >= 2, 'failures counted');
    assert.ok(after.herald_webhook_posts_total > before.herald_webhook_posts_total, 'posts counted');
  });

  it('retries a post that times out', async () => {
    const user = uniq('slowhook-');
    hook.failFor((e) => e.userId === user && e.name === 'userConnected', ['hang']);
    const c = await connect(node, await hs256({ sub: user }));
    const up = await backend.event('userConnected', forUser(user));
    const posts = await hook.take((e) => e.id === up.id, 2, 5000, 'a retry after the timeout');
    assert.deepEqual(posts.map((x) => x.answer), ['hang', 200]);
    assert.ok(posts[1].at - posts[0].at >= 350, `the first attempt was given timeout_ms (${posts[1].at - posts[0].at} ms)`);
    await c.close();
  });

  it('a failing webhook holds up nothing else: sessions, chat and topics go on; '
    + 'events past max_attempts are dropped and counted', { timeout: 30_000 }, async (t) => {
    // From an idle webhook whose breaker is closed (the last post was taken).
    await waitFor(async () => (await metrics(node)).herald_webhook_queue === 0,
      { timeoutMs: 5000, message: 'the webhook queue to drain' });
    const before = await metrics(node);
    const started = Date.now();
    hook.fallback = 500;
    t.after(() => { hook.fallback = 200; });
    const user = uniq('amid-');
    const peer = uniq('apeer-');
    const [p] = await chatSessions(node, peer, 1, backend);
    const [s] = await chatSessions(node, user, 1, backend);
    s.send({ type: 'send_message', target_type: 'user', target_id: peer, payload: 'still here' });
    await s.next(ofType('message_sent'));
    checkPersonal(await p.next(ofType('personal_message')), { payload: 'still here', sender_id: user });
    const ev = await backend.event('personalChatSent', forUser(user));
    await s.close();
    await p.close();
    await backend.event('userDisconnected', forUser(user));
    const took = Date.now() - started;
    assert.ok(took < 3000, `sessions, chat and the topic were not held up (${took} ms)`);

    // The failing posts: retried max_attempts times, then dropped.
    await waitFor(async () => (await metrics(node)).herald_webhook_dropped_total > before.herald_webhook_dropped_total,
      { timeoutMs: 10_000, message: 'herald_webhook_dropped_total to rise' });
    const tries = await hook.take((e) => e.id === ev.id, 3, 10_000, 'three attempts of personalChatSent');
    assert.ok(tries.every((x) => x.answer === 500));
    await sleep(300);
    assert.equal(hook.of(ev.id).length, 3, 'max_attempts (3) posts, then no more');
    // failure_threshold (8) failures in a row open the breaker: open_ms
    // (300) without a post, then a trial.
    const failed = hook.posts.filter((x) => x.at >= started && x.answer === 500);
    assert.ok(failed.length > 8, `${failed.length} failed posts`);
    const pause = failed[8].at - failed[7].at;
    assert.ok(pause >= 280, `the breaker held posts back after 8 failures (${pause} ms)`);

    // Back to health: new events go out again (after the breaker's open_ms).
    hook.fallback = 200;
    const later = uniq('later-');
    const c = await connect(node, await hs256({ sub: later }));
    const up = await backend.event('userConnected', forUser(later));
    const [ok] = await hook.take((e) => e.id === up.id, 1, 10_000, 'a post after the webhook recovered');
    assert.equal(ok.answer, 200);
    await c.close();
    await waitFor(async () => (await metrics(node)).herald_webhook_queue === 0,
      { timeoutMs: 5000, message: 'the webhook queue to drain' });
    const m = await metrics(node);
    assert.ok(m.herald_chat_events_total > before.herald_chat_events_total);
    assert.ok(m.herald_webhook_failures_total - before.herald_webhook_failures_total >= 3);
  });
});

// ---------------------------------------------------------------------------

describe('personal chat across a three-node cluster', () => {
  let nodes = [];
  let chook;
  let cback;
  const by = {};

  before(async () => {
    chook = await startWebhook();
    nodes = await startCluster(['a', 'b', 'c'], {
      overrides: {
        chat_events: { connections: true, namespace: NS, parent_namespace: PARENT_NS, webhook: { url: chook.url, backoff_ms: 50 } },
        plugins: { load: [{ path: 'herald_chat.so', config: CHAT }] },
      },
    });
    for (const n of nodes) by[n.name] = n;
    cback = await backendOf(by.c);
  });
  after(async () => {
    await stopAll(nodes);
    await chook?.close();
  });

  it('a message to a user or a party reaches every session of every member on every node; '
    + 'each event is posted once', { timeout: 60_000 }, async (t) => {
    const [alice, bob, carol, dave] = ['alice-', 'bob-', 'carol-', 'dave-'].map(uniq);
    const party = uniq('party-');
    const sess = {
      alice: [...await chatSessions(by.a, alice, 1), ...await chatSessions(by.b, alice, 1)],
      bob: [...await chatSessions(by.b, bob, 1), ...await chatSessions(by.c, bob, 2)],
      carol: [...await chatSessions(by.c, carol, 1), ...await chatSessions(by.a, carol, 1)],
      dave: await chatSessions(by.a, dave, 1),
    };
    t.after(() => { for (const list of Object.values(sess)) for (const c of list) c.close(); });
    // Every connection's userConnected reaches the backend on c, whatever its node.
    for (const [who, list] of Object.entries({ [alice]: sess.alice, [bob]: sess.bob, [carol]: sess.carol })) {
      const ups = [];
      for (let i = 0; i < list.length; i++) ups.push(await cback.event('userConnected', forUser(who)));
      for (const up of ups) checkEnvelope(up, 'userConnected', { userId: who });
    }
    // The chat:user:<id> interest of each node's channel reaches the owners.
    await sleep(500);

    sess.alice[0].send({ type: 'send_message', target_type: 'user', target_id: bob, payload: 'across', id: 'd1' });
    const sent = await sess.alice[0].next(ofType('message_sent'));
    const want = {
      message_id: sent.data.message_id, sender_id: alice, target_id: bob, target_type: 'user',
      target_members: [bob, alice], payload: 'across',
    };
    for (const s of [...sess.alice, ...sess.bob]) checkPersonal(await s.next(ofType('personal_message'), 5000), want);

    await publishOk(by.b, { topic: `chat:party:${party}`, event_type: 'party.members', data: { members: [alice, bob, carol] } });
    await waitFor(async () => {
      sess.carol[0].send({ type: 'get_parties' });
      const p = await sess.carol[0].next(ofType('parties'));
      return p.data.parties.some((x) => x.party_id === party);
    }, { timeoutMs: 5000, message: 'node c to know the party published on b' });
    sess.carol[0].send({ type: 'send_message', target_type: 'party', target_id: party, payload: 'all of us', message_id: 'cp1' });
    await sess.carol[0].next(ofType('message_sent'));
    const pwant = {
      message_id: 'cp1', sender_id: carol, target_id: party, target_type: 'party',
      target_members: [alice, bob, carol], payload: 'all of us',
    };
    for (const s of [...sess.alice, ...sess.bob, ...sess.carol]) checkPersonal(await s.next(ofType('personal_message'), 5000), pwant);
    await sleep(300);
    assert.deepEqual(sess.dave[0].peek(ofType('personal_message')), [], 'dave is in neither');
    for (const s of [...sess.alice, ...sess.bob, ...sess.carol]) {
      assert.deepEqual(s.peek(ofType('personal_message')), [], 'each session got each message once');
    }

    // personalChatSent: emitted by the sender's node, seen from c.
    const d = checkEnvelope(await cback.event('personalChatSent', forUser(alice)), 'personalChatSent', { node: 'a', userId: alice });
    assert.equal(d.target_id, bob);
    const pe = await cback.event('personalChatSent', forUser(carol));
    assert.deepEqual(checkEnvelope(pe, 'personalChatSent', { node: 'c' }).target_members, [alice, bob, carol]);

    // Each event of the cluster is posted once, by the node that emitted it.
    await chook.take((e) => e.id === pe.id, 1);
    await chook.take((e) => e.name === 'userConnected' && [alice, bob, carol, dave].includes(e.userId), 8, 5000);
    await sleep(300);
    const ids = chook.posts.map((x) => x.json?.id);
    assert.equal(new Set(ids).size, ids.length, 'no event posted twice');
    const ofAlice = chook.posts.filter((x) => x.json?.name === 'userConnected' && x.json.userId === alice);
    assert.deepEqual(ofAlice.map((x) => x.json.node).sort(), ['a', 'b']);
  });

  it('a node that shuts down ends its sessions forced with 1001, and says so to the rest of the cluster', { timeout: 30_000 }, async () => {
    const user = uniq('leaving-');
    const token = await hs256({ sub: user });
    const plain = await connect(by.b, token);
    const chat = await connect(by.b, token, { url: chatUrl(by.b) });
    const ups = [await cback.event('userConnected', forUser(user)), await cback.event('userConnected', forUser(user))];
    // stop() sends SIGTERM at once; the clients see the node's close
    // before stop() tidies up (it terminates what is left open).
    const stopped = by.b.stop();
    assert.equal((await plain.waitClose(5000)).code, 1001);
    assert.equal((await chat.waitClose(5000)).code, 1001);
    await stopped;
    const downs = [await cback.event('userDisconnected', forUser(user)), await cback.event('userDisconnected', forUser(user))];
    for (const d of downs) {
      checkDisconnect(checkEnvelope(d, 'userDisconnected', { node: 'b', userId: user }), { code: 1001, forced: true }, 'shutdown');
    }
    assert.deepEqual(new Set(downs.map((d) => d.sessionId)), new Set(ups.map((u) => u.sessionId)));
    const posted = await chook.take((e) => e.name === 'userDisconnected' && e.userId === user, 2);
    assert.deepEqual(posted.map((x) => x.json.payload.userDisconnected.code), [1001, 1001]);
  });
});
