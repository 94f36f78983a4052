// docs/endpoints.md "analytics": /api/v69/ws/analytics on a real node with
// the analytics plugin, driven by real WebSocket clients. Tracked events
// are answered and published for backends (a /ws subscriber sees them);
// heartbeats keep a user active; admins alone get dashboards, metrics,
// server stats and the active users, which a three-node cluster counts
// across its members. Bad input and the frame budget answer error frames.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, startCluster, stopAll, connect, hs256, sleep, uniq, waitFor, logsOf,
} from './lib/index.mjs';

// Short periods so that the periodic pushes and the active window show
// within a test; the window is long enough for the steps before it ends.
const WINDOW_MS = 2000;
const PERIOD_MS = 300;
const analytics = (config = {}) => ({
  path: 'herald_analytics.so',
  config: { dashboard_interval_ms: PERIOD_MS, metric_interval_ms: PERIOD_MS, active_window_ms: WINDOW_MS, ...config },
});
// A backend follows tracked events on /ws: the `analytics` scope for the
// `backend` role; the resource type `event`, the event name its id.
const permissions = {
  resource_types: ['event'],
  rules: [{ scope: 'analytics', all_of: [{ claim: 'roles', any_of: ['backend'] }] }],
};

let node;
const epUrl = (n) => `${n.url.replace('http', 'ws')}/api/v69/ws/analytics`;
const user = (sub, roles = []) => ({ sub, roles });
const admin = (sub = 'boss') => user(sub, ['admin']);
const ofType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const isError = (code) => ofType('error', (m) => m.data?.code === code);

/** Opens the endpoint on `n` as `claims`, and takes its welcome. */
async function open(t, claims, n = node) {
  const c = await connect(n, await hs256(claims), { url: epUrl(n) });
  t.after(() => c.close());
  c.welcome = await c.next(ofType('welcome'), 3000, 'the welcome');
  return c;
}

/** Sends `frame` with `id` and takes the first frame echoing it. */
async function ask(c, frame, timeoutMs = 3000) {
  const id = frame.id ?? uniq('q');
  c.send({ ...frame, id });
  return c.next((m) => m.id === id, timeoutMs, `the answer to ${JSON.stringify(frame).slice(0, 120)}`);
}

/** Asserts nothing matching `pred` arrives within `ms`. */
async function quiet(c, pred, ms, what) {
  await sleep(ms);
  assert.deepEqual(c.peek(pred), [], `nothing more expected: ${what}`);
}

async function activeUsers(c) {
  const m = await ask(c, { type: 'get_active_users' });
  assert.equal(m.type, 'active_users', JSON.stringify(m));
  return m.data;
}
const userIds = (data) => data.users.map((u) => u.user_id);

before(async () => {
  node = await startNode({ permissions, plugins: { load: [analytics()] } });
});
after(async () => { await node?.stop(); });

describe('analytics: connecting', () => {
  it('needs a token: none and a bad one are refused with 401', async () => {
    await assert.rejects(connect(node, null, { url: epUrl(node) }), (e) => e.statusCode === 401);
    await assert.rejects(connect(node, 'not-a-token', { url: epUrl(node) }), (e) => e.statusCode === 401);
    await assert.rejects(connect(node, await hs256(user('x'), { secret: 'another-secret-0123456789abcdef0123' }),
      { url: epUrl(node) }), (e) => e.statusCode === 401);
  });

  it('welcomes a client with its user, the node and the active window', async (t) => {
    const c = await open(t, user('greta'));
    const w = c.welcome;
    assert.deepEqual(Object.keys(w.data).sort(), ['active_window_ms', 'node', 'server_time', 'user_id']);
    assert.equal(w.data.user_id, 'greta');
    assert.equal(w.data.node, 'e2e');
    assert.equal(w.data.active_window_ms, WINDOW_MS);
    assert.ok(Math.abs(Date.parse(w.data.server_time) - Date.now()) < 10_000, w.data.server_time);
    assert.match(w.timestamp, /Z$/);
    assert.equal(w.id, undefined);
  });
});

