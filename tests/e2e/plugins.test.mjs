// docs/plugins.md and docs/stores.md: the example plugin built out of tree
// against the installed SDK and used by clients; the loader's refusals;
// a plugin whose spawn throws, contained; settings and notifications
// surviving a restart and a kill -9, on SQLite and on PostgreSQL; and
// setting_update reaching clients on every node of a cluster.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startNode, connect, hs256, ids, publishOk, sleep, heralddPath, baseConfig, merge, SOURCE_DIR,
  startCluster, stopAll, stockPlugins,
} from './lib/index.mjs';

const BUILD = process.env.HERALD_BUILD_DIR ?? join(SOURCE_DIR, 'build');
const TEST_PLUGINS = process.env.HERALD_TEST_PLUGINS ?? join(BUILD, 'tests', 'plugins');
const PG = process.env.HERALD_TEST_POSTGRES_URL;
const work = mkdtempSync(join(tmpdir(), 'herald-plugins-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ofType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const wsUrl = (node, name) => `${node.url.replace('http', 'ws')}/api/v69/ws/${name}`;
const open = async (node, name, claims) =>
  connect(node, claims ? await hs256(claims) : null, { url: wsUrl(node, name) });

/** Runs heraldd on `overrides`, expecting it to refuse to start. */
function startFailure(overrides) {
  const file = join(mkdtempSync(join(work, 'cfg-')), 'herald.json');
  writeFileSync(file, JSON.stringify(merge(baseConfig(), overrides)));
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
    execFile(heralddPath(), ['--config', file], { timeout: 10_000, env }, (err, stdout, stderr) => {
      resolve({ code: err?.code ?? 0, out: stdout + stderr });
    });
  });
}

describe('the example plugin, built out of tree', () => {
  let node;
  after(async () => { await node?.stop(); });

  it('builds against the installed SDK, loads, and serves its endpoint', { timeout: 240_000 }, async (t) => {
    const prefix = join(work, 'prefix');
    const build = join(work, 'dice-build');
    execFileSync('cmake', ['--install', BUILD, '--prefix', prefix], { stdio: 'pipe' });
    execFileSync('cmake', ['-S', join(SOURCE_DIR, 'examples', 'plugins', 'dice'), '-B', build,
      `-DCMAKE_PREFIX_PATH=${prefix}`], { stdio: 'pipe' });
    execFileSync('cmake', ['--build', build], { stdio: 'pipe' });
    node = await startNode({ plugins: { load: [{ path: join(build, 'libdice.so'), name: 'dice', config: { max_sides: 20 } }] } });
    assert.match(node.logs(), /plugin dice loaded/);
    const a = await open(node, 'dice');
    const b = await open(node, 'dice', ids.admin());
    t.after(() => { a.close(); b.close(); });
    b.send({ type: 'roll', sides: 12 });
    for (const c of [a, b]) {
      const m = await c.next(ofType('rolled'));
      assert.equal(m.data.sides, 12);
      assert.equal(m.data.by, 'u1');
      assert.ok(m.data.value >= 1 && m.data.value <= 12);
    }
    a.send({ type: 'roll', sides: 50 });
    const e = await a.next(ofType('error'));
    assert.equal(e.data.code, 'INVALID_MESSAGE');
    assert.match(e.data.message, /2\.\.20/);
  });
});

describe('the loader', () => {
  const refused = async (load, re) => {
    const r = await startFailure({ plugins: { load } });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, re);
  };
  it('refuses a missing file', () => refused([{ path: 'no_such_plugin.so' }],
    /plugins\.load\[0\] \(no_such_plugin\.so\): cannot load: .*No such file.*looked in/));
  it('refuses a library that is no plugin', () => refused([{ path: '/usr/lib/x86_64-linux-gnu/libsqlite3.so.0' }],
    /plugins\.load\[0\].*no herald_plugin_descriptor function/));
  it('refuses another ABI', () => refused([{ path: join(TEST_PLUGINS, 'herald_test_bad_abi.so') }],
    /plugins\.load\[0\].*built for plugin ABI (\d+), this node speaks ABI (?!\1)\d+: rebuild it/));
  it('refuses a duplicate name', () => refused(
    [{ path: 'herald_market.so' }, { path: join(TEST_PLUGINS, 'herald_test_duplicate_name.so') }],
    /plugins\.load\[1\].*a plugin named 'market' is loaded already/));
  it('refuses a duplicate endpoint, a built-in one too', () => refused(
    [{ path: join(TEST_PLUGINS, 'herald_test_taken_endpoint.so') }],
    /plugins\.load\[0\].*endpoint \/api\/v69\/ws\/monitor is served already/));
  it('refuses a plugin config the plugin refuses', () => refused(
    [{ path: 'herald_market.so', config: { max_symbols: 'many' } }],
    /plugins\.load\[0\]\.config: plugin 'market': max_symbols: must be an integer/));
  it('refuses a name that is not the library\'s', () => refused(
    [{ path: 'herald_market.so', name: 'stocks' }], /the library is plugin 'market', not 'stocks'/));
  it('refuses a malformed plugins.load', async () => {
    const r = await startFailure({ plugins: { load: [{ file: 'x.so' }] } });
    assert.equal(r.code, 2);
    assert.match(r.out, /plugins\.load\[0\]\.file: unknown key/);
  });

  it('contains a plugin whose spawn throws: 503 for its endpoint, the rest serve', async (t) => {
    const node = await startNode({
      plugins: { load: [{ path: join(TEST_PLUGINS, 'herald_test_throwing_spawn.so') }, { path: 'herald_market.so' }] },
      supervision: { max_restarts: 1, backoff_initial_ms: 20, backoff_max_ms: 40 },
    });
    t.after(() => node.stop());
    await sleep(500);
    await assert.rejects(open(node, 'thrower', ids.admin()), (e) => e.statusCode === 503 && /tripped/.test(e.body));
    const c = await open(node, 'market-data');
    c.send({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['X'] });
    await c.next(ofType('SUBSCRIBED'));
    await c.close();
    assert.match(node.logs(), /thrower: no actor today/);
  });
});

