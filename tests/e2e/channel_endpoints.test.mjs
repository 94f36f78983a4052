// docs/channels.md: /api/v69/ws/circuit-breaker, /api/v69/ws/monitor and
// the drill channel, against upstreams started here that answer, fail or
// hang; and docs/monitors.md's supervision: a channel that keeps crashing
// is restarted, then tripped (503) until an admin resets it, while every
// other connection carries on.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startNode, connect, hs256, ids, metrics, get, sleep } from './lib/index.mjs';

const modes = { api: 'ok', cache: 'ok' };
const upstreams = {};
let node;

const channelUrl = (name) => `${node.url.replace('http', 'ws')}/api/v69/ws/${name}`;
const open = async (name, claims = ids.admin('c1')) => {
  const c = await connect(node, claims === null ? null : await hs256(claims), { url: channelUrl(name) });
  return c;
};
const isType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const errorOf = (code) => (m) => m.type === 'error' && m.data.code === code;

async function upstream(name) {
  const s = http.createServer((req, res) => {
    if (modes[name] === 'hang') return;
    res.writeHead(modes[name] === 'ok' ? 200 : 503);
    res.end();
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  upstreams[name] = s;
  return `http://127.0.0.1:${s.address().port}/health`;
}

before(async () => {
  const api = await upstream('api');
  const cache = await upstream('cache');
  node = await startNode({
    services: [
      { name: 'api', layer: 'core', probe: { http: api, timeout_ms: 300 }, interval_ms: 100,
        breaker: { failure_threshold: 2, open_ms: 500, half_open_trials: 1, close_after: 1 } },
      { name: 'cache', layer: 'data', probe: { http: cache, timeout_ms: 300 }, interval_ms: 100,
        breaker: { failure_threshold: 2, open_ms: 500 } },
    ],
    supervision: { max_restarts: 2, within_ms: 60000, backoff_initial_ms: 50, backoff_max_ms: 200 },
    channels: { drill: { enabled: true }, monitor: { status_interval_ms: 300 } },
    health: { recent_errors: 50 },
  });
});

after(async () => {
  await node?.stop();
  for (const s of Object.values(upstreams)) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

describe('channel upgrades', () => {
  it('answer 401 without a token, 404 for no channel, 426 without an upgrade', async () => {
    await assert.rejects(open('circuit-breaker', null), (e) => e.statusCode === 401);
    await assert.rejects(open('nope'), (e) => e.statusCode === 404);
    const plain = await get(node, '/api/v69/ws/monitor');
    assert.equal(plain.status, 426);
  });
});

describe('the circuit-breaker endpoint', () => {
  it('follows services as an upstream fails and recovers', { timeout: 20_000 }, async (t) => {
    const c = await open('circuit-breaker');
    t.after(() => c.close());
    c.send({ type: 'subscribe_all', id: 's1' });
    const state = await c.next(isType('services:state'), 3000, 'services:state');
    assert.equal(state.id, 's1');
    assert.match(state.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    const names = state.data.services.map((s) => s.service).sort();
    assert.deepEqual(names, ['api', 'cache', 'circuit-breaker', 'drill', 'monitor']);
    assert.equal(state.data.services.find((s) => s.service === 'drill').kind, 'channel');
    assert.ok(state.data.layers.some((l) => l.layer === 'core' && l.status === 'healthy'));

    await c.next(isType('service:update', (m) => m.data.service === 'api'), 3000, 'a probe update');
    modes.api = 'fail';
    const alert = await c.next(isType('service:alert', (m) => m.data.service === 'api'), 3000, 'the alert');
    assert.equal(alert.data.severity, 'critical');
    assert.equal(alert.data.node, 'e2e');
    assert.equal(alert.data.state, 'open');
    assert.match(alert.data.message, /2 consecutive failures/);
    const down = await c.next(isType('layer:status', (m) => m.data.layer === 'core'), 3000, 'core down');
    assert.equal(down.data.status, 'down');
    modes.api = 'ok';
    await c.next(isType('service:update', (m) => m.data.service === 'api' && m.data.state === 'closed'
      && m.data.reason.includes('half-open')), 4000, 'api closing again');
    const healthy = await c.next(isType('layer:status', (m) => m.data.layer === 'core'), 3000, 'core healthy');
    assert.equal(healthy.data.status, 'healthy');
  });

  it('sends a client only the layers and services it follows', { timeout: 10_000 }, async (t) => {
    const byLayer = await open('circuit-breaker');
    const byService = await open('circuit-breaker');
    t.after(() => { byLayer.close(); byService.close(); });
    byLayer.send({ type: 'subscribe:layer', layer: 'data' });
    const st = await byLayer.next(isType('services:state'));
    assert.deepEqual(st.data.services.map((s) => s.service), ['cache']);
    byService.send({ type: 'subscribe:service', service: 'api' });
    await byService.next(isType('services:state'));
    await byLayer.take(isType('service:update'), 3, 3000, 'cache updates');
    await byService.take(isType('service:update'), 3, 3000, 'api updates');
    assert.equal(byLayer.peek(isType('service:update', (m) => m.data.service !== 'cache')).length, 0);
    assert.equal(byService.peek(isType('service:update', (m) => m.data.service !== 'api')).length, 0);
    byLayer.send({ type: 'subscribe:layer', layer: 'nowhere' });
    await byLayer.next(errorOf('NOT_FOUND'));
    byService.send({ type: 'subscribe:service', service: 'ghost', id: 'g' });
    const nf = await byService.next(errorOf('NOT_FOUND'));
    assert.equal(nf.id, 'g');
    assert.equal(nf.data.request, 'subscribe:service');
  });

  it('runs a health check now, and lets only admins reset a breaker', { timeout: 15_000 }, async (t) => {
    const adminC = await open('circuit-breaker');
    const agent = await open('circuit-breaker', ids.agent(['a1']));
    t.after(() => { adminC.close(); agent.close(); });
    agent.send({ type: 'service:health_check', service: 'cache', id: 'h' });
    const result = await agent.next(isType('service:health_check_result'));
    assert.equal(result.id, 'h');
    assert.equal(result.data.service, 'cache');
    assert.equal(result.data.last_probe.ok, true);

    modes.cache = 'fail';
    adminC.send({ type: 'subscribe:service', service: 'cache' });
    await adminC.next(isType('service:update', (m) => m.data.state === 'open'), 3000, 'cache open');
    agent.send({ type: 'service:reset_circuit_breaker', service: 'cache', id: 'x' });
    const refused = await agent.next(errorOf('PERMISSION_DENIED'));
    assert.equal(refused.data.request, 'service:reset_circuit_breaker');
    assert.equal(refused.id, 'x');
    // Still connected.
    agent.send({ type: 'service:health_check', service: 'api' });
    await agent.next(isType('service:health_check_result'));

    adminC.drain();
    adminC.send({ type: 'service:reset_circuit_breaker', service: 'cache', id: 'r' });
    const done = await adminC.next(isType('service:reset_circuit_breaker_result'));
    assert.equal(done.id, 'r');
    assert.equal(done.data.state, 'closed');
    assert.equal(done.data.reason, 'reset by u1');
    await adminC.next(isType('service:update', (m) => m.data.reason === 'reset by u1'), 3000, 'the broadcast');
    modes.cache = 'ok';
  });

  it('answers bad frames with INVALID_MESSAGE and stays open', async (t) => {
    const c = await open('circuit-breaker');
    t.after(() => c.close());
    c.send('not json');
    assert.match((await c.next(errorOf('INVALID_MESSAGE'))).data.message, /not JSON/);
    c.send({ type: 'service:health_check' });
    assert.match((await c.next(errorOf('INVALID_MESSAGE'))).data.message, /'service'/);
    c.send({ type: 'teleport' });
    assert.match((await c.next(errorOf('INVALID_MESSAGE'))).data.message, /unknown message type/);
    c.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.next(errorOf('INVALID_MESSAGE'));
    c.send({ type: 'subscribe_all' });
    await c.next(isType('services:state'));
  });
});

describe('the monitor endpoint', () => {
  it('answers every message of the seed and pushes status', { timeout: 15_000 }, async (t) => {
    const c = await open('monitor');
    t.after(() => c.close());
    const first = await c.next(isType('SERVER_STATUS_UPDATE'), 3000, 'the status on connect');
    assert.equal(first.data.node, 'e2e');
    assert.ok(first.data.connections.channels >= 1);
    assert.equal(first.data.services.total, 5);
    await c.next(isType('SERVER_STATUS_UPDATE'), 2000, 'a periodic status');

    c.send({ type: 'get_system_status', id: 'a' });
    assert.equal((await c.next((m) => m.id === 'a')).type, 'SERVER_STATUS_UPDATE');
    c.send({ type: 'get_maintenance_status', id: 'b' });
    const m = await c.next((x) => x.id === 'b');
    assert.equal(m.type, 'maintenance_status');
    assert.equal(typeof m.data.on, 'boolean');
    c.send({ type: 'get_system_settings', id: 'c' });
    const settings = (await c.next((x) => x.id === 'c')).data;
    assert.equal(settings['node.name'], 'e2e');
    assert.equal(settings['channels.drill.enabled'], true);
    assert.ok(!('auth.jwt.hs256_secret' in settings));
    assert.ok(!('auth.api_keys' in settings));
    c.send({ type: 'get_service_status', service: 'api', id: 'd' });
    const s = await c.next((x) => x.id === 'd');
    assert.equal(s.type, 'service_status');
    assert.equal(s.data.layer, 'core');
    c.send({ type: 'get_service_status', service: 'ghost' });
    await c.next(errorOf('NOT_FOUND'));
    c.send({ type: 'get_all_services', id: 'e' });
    const all = await c.next((x) => x.id === 'e');
    assert.equal(all.type, 'all_services');
    assert.equal(all.data.services.length, 5);
    c.send({ type: 'get_recent_errors', limit: 2, id: 'f' });
    const errs = await c.next((x) => x.id === 'f');
    assert.equal(errs.type, 'recent_errors');
    assert.ok(errs.data.errors.length <= 2);
    assert.ok(errs.data.errors.length >= 1, 'the breaker openings above are recorded');
    if (errs.data.errors.length === 2) assert.ok(errs.data.errors[0].seq > errs.data.errors[1].seq);
    c.send({ type: 'get_recent_errors', limit: 0 });
    await c.next(errorOf('INVALID_MESSAGE'));
  });

  it('lets admins set maintenance and tells every client', { timeout: 10_000 }, async (t) => {
    const adminC = await open('monitor');
    const other = await open('monitor', ids.manager('c1'));
    t.after(() => { adminC.close(); other.close(); });
    other.send({ type: 'set_maintenance', on: true });
    await other.next(errorOf('PERMISSION_DENIED'));
    adminC.send({ type: 'set_maintenance', on: true, expected_end: 'tomorrow' });
    await adminC.next(errorOf('INVALID_MESSAGE'));
    const refused = await adminC.next(isType('error_alert', (m) => m.data.kind === 'refused'), 3000, 'the refusal recorded');
    assert.equal(refused.data.source, 'set_maintenance');

    adminC.send({ type: 'set_maintenance', on: true, message: 'db upgrade', expected_end: '2026-11-24T02:00:00Z', id: 'm' });
    const mine = await adminC.next((m) => m.id === 'm');
    assert.equal(mine.type, 'maintenance_status');
    assert.equal(mine.data.set_by, 'u1');
    const pushed = await other.next(isType('maintenance_status'));
    assert.equal(pushed.data.on, true);
    assert.equal(pushed.data.message, 'db upgrade');
    assert.equal(pushed.data.expected_end, '2026-11-24T02:00:00Z');
    adminC.send({ type: 'set_maintenance', on: false });
    await other.next(isType('maintenance_status', (m) => m.data.on === false));
  });
});

describe('system topics on /ws', () => {
  it('carry layer and maintenance events to admins only', { timeout: 10_000 }, async (t) => {
    const adminWs = await connect(node, await hs256(ids.admin('c1')));
    const agentWs = await connect(node, await hs256(ids.agent(['a1'])));
    const mon = await open('monitor');
    t.after(() => { adminWs.close(); agentWs.close(); mon.close(); });
    await adminWs.subscribe(['system:node:maintenance:status', 'system:data:layer:status']);
    const denied = await agentWs.request({ type: 'subscribe', topics: ['system:node:maintenance:status'] });
    assert.equal(denied.code, 'PERMISSION_DENIED');
    mon.send({ type: 'set_maintenance', on: true, message: 'drill' });
    const [ev] = await adminWs.events(1, (e) => e.event_type === 'maintenance.status');
    assert.equal(ev.data.message, 'drill');
    assert.equal(ev.data.node, 'e2e');
    modes.cache = 'fail';
    const [layer] = await adminWs.events(1, (e) => e.event_type === 'layer.status', 4000);
    assert.equal(layer.data.layer, 'data');
    assert.equal(layer.data.status, 'down');
    assert.equal(layer.data.node, 'e2e');
    modes.cache = 'ok';
    mon.send({ type: 'set_maintenance', on: false });
  });
});

describe('a crashing channel', () => {
  it('is restarted, then tripped, then reset, and nobody else notices', { timeout: 30_000 }, async (t) => {
    const ws = await connect(node, await hs256(ids.admin('c1')));
    const mon = await open('monitor');
    const cb = await open('circuit-breaker');
    t.after(() => { ws.close(); mon.close(); cb.close(); });
    cb.send({ type: 'subscribe:service', service: 'drill' });
    await cb.next(isType('services:state'));
    const before = await metrics(node);

    const drill = await open('drill');
    drill.send({ type: 'echo', text: 'hi' });
    assert.equal((await drill.next(isType('echo'))).data.text, 'hi');
    const agentDrill = await open('drill', ids.agent(['a1']));
    agentDrill.send({ type: 'crash' });
    await agentDrill.next(errorOf('PERMISSION_DENIED'));

    // Crash it max_restarts + 1 times: restarts, then the give-up.
    let sawRestarting = false;
    for (let i = 0; i < 3; i++) {
      let d;
      for (let tries = 0; !d; tries++) {
        try { d = await open('drill'); } catch (e) {
          assert.equal(e.statusCode, 503, 'only 503 while restarting');
          assert.equal(e.headers['retry-after'], '1');
          sawRestarting = true;
          assert.ok(tries < 100, 'the drill channel came back');
          await sleep(20);
        }
      }
      d.send({ type: 'crash' });
      const closed = await d.waitClose(3000);
      assert.equal(closed.code, 1011);
      assert.equal(closed.reason, 'channel drill stopped; reconnect');
      const alert = await mon.next(isType('error_alert', (m) => m.data.kind === 'crash' && m.data.source === 'drill'), 3000, 'a crash alert');
      assert.match(alert.data.message, /drill: crash asked by u1/);
      // The others carry on.
      assert.equal((await ws.ping()).type, 'pong');
      mon.send({ type: 'get_system_status', id: `s${i}` });
      await mon.next((m) => m.id === `s${i}`);
    }
    // Sessions opened before the first crash were closed with it.
    assert.equal((await drill.waitClose(3000)).code, 1011);
    t.diagnostic(`saw 503 while restarting: ${sawRestarting}`);

    const gaveUp = await cb.next(isType('service:alert', (m) => m.data.service === 'drill'), 3000, 'the give-up alert');
    assert.match(gaveUp.data.message, /gave up: 3 failures within 60000 ms/);
    await cb.next(isType('service:update', (m) => m.data.service === 'drill' && m.data.given_up), 3000, 'drill held open');
    await assert.rejects(open('drill'), (e) => e.statusCode === 503 && /tripped/.test(JSON.parse(e.body).message)
      && JSON.parse(e.body).code === 'UNAVAILABLE');
    await mon.next(isType('error_alert', (m) => m.data.kind === 'gave_up'), 3000, 'gave_up in recent errors');

    const after1 = await metrics(node);
    assert.equal(after1.herald_supervisor_restarts_total - (before.herald_supervisor_restarts_total ?? 0), 2);
    assert.equal(after1.herald_supervisor_given_up_total - (before.herald_supervisor_given_up_total ?? 0), 1);

    cb.send({ type: 'service:reset_circuit_breaker', service: 'drill' });
    const reset = await cb.next(isType('service:reset_circuit_breaker_result'));
    assert.equal(reset.data.state, 'closed');
    const back = await open('drill');
    t.after(() => back.close());
    back.send({ type: 'echo', text: 'again' });
    assert.equal((await back.next(isType('echo'))).data.text, 'again');
    const after2 = await metrics(node);
    assert.equal(after2.herald_supervisor_revived_total - (before.herald_supervisor_revived_total ?? 0), 1);
    assert.ok(after2.herald_channel_sessions >= 3);
    assert.ok(after2.herald_health_errors_total >= 4);
  });
});