describe('analytics: tracking', () => {
  it('answers track_event with event_tracked and publishes it for backends', async (t) => {
    const name = uniq('signup.');
    const backend = await connect(node, await hs256(user('svc', ['backend'])));
    t.after(() => backend.close());
    await backend.subscribe([`analytics:track:event:${name}`]);
    // and one that follows every tracked event
    const everything = await connect(node, await hs256(user('svc-all', ['backend'])));
    t.after(() => everything.close());
    await everything.subscribe(['analytics:track:event:*']);
    const c = await open(t, user('tracy'));

    const ack = await ask(c, { type: 'track_event', event: name, properties: { plan: 'pro', seats: 3 }, id: 't1' });
    assert.equal(ack.type, 'event_tracked', JSON.stringify(ack));
    assert.equal(ack.id, 't1');
    assert.equal(ack.data.event, name);
    assert.match(ack.data.event_id, /^[0-9a-f-]{36}$/);

    const [ev] = await backend.events(1, (m) => m.topic === `analytics:track:event:${name}`, 3000);
    assert.equal(ev.id, ack.data.event_id);
    assert.equal(ev.event_type, 'analytics.track');
    assert.equal(ev.data.event, name);
    assert.deepEqual(ev.data.properties, { plan: 'pro', seats: 3 });
    assert.equal(ev.data.tracked_by, 'tracy');
    assert.equal(typeof ev.data.session_id, 'string');
    assert.ok(ev.data.session_id.length > 0);
    assert.ok(Math.abs(Date.parse(ev.data.at) - Date.now()) < 10_000, ev.data.at);

    // Without properties: an empty object. Another event's topic is not sent.
    const other = uniq('other.');
    assert.equal((await ask(c, { type: 'track_event', event: other })).type, 'event_tracked');
    const bare = await ask(c, { type: 'track_event', event: name });
    const [ev2] = await backend.events(1, (m) => m.id === bare.data.event_id, 3000);
    assert.deepEqual(ev2.data.properties, {});
    await quiet(backend, (m) => m.topic === `analytics:track:event:${other}`, 200, 'an event nobody follows');
    const all = await everything.events(3, (m) => m.event_type === 'analytics.track' && [name, other].includes(m.data.event), 3000);
    assert.deepEqual(all.map((m) => m.data.event), [name, other, name], 'the wildcard follower gets every tracked event');
  });

  it('answers error frames for bad input and keeps the connection', async (t) => {
    const c = await open(t, admin('checker'));
    const bad = async (frame, re, request) => {
      const m = await ask(c, frame);
      assert.equal(m.type, 'error', JSON.stringify(m));
      assert.equal(m.data.code, 'INVALID_MESSAGE', JSON.stringify(frame));
      if (re) assert.match(m.data.message, re, JSON.stringify(m));
      if (request !== undefined) assert.equal(m.data.request, request);
    };
    await bad({ type: 'sell_everything' }, /unknown message type/, 'sell_everything');
    await bad({ type: 'track_event' }, /event/, 'track_event');
    await bad({ type: 'track_event', event: 7 }, /event/);
    await bad({ type: 'track_event', event: '' }, /event/);
    await bad({ type: 'track_event', event: 'has space' }, /event/);
    await bad({ type: 'track_event', event: 'a:b' }, /event/);
    await bad({ type: 'track_event', event: 'x'.repeat(65) }, /event/);
    await bad({ type: 'track_event', event: 'ok', properties: [1, 2] }, /properties/);
    await bad({ type: 'track_event', event: 'ok', properties: 'p' }, /properties/);
    await bad({ type: 'track_event', event: 'ok', properties: null }, /properties/);
    await bad({ type: 'track_event', event: 'ok', properties: { blob: 'y'.repeat(9000) } }, /8 KiB/);
    await bad({ type: 'subscribe_metric' }, /metric/, 'subscribe_metric');
    await bad({ type: 'subscribe_metric', metric: 'cpu_temperature' }, /metric/);
    await bad({ type: 'subscribe_metric', metric: 5 }, /metric/);
    await bad({ type: 'subscribe_metric', metric: 'event:bad name' }, /metric/);
    await bad({ type: 'unsubscribe_metric', metric: '' }, /metric/);
    // Frames that are not requests at all: no id is echoed.
    for (const raw of ['{not json', '[]', '"text"', JSON.stringify({ id: 'no-type' }), JSON.stringify({ type: 7 })]) {
      c.send(raw);
      const m = await c.next(ofType('error'), 3000, `the error for ${raw}`);
      assert.equal(m.data.code, 'INVALID_MESSAGE', raw);
    }
    c.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await c.next(ofType('error'))).data.code, 'INVALID_MESSAGE');
    // Still served.
    assert.equal((await ask(c, { type: 'track_event', event: 'still.here' })).type, 'event_tracked');
    assert.ok(c.isOpen);
  });

  it('limits a session to the frame budget: RATE_LIMITED, then closed with 1008', { timeout: 20_000 }, async (t) => {
    // One frame back every 20 s: nothing refills within the test.
    const tight = await startNode({
      limits: { rate_per_second: 0.05, rate_burst: 5, rate_strikes_to_close: 2 },
      plugins: { load: [analytics()] },
    });
    t.after(() => tight.stop());
    const c = await connect(tight, await hs256(user('spammer')), { url: epUrl(tight) });
    t.after(() => c.close());
    await c.next(ofType('welcome'));
    // The welcome cost nothing: the whole burst passes.
    for (let i = 0; i < 5; i++) c.send({ type: 'track_event', event: 'spam', id: `s${i}` });
    const tracked = await c.take(ofType('event_tracked'), 5, 3000, 'the burst answered');
    assert.deepEqual(tracked.map((m) => m.id).sort(), ['s0', 's1', 's2', 's3', 's4']);
    // Over it: refused (not tracked), as often as the strikes allow.
    c.send({ type: 'track_event', event: 'spam', id: 's5' });
    c.send({ type: 'get_server_stats', id: 's6' });
    const limited = await c.take(isError('RATE_LIMITED'), 2, 3000, 'two RATE_LIMITED');
    assert.match(limited[0].data.message, /too many frames/);
    await quiet(c, (m) => m.id === 's5' || m.id === 's6', 200, 'an answer to a refused frame');
    // One more: closed with 1008.
    c.send({ type: 'track_event', event: 'spam', id: 's7' });
    const closed = await c.waitClose(3000);
    assert.equal(closed.code, 1008, JSON.stringify(closed));
    assert.deepEqual(c.peek(ofType('event_tracked')), []);
  });
});

