// docs/endpoints.md "skyduel": /api/v69/ws/skyduel on a real node with the
// skyduel plugin and three configured upstream services, driven by real
// WebSocket clients. A local HTTP upstream, started here, is made healthy
// and unhealthy (the breaker changes reach subscribers as service_update)
// and answers the commands the node sends it through the service's
// breaker: a success, a 4xx, a 500, a hang (timeout); a port nobody
// listens on is refused; enough failures open the breaker, and then a
// command is answered at once without reaching the upstream.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startNode, connect, hs256, publishOk, sleep, uniq, waitFor, freePort } from './lib/index.mjs';

const COMMAND_TIMEOUT_MS = 500;
const LEDGER_OPEN_MS = 1500;

// The upstream: /arena/health follows `arenaHealthy`; /ledger/health is
// always up; POST /commands/<name> is counted and answered by name.
let arenaHealthy = true;
const commands = []; // {method, path, type, body}
const hanging = [];
let upstream;
let node;
let deadPort;

function serve(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    if (req.url === '/arena/health') {
      res.writeHead(arenaHealthy ? 200 : 503).end(arenaHealthy ? 'up' : 'down');
      return;
    }
    if (req.url === '/ledger/health') {
      res.writeHead(200).end('up');
      return;
    }
    const m = /^\/commands\/(.+)$/.exec(req.url);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    let json;
    try { json = JSON.parse(body); } catch { json = body; }
    commands.push({ method: req.method, path: req.url, type: req.headers['content-type'], body: json });
    const reply = (status, payload, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    switch (m[1]) {
      case 'hang': hanging.push(res); return; // never answers
      case 'fail': return reply(500, { error: 'boom' });
      case 'bad': return reply(400, 'no such command', 'text/plain');
      case 'text': return reply(200, 'fine', 'text/plain');
      default: return reply(200, { accepted: true, command: json?.command, params: json?.params });
    }
  });
}

const url = () => `${node.url.replace('http', 'ws')}/api/v69/ws/skyduel`;
const user = (sub, roles = []) => ({ sub, roles });
const admin = (sub = 'pilot') => user(sub, ['admin']);
const ofType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const isUpdate = (service, pred = () => true) => ofType('service_update', (m) => m.data?.service === service && pred(m));
const toState = (service, state) => isUpdate(service, (m) => m.data.state === state);

/** Opens the endpoint as `claims` and takes its welcome. */
async function open(t, claims) {
  const c = await connect(node, await hs256(claims), { url: url() });
  t.after(() => c.close());
  c.welcome = await c.next(ofType('welcome'), 3000, 'the welcome');
  return c;
}

/** Sends `frame` with an id and takes the first frame echoing it. */
async function ask(c, frame, timeoutMs = 3000) {
  const id = frame.id ?? uniq('q');
  c.send({ ...frame, id });
  return c.next((m) => m.id === id, timeoutMs, `the answer to ${JSON.stringify(frame).slice(0, 120)}`);
}

async function quiet(c, pred, ms, what) {
  await sleep(ms);
  assert.deepEqual(c.peek(pred), [], `nothing more expected: ${what}`);
}

/** A command, timed: {m (the answer), ms}. */
async function command(c, service, cmd, extra = {}) {
  const started = Date.now();
  const m = await ask(c, { type: 'service_command', service, command: cmd, ...extra }, COMMAND_TIMEOUT_MS + 5000);
  return { m, ms: Date.now() - started };
}

function assertError(m, code, re) {
  assert.equal(m.type, 'error', JSON.stringify(m));
  assert.equal(m.data.code, code, JSON.stringify(m));
  if (re) assert.match(m.data.message, re, JSON.stringify(m));
}

before(async () => {
  upstream = http.createServer(serve);
  await new Promise((res) => upstream.listen(0, '127.0.0.1', res));
  const port = upstream.address().port;
  deadPort = await freePort();
  node = await startNode({
    services: [{
      // Probed often: its breaker follows /arena/health within a second.
      name: 'arena', layer: 'core',
      probe: { http: `http://127.0.0.1:${port}/arena/health`, expect_status: 200, timeout_ms: 300 },
      interval_ms: 100,
      breaker: { failure_threshold: 2, open_ms: 500, half_open_trials: 1, close_after: 1 },
    }, {
      // Probed once, at start: only the commands drive its breaker.
      name: 'ledger', layer: 'data',
      probe: { http: `http://127.0.0.1:${port}/ledger/health`, expect_status: 200, timeout_ms: 500 },
      interval_ms: 3_600_000,
      breaker: { failure_threshold: 3, open_ms: LEDGER_OPEN_MS, half_open_trials: 1, close_after: 1 },
    }, {
      // Nobody listens: refused, but the breaker stays closed.
      name: 'ghost', layer: 'data',
      probe: { tcp: `127.0.0.1:${deadPort}` },
      interval_ms: 3_600_000,
      breaker: { failure_threshold: 1000 },
    }],
    plugins: { load: [{ path: 'herald_skyduel.so', config: { command_timeout_ms: COMMAND_TIMEOUT_MS } }] },
  });
});

