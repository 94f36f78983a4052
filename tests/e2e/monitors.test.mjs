// docs/monitors.md: each configured service has a monitor that probes it
// and drives its circuit breaker; every probe and breaker change is an
// event on system:<layer>:service:<name>. An upstream started here is
// switched between answering, failing and hanging.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startNode, connect, hs256, ids, metrics, uniq } from './lib/index.mjs';

let mode = 'ok';
let upstream;
let upstreamPort;
let node;

before(async () => {
  upstream = http.createServer((req, res) => {
    if (mode === 'hang') return; // never answers: the probe times out
    res.writeHead(mode === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(mode);
  });
  await new Promise((res) => upstream.listen(0, '127.0.0.1', res));
  upstreamPort = upstream.address().port;
  node = await startNode({
    permissions: {
      resource_types: ['call', 'service'],
      rules: [{ scope: 'system', all_of: [{ claim: 'roles', any_of: ['admin'] }] }],
    },
    services: [{
      name: 'api',
      layer: 'core',
      probe: { http: `http://127.0.0.1:${upstreamPort}/health`, expect_status: 200, timeout_ms: 300 },
      interval_ms: 100,
      breaker: { failure_threshold: 2, open_ms: 600, half_open_trials: 1, close_after: 1 },
    }, {
      name: 'nothing',
      layer: 'data',
      probe: { tcp: '127.0.0.1:1' },
      interval_ms: 100,
      breaker: { failure_threshold: 1, open_ms: 60000 },
    }],
  });
});

after(async () => {
  await node?.stop();
  upstream?.closeAllConnections?.();
  await new Promise((res) => upstream.close(res));
});

const isState = (from, to) => (m) => m.event_type === 'service.state' && m.data.from === from && m.data.to === to;

describe('service monitors', () => {
  it('publish probes and breaker changes as the upstream fails, hangs and recovers', { timeout: 30_000 }, async (t) => {
    const c = await connect(node, await hs256(ids.admin('c1')));
    t.after(() => c.close());
    await c.subscribe(['system:core:service:*']);
    const probe = await c.next((m) => m.event_type === 'service.probe', 3000, 'a probe event');
    assert.equal(probe.topic, 'system:core:service:api');
    assert.equal(probe.data.ok, true);
    assert.equal(probe.data.detail, '200');
    assert.equal(probe.data.state, 'closed');
    assert.equal(probe.data.node, 'e2e');

    mode = 'fail';
    const opened = await c.next(isState('closed', 'open'), 3000, 'the breaker opening');
    assert.equal(opened.data.reason, '2 consecutive failures');
    mode = 'ok';
    await c.next(isState('open', 'half_open'), 3000, 'half-open after open_ms');
    const closed = await c.next(isState('half_open', 'closed'), 3000, 'closing on a good trial');
    assert.match(closed.data.reason, /1 success in half-open/);

    c.drain(); // the probes of the phases above
    mode = 'hang';
    const timedOut = await c.next((m) => m.event_type === 'service.probe' && m.data.ok === false, 3000, 'a probe timing out');
    assert.equal(timedOut.data.detail, 'timeout after 300 ms');
    assert.ok(timedOut.data.latency_ms >= 290, JSON.stringify(timedOut.data));
    await c.next(isState('closed', 'open'), 3000, 'the breaker opening on timeouts');
    mode = 'ok';
    await c.next(isState('half_open', 'closed'), 4000, 'recovery');
  });

  it('a service nobody listens on opens and stays open; other layers are not sent to this subscriber', { timeout: 15_000 }, async (t) => {
    const c = await connect(node, await hs256(ids.admin('c1')));
    t.after(() => c.close());
    await c.subscribe(['system:data:service:*']);
    // Opened at start; the state is visible through the counters.
    const m = await metrics(node);
    assert.ok(m.herald_monitor_probe_failures_total >= 1, JSON.stringify(m));
    assert.ok(m.herald_breaker_transitions_total >= 1);
    // Open for 60 s: no probe goes out, so no event comes meanwhile.
    const before = m.herald_monitor_probes_total;
    await new Promise((r) => setTimeout(r, 400));
    const got = c.peek((x) => x.topic === 'system:data:service:nothing');
    assert.deepEqual(got.filter((x) => x.event_type === 'service.probe'), []);
    assert.ok(c.peek((x) => x.topic?.startsWith('system:core:')).length === 0, 'events of another layer');
    assert.ok(before > 0);
  });

  it('a system topic needs the permission the rules give', async (t) => {
    const c = await connect(node, await hs256(ids.agent(['a1'])));
    t.after(() => c.close());
    const id = uniq('s-');
    c.send({ type: 'subscribe', topics: ['system:core:service:*'], id });
    const answer = await c.next((x) => x.id === id, 3000, 'the answer');
    assert.equal(answer.type, 'error');
    assert.equal(answer.code, 'PERMISSION_DENIED');
  });
});

describe('services configuration', () => {
  it('a bad probe stops the node at start naming the key', async () => {
    await assert.rejects(
      startNode({ services: [{ name: 'x', layer: 'l', probe: { http: 'ftp://h:1/' } }] }),
      (e) => {
        assert.match(e.message, /services\[0\]\.probe\.http: must be http:\/\/host:port\/path/);
        return true;
      },
    );
  });
});