describe('analytics: admin only', () => {
  it('refuses every admin message to a non-admin with PERMISSION_DENIED and keeps the connection', async (t) => {
    const c = await open(t, user('pleb', ['manager']));
    for (const frame of [
      { type: 'subscribe_dashboard' }, { type: 'unsubscribe_dashboard' },
      { type: 'subscribe_metric', metric: 'active_users' }, { type: 'unsubscribe_metric', metric: 'active_users' },
      { type: 'get_active_users' }, { type: 'get_server_stats' },
    ]) {
      const m = await ask(c, frame);
      assert.equal(m.type, 'error', JSON.stringify(m));
      assert.equal(m.data.code, 'PERMISSION_DENIED', JSON.stringify(m));
      assert.equal(m.data.request, frame.type);
      assert.match(m.data.message, /admin/);
    }
    // Nothing was subscribed by the refused requests.
    await quiet(c, (m) => ['dashboard_update', 'metric_update'].includes(m.type), 2 * PERIOD_MS, 'pushes to a non-admin');
    assert.equal((await ask(c, { type: 'track_event', event: 'pleb.ok' })).type, 'event_tracked');
  });

  it('get_server_stats answers the node and channel figures', async (t) => {
    const c = await open(t, admin());
    const s = await ask(c, { type: 'get_server_stats', id: 'st1' });
    assert.equal(s.type, 'server_stats', JSON.stringify(s));
    assert.equal(s.id, 'st1');
    for (const k of ['uptime_s', 'connections', 'sse_connections', 'channel_sessions', 'subscriptions', 'topics',
      'publishes', 'deliveries', 'drops', 'rss_bytes', 'threads', 'members', 'active_users', 'events_tracked',
      'events_last_minute']) {
      assert.equal(typeof s.data[k], 'number', `${k} in ${JSON.stringify(s.data)}`);
    }
    assert.equal(s.data.node, 'e2e');
    assert.ok(s.data.channel_sessions >= 1);
    assert.ok(s.data.rss_bytes > 0);
    assert.ok(s.data.threads > 0);
    assert.equal(s.data.members, 1);
    assert.ok(s.data.active_users >= 1, 'the admin itself is active');
    // A tracked event shows in the counts.
    const before = s.data.events_tracked;
    await ask(c, { type: 'track_event', event: uniq('count.') });
    await waitFor(async () => (await ask(c, { type: 'get_server_stats' })).data.events_tracked === before + 1,
      { timeoutMs: 3000, message: 'events_tracked to count the event' });
    const s2 = await ask(c, { type: 'get_server_stats' });
    assert.ok(s2.data.events_last_minute >= 1);
    assert.ok(s2.data.publishes > s.data.publishes);
  });

  it('subscribe_dashboard pushes dashboard_update at once and every interval; unsubscribe stops it', { timeout: 20_000 }, async (t) => {
    const c = await open(t, admin());
    const tracker = await open(t, user('clicker'));
    const hot = uniq('hot.');
    const cold = uniq('cold.');
    for (const e of [hot, hot, hot, cold]) await ask(tracker, { type: 'track_event', event: e });

    const first = await ask(c, { type: 'subscribe_dashboard', id: 'd1' });
    assert.equal(first.type, 'dashboard_update', JSON.stringify(first));
    assert.deepEqual(Object.keys(first.data).sort(), ['active_users', 'events_last_minute', 'server', 'top_events']);
    assert.ok(first.data.active_users >= 2, JSON.stringify(first.data));
    assert.ok(first.data.events_last_minute >= 4);
    assert.equal(first.data.server.node, 'e2e');
    assert.equal(typeof first.data.server.connections, 'number');
    const top = first.data.top_events;
    assert.ok(Array.isArray(top) && top.length <= 10);
    for (let i = 1; i < top.length; i++) assert.ok(top[i - 1].count >= top[i].count, `sorted: ${JSON.stringify(top)}`);
    assert.deepEqual(top.find((x) => x.event === hot), { event: hot, count: 3 });

    // Periodic: no id, about every PERIOD_MS, and live (a new event shows).
    await ask(tracker, { type: 'track_event', event: cold });
    const started = Date.now();
    const periodic = await c.take(ofType('dashboard_update', (m) => m.id === undefined), 3, 5000, 'three periodic updates');
    assert.ok(Date.now() - started >= PERIOD_MS, 'not all at once');
    const last = periodic[periodic.length - 1];
    assert.deepEqual(last.data.top_events.find((x) => x.event === cold), { event: cold, count: 2 });

    c.send({ type: 'unsubscribe_dashboard', id: 'u1' });
    // The request after it is answered after it took effect.
    assert.equal((await ask(c, { type: 'get_server_stats' })).type, 'server_stats');
    c.drain(ofType('dashboard_update'));
    await quiet(c, ofType('dashboard_update'), 4 * PERIOD_MS, 'dashboard_update after unsubscribe_dashboard');
    assert.deepEqual(c.peek((m) => m.id === 'u1'), [], 'unsubscribe_dashboard has no answer');
  });

  it('subscribe_metric pushes metric_update at once and every interval, per metric; unsubscribe_metric stops it', { timeout: 20_000 }, async (t) => {
    const c = await open(t, admin());
    const tracker = await open(t, user('metered'));
    const name = uniq('metric.');
    const first = await ask(c, { type: 'subscribe_metric', metric: `event:${name}`, id: 'm1' });
    assert.equal(first.type, 'metric_update', JSON.stringify(first));
    assert.equal(first.data.metric, `event:${name}`);
    assert.equal(first.data.value, 0);
    assert.ok(Math.abs(Date.parse(first.data.at) - Date.now()) < 10_000);

    await ask(tracker, { type: 'track_event', event: name });
    await ask(tracker, { type: 'track_event', event: name });
    await c.next(ofType('metric_update', (m) => m.data.metric === `event:${name}` && m.data.value === 2), 3000,
      'the event count to reach 2');

    // Every metric the docs list answers a number.
    const metrics = ['active_users', 'events_per_minute', 'connections', 'sse_connections', 'channel_sessions',
      'publishes', 'deliveries', 'rss_bytes'];
    for (const metric of metrics) {
      const m = await ask(c, { type: 'subscribe_metric', metric });
      assert.equal(m.type, 'metric_update', JSON.stringify(m));
      assert.equal(m.data.metric, metric);
      assert.equal(typeof m.data.value, 'number', JSON.stringify(m));
    }
    const now = await c.take(ofType('metric_update', (m) => m.id === undefined && m.data.metric === 'channel_sessions'),
      2, 3000, 'periodic channel_sessions');
    assert.ok(now[1].data.value >= 2, JSON.stringify(now[1]));
    assert.ok((await c.next(ofType('metric_update', (m) => m.data.metric === 'rss_bytes'))).data.value > 0);
    assert.ok((await c.next(ofType('metric_update', (m) => m.data.metric === 'active_users'))).data.value >= 2);
    assert.ok((await c.next(ofType('metric_update', (m) => m.data.metric === 'events_per_minute'))).data.value >= 2);

    // One metric off: the others go on.
    c.send({ type: 'unsubscribe_metric', metric: `event:${name}` });
    await ask(c, { type: 'get_server_stats' });
    c.drain(ofType('metric_update'));
    await c.take(ofType('metric_update', (m) => m.data.metric === 'connections'), 2, 3000, 'connections going on');
    assert.deepEqual(c.peek(ofType('metric_update', (m) => m.data.metric === `event:${name}`)), [],
      'an unsubscribed metric');

    // All off: nothing.
    for (const metric of metrics) c.send({ type: 'unsubscribe_metric', metric });
    await ask(c, { type: 'get_server_stats' });
    c.drain(ofType('metric_update'));
    await quiet(c, ofType('metric_update'), 4 * PERIOD_MS, 'metric_update after unsubscribing all');
  });
});