after(async () => {
  await node?.stop();
  for (const res of hanging) res.destroy();
  upstream?.closeAllConnections?.();
  await new Promise((res) => upstream.close(res));
});

describe('skyduel: connecting and reading', () => {
  it('needs a token: none and a bad one are refused with 401', async () => {
    await assert.rejects(connect(node, null, { url: url() }), (e) => e.statusCode === 401);
    await assert.rejects(connect(node, 'nope', { url: url() }), (e) => e.statusCode === 401);
  });

  it('welcomes a client with its user, the node and how many services there are', async (t) => {
    const c = await open(t, user('wendy'));
    assert.deepEqual(c.welcome.data, { user_id: 'wendy', node: 'e2e', services: 3 });
    assert.match(c.welcome.timestamp, /Z$/);
  });

  it('get_services answers service_data: every service, its breaker, and the data backends publish', async (t) => {
    const c = await open(t, user('reader'));
    const first = await ask(c, { type: 'get_services', id: 'g1' });
    assert.equal(first.type, 'service_data', JSON.stringify(first));
    assert.equal(first.id, 'g1');
    assert.deepEqual(first.data.services.map((s) => s.name), ['arena', 'ghost', 'ledger']);
    const arena = first.data.services.find((s) => s.name === 'arena');
    assert.deepEqual(arena, { name: 'arena', layer: 'core', state: 'closed', given_up: false, data: null });
    assert.equal(first.data.services.find((s) => s.name === 'ledger').layer, 'data');

    await publishOk(node, { topic: 'skyduel:service:ledger', event_type: 'skyduel.data', data: { balance: 42, ok: true } });
    await waitFor(async () => {
      const m = await ask(c, { type: 'get_services' });
      return m.data.services.find((s) => s.name === 'ledger').data?.balance === 42;
    }, { timeoutMs: 3000, message: 'the published data in service_data' });
  });

  it('heartbeat has no answer and keeps the connection', async (t) => {
    const c = await open(t, user('beater'));
    c.send({ type: 'heartbeat', id: 'h1' });
    await quiet(c, (m) => m.id === 'h1', 300, 'an answer to heartbeat');
    assert.equal((await ask(c, { type: 'get_services' })).type, 'service_data');
  });
});