const stores = [['sqlite', (dir) => ({ kind: 'sqlite', sqlite: { path: join(dir, 'state.db') } })]];
if (PG) stores.push(['postgres', () => ({ kind: 'postgres', postgres: { url: PG } })]);
else it('PostgreSQL durability: SKIPPED, HERALD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)', () => {});

for (const [kind, storeOf] of stores) {
  describe(`durability on ${kind}`, () => {
    it('keeps settings and notifications across a restart and a kill -9', { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(work, `${kind}-`));
      const cfg = { plugins: { load: stockPlugins() }, store: storeOf(dir) };
      const who = `dur-${kind}-${Date.now()}`;
      let node = await startNode(cfg);
      try {
        const admin = await open(node, 'system-settings', ids.admin());
        admin.send({ type: 'update_setting', key: `k.${who}`, category: 'durable', value: 1 });
        await admin.next(ofType('setting'));
        const me = await open(node, 'notifications', { sub: who });
        await me.next(ofType('unread_count'));
        await sleep(100);
        await publishOk(node, { topic: 'notifications:x', event_type: 'n', data: { user_id: who, title: 'one' } });
        await me.next(ofType('notification'));
        await node.stop();

        node = await startNode(cfg);
        const again = await open(node, 'system-settings', ids.admin());
        again.send({ type: 'get_setting', key: `k.${who}` });
        assert.equal((await again.next(ofType('setting'))).data.value, 1);
        // Told it succeeded, then killed at once.
        again.send({ type: 'update_setting', key: `k.${who}`, value: 2 });
        await again.next(ofType('setting'));
        const me2 = await open(node, 'notifications', { sub: who });
        assert.equal((await me2.next(ofType('unread_count'))).data.count, 1);
        me2.send({ type: 'mark_all_read' });
        await me2.next(ofType('read_confirmed'));
        node.proc.kill('SIGKILL');
        await node.exited;

        node = await startNode(cfg);
        const third = await open(node, 'system-settings', ids.admin());
        third.send({ type: 'get_setting', key: `k.${who}` });
        assert.equal((await third.next(ofType('setting'))).data.value, 2);
        const me3 = await open(node, 'notifications', { sub: who });
        assert.equal((await me3.next(ofType('unread_count'))).data.count, 0);
        me3.send({ type: 'get_notifications' });
        const list = await me3.next(ofType('notifications'));
        assert.deepEqual(list.data.notifications.map((n) => [n.title, n.read]), [['one', true]]);
      } finally {
        if (node.exitInfo() === null) await node.stop();
      }
    });
  });
}

describe('system-settings in a cluster', () => {
  let nodes = [];
  before(async () => {
    const dir = mkdtempSync(join(work, 'cluster-'));
    nodes = await startCluster(['s1', 's2'], {
      overrides: { plugins: { load: stockPlugins() }, store: PG ? { kind: 'postgres', postgres: { url: PG } } : {} },
    });
    void dir;
  });
  after(async () => { await stopAll(nodes); });

  it('pushes setting_update to subscribers on every node', { timeout: 30_000 }, async (t) => {
    const watchers = [];
    for (const n of nodes) {
      const c = await open(n, 'system-settings', { sub: `w-${n.name}` });
      c.send({ type: 'subscribe_category', category: 'clustered' });
      await c.next(ofType('subscribed'));
      watchers.push(c);
    }
    t.after(() => watchers.forEach((c) => c.close()));
    await sleep(300); // interest reaches the other member
    const admin = await open(nodes[0], 'system-settings', ids.admin());
    t.after(() => admin.close());
    admin.send({ type: 'update_setting', key: 'c.value', category: 'clustered', value: 'v1' });
    await admin.next(ofType('setting'));
    for (const c of watchers) assert.equal((await c.next(ofType('setting_update'), 5000)).data.value, 'v1');
    if (PG) {
      // One shared store: the other node reads the new value too.
      const reader = await open(nodes[1], 'system-settings', { sub: 'r' });
      reader.send({ type: 'get_setting', key: 'c.value' });
      assert.equal((await reader.next(ofType('setting'))).data.value, 'v1');
      await reader.close();
    }
  });
});