describe('analytics: active users', () => {
  it('heartbeat keeps a user active past the window; an idle one leaves it; the last close removes the user', { timeout: 20_000 }, async (t) => {
    const boss = await open(t, admin());
    const hb = uniq('hb');
    const idle = uniq('idle');
    const twice = uniq('twice');
    const h = await open(t, user(hb));
    await open(t, user(idle));
    const t1 = await open(t, user(twice));
    const t2 = await open(t, user(twice));
    await waitFor(async () => {
      const ids = userIds(await activeUsers(boss));
      return [hb, idle, twice].every((u) => ids.includes(u));
    }, { timeoutMs: 3000, message: 'the three users to be active' });
    const data = await activeUsers(boss);
    assert.equal(data.count, data.users.length);
    const entry = data.users.find((u) => u.user_id === hb);
    assert.deepEqual(entry.nodes, ['e2e']);
    assert.ok(Math.abs(Date.parse(entry.last_seen) - Date.now()) < 10_000, entry.last_seen);

    // A heartbeat has no answer.
    h.send({ type: 'heartbeat', id: 'hb1' });
    await quiet(h, (m) => m.id === 'hb1', 200, 'an answer to heartbeat');

    // Heartbeats every quarter window, for more than a window.
    const timer = setInterval(() => { h.send({ type: 'heartbeat' }); boss.send({ type: 'heartbeat' }); },
      WINDOW_MS / 4);
    t.after(() => clearInterval(timer));
    await sleep(WINDOW_MS + 600);
    const later = userIds(await activeUsers(boss));
    assert.ok(later.includes(hb), `${hb} kept active by heartbeats: ${later}`);
    assert.ok(!later.includes(idle), `${idle} left after the window though connected: ${later}`);
    clearInterval(timer);

    // A heartbeat brings the idle user back, still connected.
    t2.send({ type: 'heartbeat' });
    await waitFor(async () => userIds(await activeUsers(boss)).includes(twice),
      { timeoutMs: 3000, message: 'a heartbeat to make a user active again' });
    // One of two sessions closing keeps the user; the last one removes it.
    await t1.close();
    await sleep(300);
    assert.ok(userIds(await activeUsers(boss)).includes(twice), 'one session is still open');
    await t2.close();
    await waitFor(async () => !userIds(await activeUsers(boss)).includes(twice),
      { timeoutMs: 3000, message: 'the last close to remove the user' });
  });
});