describe('skyduel: subscriptions', () => {
  it('subscribe_service confirms, then pushes service_update as the breaker changes and data arrives; unsubscribe stops it', { timeout: 30_000 }, async (t) => {
    const c = await open(t, user('watcher'));
    const other = await open(t, user('bystander'));
    const stays = await open(t, user('stayer'));
    const sub = await ask(c, { type: 'subscribe_service', service: 'arena', id: 's1' });
    assert.equal(sub.type, 'service_subscribed', JSON.stringify(sub));
    assert.equal(sub.id, 's1');
    assert.deepEqual(sub.data, { service: 'arena', subscribed: true, state: 'closed', data: null });
    assert.equal((await ask(other, { type: 'subscribe_service', service: 'ledger' })).data.subscribed, true);
    await ask(stays, { type: 'subscribe_service', service: 'arena' });

    // Data from a backend.
    await publishOk(node, { topic: 'skyduel:service:arena', event_type: 'skyduel.data', data: { players: 12 } });
    const data = await c.next(isUpdate('arena', (m) => m.data.data !== undefined), 3000, 'the data update');
    assert.deepEqual(data.data, { service: 'arena', data: { players: 12 } });
    assert.equal(data.id, undefined);
    // A new subscriber gets the last data in its confirmation.
    const late = await open(t, user('late'));
    assert.deepEqual((await ask(late, { type: 'subscribe_service', service: 'arena' })).data.data, { players: 12 });

    // The upstream fails, then recovers: every breaker change is pushed.
    arenaHealthy = false;
    const opened = await c.next(toState('arena', 'open'), 5000, 'arena opening');
    assert.deepEqual(opened.data, { service: 'arena', state: 'open', reason: '2 consecutive failures' });
    arenaHealthy = true;
    const half = await c.next(toState('arena', 'half_open'), 5000, 'arena half-open');
    // after open_ms (500), at the first probe tick past it
    const openFor = Number(/open for (\d+) ms/.exec(half.data.reason)?.[1]);
    assert.ok(openFor >= 500 && openFor < 3000, half.data.reason);
    await c.next(toState('arena', 'closed'), 5000, 'arena closing');
    await quiet(other, isUpdate('arena'), 0, 'arena updates to a ledger subscriber');

    // Unsubscribed: the next changes go to the others only.
    const un = await ask(c, { type: 'unsubscribe_service', service: 'arena', id: 'u1' });
    assert.equal(un.type, 'service_subscribed');
    assert.equal(un.id, 'u1');
    assert.deepEqual(un.data, { service: 'arena', subscribed: false });
    c.drain();
    arenaHealthy = false;
    await stays.next(toState('arena', 'open'), 5000, 'arena opening again');
    arenaHealthy = true;
    await stays.next(toState('arena', 'closed'), 5000, 'arena closing again');
    await publishOk(node, { topic: 'skyduel:service:arena', event_type: 'skyduel.data', data: { players: 13 } });
    await stays.next(isUpdate('arena', (m) => m.data.data?.players === 13), 3000, 'the data update');
    await quiet(c, ofType('service_update'), 100, 'updates after unsubscribe_service');
    assert.ok(!c.peek().some((m) => m.type === 'service_update'));
  });

  it('unknown services are NOT_FOUND; bad input answers INVALID_MESSAGE and keeps the connection', async (t) => {
    const c = await open(t, admin('prober'));
    const sent = commands.length;
    const nf = await ask(c, { type: 'subscribe_service', service: 'nowhere' });
    assertError(nf, 'NOT_FOUND', /nowhere/);
    assert.equal(nf.data.request, 'subscribe_service');
    const cmd = await ask(c, { type: 'service_command', service: 'nowhere', command: 'restart' });
    assertError(cmd, 'NOT_FOUND', /nowhere/);
    assert.equal(cmd.data.request, 'service_command');

    for (const frame of [
      { type: 'launch_missiles' },
      { type: 'subscribe_service' },
      { type: 'subscribe_service', service: 42 },
      { type: 'subscribe_service', service: 'a b' },
      { type: 'subscribe_service', service: 'x'.repeat(65) },
      { type: 'unsubscribe_service', service: ['arena'] },
      { type: 'service_command', command: 'restart' },
      { type: 'service_command', service: 'ledger' },
      { type: 'service_command', service: 'ledger', command: '../admin' },
      { type: 'service_command', service: 'ledger', command: 7 },
      { type: 'service_command', service: 'ledger', command: 'restart', params: [1] },
      { type: 'service_command', service: 'ledger', command: 'restart', params: 'x' },
      { type: 'service_command', service: 'ledger', command: 'restart', params: null },
    ]) {
      const m = await ask(c, frame);
      assertError(m, 'INVALID_MESSAGE');
      assert.equal(m.data.request, frame.type, JSON.stringify(m));
    }
    // Not a request at all: no id is echoed.
    for (const raw of ['{nope', '[1]', JSON.stringify({ service: 'arena', id: 'x' }), JSON.stringify({ type: 42 })]) {
      c.send(raw);
      assertError(await c.next(ofType('error'), 3000, `the error for ${raw}`), 'INVALID_MESSAGE');
    }
    assert.equal(commands.length, sent, 'no bad command reached the upstream');
    assert.equal((await ask(c, { type: 'get_services' })).type, 'service_data');
  });
});

