// PROTOCOL §8 and §4 keepalive: health, readiness, metrics, WebSocket
// pings, and a graceful SIGTERM.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, connect, hs256, ids, get, metrics, parseMetrics, publishOk, sleep, waitFor,
} from './lib/index.mjs';

describe('endpoints', () => {
  let node;
  before(async () => { node = await startNode(); });
  after(async () => { await node?.stop(); });

  it('GET /healthz answers 200', async () => {
    assert.equal((await get(node, '/healthz')).status, 200);
  });

  it('GET /readyz answers 200 once listening', async () => {
    assert.equal((await get(node, '/readyz')).status, 200);
  });

  it('health and metrics need no credentials, and refuse nothing for a bad header', async () => {
    const r = await get(node, '/healthz', { headers: { authorization: 'Bearer nonsense' } });
    assert.equal(r.status, 200);
  });

  it('GET /metrics is Prometheus text with the herald_ metrics', async () => {
    const r = await get(node, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const m = parseMetrics(r.text);
    for (const name of ['herald_connections', 'herald_deliveries_total', 'herald_slow_consumer_closes_total',
      'herald_rate_limited_total', 'herald_auth_failures_total', 'herald_publishes_total',
      'herald_subscriptions', 'herald_connections_total']) {
      assert.equal(typeof m[name], 'number', `${name} missing from /metrics`);
    }
    assert.match(r.text, /^# TYPE herald_deliveries_total counter$/m);
    assert.match(r.text, /^# TYPE herald_connections gauge$/m);
    for (const line of r.text.split('\n')) {
      if (line && !line.startsWith('#')) assert.match(line, /^herald_[a-z_]+(\{[^}]*\})? -?[0-9.eE+-]+$/, `odd line: ${line}`);
    }
  });

  it('metrics follow connections, subscriptions and deliveries', async () => {
    const m0 = await metrics(node);
    const c = await connect(node, await hs256(ids.admin()));
    await c.subscribe(['customer_id:c1:call:*', 'customer_id:c1:message:*']);
    const m1 = await waitFor(async () => {
      const m = await metrics(node);
      return m.herald_connections === m0.herald_connections + 1 && m.herald_subscriptions === m0.herald_subscriptions + 2 && m;
    }, { message: 'connections +1 and subscriptions +2' });
    assert.ok(m1.herald_connections_total >= m0.herald_connections_total + 1);
    await publishOk(node, { topic: 'customer_id:c1:call:1', event_type: 'call.status' });
    await c.events(1);
    await waitFor(async () => (await metrics(node)).herald_deliveries_total >= m0.herald_deliveries_total + 1,
      { message: 'deliveries_total to rise' });
    await c.close();
    await waitFor(async () => {
      const m = await metrics(node);
      return m.herald_connections === m0.herald_connections && m.herald_subscriptions === m0.herald_subscriptions;
    }, { message: 'connections and subscriptions back to where they were' });
  });

  it('answers 404 on an unknown path', async () => {
    assert.equal((await get(node, '/no/such/thing')).status, 404);
  });

  it('/ws without an upgrade is not a 200', async () => {
    const r = await get(node, '/ws', { headers: { authorization: `Bearer ${await hs256(ids.admin())}` } });
    assert.notEqual(r.status, 200);
    assert.ok(r.status >= 400 && r.status < 500, `HTTP ${r.status}`);
  });
});

describe('keepalive', () => {
  it('closes a connection that does not answer pings, keeps one that does', { timeout: 20_000 }, async (t) => {
    const node = await startNode({ ws: { ping_interval_ms: 300, pong_timeout_ms: 900 } });
    t.after(() => node.stop());
    const token = await hs256(ids.admin());
    const mute = await connect(node, token, { autoPong: false });
    const polite = await connect(node, token);
    t.after(() => { mute.terminate(); polite.terminate(); });
    const started = Date.now();
    const close = await mute.waitClose(5000);
    const elapsed = Date.now() - started;
    assert.ok(mute.pings >= 1, 'the node never pinged');
    assert.ok(elapsed >= 700, `closed after only ${elapsed} ms; the pong timeout is 900 ms`);
    assert.notEqual(close.code, 1000, 'a dead peer is not a normal closure');
    // the polite one lives on well past the timeout
    await sleep(Math.max(0, 2500 - (Date.now() - started)));
    assert.ok(polite.isOpen, `answering client was closed: ${JSON.stringify(polite.closeInfo)}`);
    assert.ok(polite.pings >= 3, `only ${polite.pings} pings in 2.5 s with a 300 ms interval`);
    assert.equal((await polite.ping()).type, 'pong');
  });
});

describe('SIGTERM', () => {
  it('closes clients with 1001 and exits 0 within shutdown.grace_ms', { timeout: 20_000 }, async () => {
    const grace = 1500;
    const node = await startNode({ shutdown: { grace_ms: grace } });
    const token = await hs256(ids.admin());
    const a = await connect(node, token);
    const b = await connect(node, token, { via: 'query' });
    await a.subscribe('customer_id:c1:call:*');
    // stop() sends SIGTERM, waits grace + 3 s, then SIGKILLs and says so.
    const stopped = node.stop({ timeoutMs: grace + 3000 });
    const [ca, cb] = await Promise.all([a.waitClose(grace + 2000), b.waitClose(grace + 2000)]);
    assert.equal(ca.code, 1001, `a closed with ${JSON.stringify(ca)}`);
    assert.equal(cb.code, 1001, `b closed with ${JSON.stringify(cb)}`);
    const info = await stopped;
    assert.equal(info.killed, false, `still running ${info.elapsedMs} ms after SIGTERM (grace ${grace} ms)`);
    assert.equal(info.code, 0, `exit ${JSON.stringify(info)}\n${node.logs().slice(-2000)}`);
    assert.equal(info.signal, null);
    assert.ok(info.elapsedMs <= grace + 2000, `exit took ${info.elapsedMs} ms for a grace of ${grace} ms`);
  });

  it('exits 0 promptly with no clients', { timeout: 15_000 }, async () => {
    const node = await startNode({ shutdown: { grace_ms: 3000 } });
    await sleep(300);
    const info = await node.stop();
    assert.equal(info.killed, false);
    assert.equal(info.code, 0, JSON.stringify(info));
    assert.ok(info.elapsedMs < 3000 + 2000, `took ${info.elapsedMs} ms`);
  });

  it('exits 0 on SIGINT too', { timeout: 15_000 }, async () => {
    const node = await startNode({ shutdown: { grace_ms: 1000 } });
    await sleep(300);
    const info = await node.stop({ signal: 'SIGINT' });
    assert.equal(info.killed, false);
    assert.equal(info.code, 0, JSON.stringify(info));
  });

  it('handles SIGTERM sent right after the "listening on" line', { timeout: 30_000 }, async () => {
    // A supervisor may stop the node as soon as it reports ready: the
    // handler must be in place before the line is printed.
    const results = [];
    for (let i = 0; i < 6; i++) {
      const node = await startNode({ shutdown: { grace_ms: 500 } });
      results.push(await node.stop({ signal: i % 2 ? 'SIGINT' : 'SIGTERM' }));
    }
    const bad = results.filter((r) => r.code !== 0);
    assert.deepEqual(bad, [], `${bad.length}/6 nodes died of the signal instead of exiting 0`);
  });
});

describe('configuration', () => {
  it('refuses a broken configuration with a clear line and a non-zero exit', { timeout: 15_000 }, async () => {
    const mustFail = async (overrides, options) => {
      let n;
      try {
        n = await startNode(overrides, options);
      } catch (e) {
        assert.match(e.message, /exited before ready: \{"code":[1-9]/, e.message);
        return;
      }
      await n.stop();
      assert.fail(`started with a broken configuration: ${options?.rawConfig ?? JSON.stringify(overrides)}`);
    };
    await mustFail({}, { rawConfig: '{"listen": {"port": "not a port"' });
    await mustFail({ listen: { port: 'eighty' } });
    await mustFail({ limits: { max_subscriptions: -5 } });
  });
});