describe('analytics: a cluster', () => {
  let nodes = [];
  before(async () => {
    nodes = await startCluster(['a', 'b', 'c'], { overrides: { plugins: { load: [analytics({ active_window_ms: 60000 })] } } });
  });
  after(async () => { await stopAll(nodes); });

  it('get_active_users counts the users of every node; tracked events count cluster-wide', { timeout: 30_000 }, async (t) => {
    const [a, b, c] = nodes;
    const boss = await open(t, admin('boss-a'), a);
    const ua = uniq('ua');
    const ub = uniq('ub');
    const uc = uniq('uc');
    const both = uniq('ubc');
    await open(t, user(ua), a);
    const onB = await open(t, user(ub), b);
    await open(t, user(uc), c);
    await open(t, user(both), b);
    await open(t, user(both), c);
    const want = [ua, ub, uc, both, 'boss-a'];
    let data;
    try {
      // Each node's connect comes on its own: wait for both of `both`'s.
      await waitFor(async () => {
        data = await activeUsers(boss);
        return want.every((u) => userIds(data).includes(u))
          && data.users.find((x) => x.user_id === both).nodes.length === 2;
      }, { timeoutMs: 5000, message: 'every node\'s users in a\'s active set' });
    } catch (e) {
      throw new Error(`${e.message}; last: ${JSON.stringify(data)}\n${logsOf(nodes, 20)}`);
    }
    assert.equal(data.count, 5);
    const nodesOf = (u) => data.users.find((x) => x.user_id === u).nodes;
    assert.deepEqual(nodesOf(ub), ['b']);
    assert.deepEqual(nodesOf(uc), ['c']);
    assert.deepEqual(nodesOf(both), ['b', 'c']);
    assert.deepEqual(nodesOf(ua), ['a']);

    // Another node's admin sees the same set.
    const bossC = await open(t, admin('boss-c'), c);
    await waitFor(async () => {
      const ids = userIds(await activeUsers(bossC));
      return want.every((u) => ids.includes(u));
    },
      { timeoutMs: 5000, message: 'c to count the same users' });

    // A user leaving b leaves the set on a.
    await onB.close();
    await waitFor(async () => !userIds(await activeUsers(boss)).includes(ub),
      { timeoutMs: 5000, message: 'a to drop the user who left b' });

    // An event tracked on b counts on a.
    const name = uniq('x.');
    const m = await ask(boss, { type: 'subscribe_metric', metric: `event:${name}` });
    assert.equal(m.data.value, 0);
    const tracker = await open(t, user('tb'), b);
    await ask(tracker, { type: 'track_event', event: name });
    await boss.next(ofType('metric_update', (x) => x.data.metric === `event:${name}` && x.data.value === 1), 5000,
      'a to count the event tracked on b');
  });
});