describe('skyduel: service_command', () => {
  it('needs the admin role: PERMISSION_DENIED, and nothing is sent', async (t) => {
    const c = await open(t, user('cadet', ['manager']));
    const before = commands.length;
    const m = await ask(c, { type: 'service_command', service: 'ledger', command: 'restart' });
    assertError(m, 'PERMISSION_DENIED', /admin/);
    assert.equal(m.data.request, 'service_command');
    await sleep(100);
    assert.equal(commands.length, before);
  });

  it('POSTs the command to the service and answers the result as service_update', async (t) => {
    const c = await open(t, admin());
    const before = commands.length;
    const { m } = await command(c, 'ledger', 'restart', { params: { force: true, delay: 2 }, id: 'c1' });
    assert.equal(m.type, 'service_update', JSON.stringify(m));
    assert.equal(m.id, 'c1');
    assert.deepEqual(Object.keys(m.data).sort(), ['command', 'latency_ms', 'outcome', 'result', 'service', 'status']);
    assert.equal(m.data.service, 'ledger');
    assert.equal(m.data.command, 'restart');
    assert.equal(m.data.outcome, 'ok');
    assert.equal(m.data.status, 200);
    assert.deepEqual(m.data.result, { accepted: true, command: 'restart', params: { force: true, delay: 2 } });
    assert.equal(typeof m.data.latency_ms, 'number');
    assert.equal(commands.length, before + 1);
    assert.deepEqual(commands.at(-1), {
      method: 'POST', path: '/commands/restart', type: 'application/json',
      body: { command: 'restart', params: { force: true, delay: 2 }, user_id: 'pilot' },
    });

    // No params: an empty object. A body that is not JSON: a string.
    const text = (await command(c, 'ledger', 'text')).m;
    assert.equal(text.data.outcome, 'ok');
    assert.equal(text.data.result, 'fine');
    assert.deepEqual(commands.at(-1).body.params, {});
    // A 4xx is an answer: failed, with its status and body.
    const bad = (await command(c, 'ledger', 'bad')).m;
    assert.equal(bad.type, 'service_update', JSON.stringify(bad));
    assert.equal(bad.data.outcome, 'failed');
    assert.equal(bad.data.status, 400);
    assert.equal(bad.data.result, 'no such command');
  });

  it('a refused connection is UNAVAILABLE "refused"', async (t) => {
    const c = await open(t, admin());
    const { m } = await command(c, 'ghost', 'restart');
    assertError(m, 'UNAVAILABLE', /^refused/);
    assert.equal(m.data.request, 'service_command');
  });

  it('timeouts and 500s count against the breaker; once open, a command is refused at once and never sent; then it recovers', { timeout: 30_000 }, async (t) => {
    const c = await open(t, admin());
    const watcher = await open(t, user('watcher2'));
    await ask(watcher, { type: 'subscribe_service', service: 'ledger' });
    // A 4xx first: not a failure, so the three below are three in a row.
    assert.equal((await command(c, 'ledger', 'bad')).m.data.status, 400);

    const hang = await command(c, 'ledger', 'hang');
    assertError(hang.m, 'UNAVAILABLE', /^timeout/);
    assert.ok(hang.ms >= COMMAND_TIMEOUT_MS - 50, `answered after ${hang.ms} ms`);
    assert.ok(hang.ms < COMMAND_TIMEOUT_MS + 2000, `answered after ${hang.ms} ms`);

    const fail = (await command(c, 'ledger', 'fail')).m;
    assert.equal(fail.type, 'service_update', JSON.stringify(fail));
    assert.equal(fail.data.outcome, 'failed');
    assert.equal(fail.data.status, 500);
    assert.deepEqual(fail.data.result, { error: 'boom' });
    assert.equal((await ask(c, { type: 'get_services' })).data.services.find((s) => s.name === 'ledger').state,
      'closed', 'two failures in a row are below the threshold');

    assert.equal((await command(c, 'ledger', 'fail')).m.data.status, 500);
    const opened = await watcher.next(toState('ledger', 'open'), 3000, 'ledger opening');
    assert.equal(opened.data.reason, '3 consecutive failures');
    const svc = (await ask(c, { type: 'get_services' })).data.services.find((s) => s.name === 'ledger');
    assert.equal(svc.state, 'open');

    // Open: refused at once, the upstream not called.
    const hits = commands.length;
    for (let i = 0; i < 3; i++) {
      const { m, ms } = await command(c, 'ledger', 'restart');
      assertError(m, 'UNAVAILABLE', /^breaker_open/);
      assert.ok(ms < COMMAND_TIMEOUT_MS - 100, `answered after ${ms} ms, not at once`);
    }
    const hungBefore = hanging.length;
    assertError((await command(c, 'ledger', 'hang')).m, 'UNAVAILABLE', /^breaker_open/);
    await sleep(100);
    assert.equal(commands.length, hits, 'no command reached the upstream while open');
    assert.equal(hanging.length, hungBefore);

    // After open_ms the next command is the half-open trial; it succeeds
    // and the breaker closes.
    await sleep(LEDGER_OPEN_MS);
    const trial = (await command(c, 'ledger', 'restart')).m;
    assert.equal(trial.type, 'service_update', JSON.stringify(trial));
    assert.equal(trial.data.outcome, 'ok');
    assert.equal(commands.length, hits + 1);
    await watcher.next(toState('ledger', 'half_open'), 3000, 'ledger half-open');
    await watcher.next(toState('ledger', 'closed'), 3000, 'ledger closing on the trial');
    assert.equal((await command(c, 'ledger', 'restart')).m.data.outcome, 'ok');
  });
});
