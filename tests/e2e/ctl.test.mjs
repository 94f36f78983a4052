// herald-ctl's one-shot commands against a real node (docs/console.md,
// "herald-ctl"): every command with --json, parsed and checked, and the
// exit codes (1 the node said no, 2 usage, 3 unreachable, 4 wait timed
// out, 130 interrupted).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import {
  startNode, startClusterNode, heraldCtlPath, connect, hs256, ids, publish, HS256_SECRET, waitFor, within, sleep,
} from './lib/index.mjs';

const ctl = heraldCtlPath();
const SKIP = !ctl && 'herald-ctl not found (set HERALD_CTL)';
const TOPIC_PATTERN = 'customer_id:c1:call:*';
const OTHER_PATTERN = 'customer_id:c1:message:*';

// herald-ctl must not see the HERALD_* variables CTest gives this process
// (HERALD_ADMIN_URL and friends would change what it does).
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  return { ...env, ...extra };
}

/**
 * Runs herald-ctl; resolves {code, signal, stdout, stderr}, never rejects.
 * opts: env (added to a clean environment), timeoutMs (then SIGKILL),
 * onStdout(text so far, child).
 */
function runCtl(args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(ctl, args, { env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; opts.onStdout?.(stdout, child); });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    opts.started?.(child);
  });
}

describe('herald-ctl one-shot commands', { skip: SKIP, timeout: 120_000 }, () => {
  let node;
  let admin;
  let c1;
  let c2;
  let victim;
  // Every call: the node's admin URL and a token minted with its secret.
  const base = () => ['--admin', admin, '--secret', HS256_SECRET];
  async function ok(args, opts) {
    const r = await runCtl([...base(), ...args], opts);
    assert.equal(r.code, 0, `herald-ctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  }
  async function json(args, opts) {
    const r = await ok(['--json', ...args], opts);
    try {
      return JSON.parse(r.stdout);
    } catch (e) {
      throw new Error(`herald-ctl ${args.join(' ')} printed no JSON document: ${JSON.stringify(r.stdout)}`);
    }
  }
  async function connectionsByUser() {
    const doc = await json(['actors', '--kind', 'connection', '--limit', '1000']);
    return doc.items;
  }

  before(async () => {
    node = await startNode();
    admin = node.adminUrl;
    assert.ok(admin, `no "admin console on" line in the node's output:\n${node.logs()}`);
    c1 = await connect(node, await hs256(ids.admin('c1')));
    await c1.subscribe(TOPIC_PATTERN);
    c2 = await connect(node, await hs256({ sub: 'u2', customer_id: 'c1', roles: ['admin'] }));
    await c2.subscribe([TOPIC_PATTERN, OTHER_PATTERN]);
    victim = await connect(node, await hs256({ sub: 'victim', customer_id: 'c1', roles: ['admin'] }));
    await victim.subscribe(OTHER_PATTERN);
  });

  after(async () => {
    for (const c of [c1, c2, victim]) await c?.close();
    await node?.stop();
  });

  it('node: this node summary', async () => {
    const doc = await json(['node']);
    assert.equal(doc.node, 'e2e');
    assert.equal(typeof doc.version, 'string');
    assert.equal(typeof doc.uptime_ms, 'number');
    assert.ok(doc.connections >= 3, `connections ${doc.connections}`);
    assert.equal(typeof doc.actors, 'object');
    assert.equal(doc.admin, admin);
    assert.equal(doc.listen, node.url);
    assert.equal(doc.maintenance.enabled, false);
  });

  it('nodes: one item per member, with the cluster-wide fields', async () => {
    const doc = await json(['nodes']);
    assert.deepEqual(doc.items.map((n) => n.node), ['e2e']);
    assert.deepEqual(doc.nodes, ['e2e']);
    assert.deepEqual(doc.missing, []);
    assert.equal(doc.complete, true);
  });

  it('actors: rows with their figures, and every filter flag', async () => {
    const all = await json(['actors']);
    assert.ok(all.total >= 3, `total ${all.total}`);
    const row = all.items[0];
    for (const k of ['node', 'id', 'kind', 'name', 'parent', 'age_ms', 'mailbox', 'handled', 'rate', 'state']) {
      assert.ok(k in row, `actor row without ${k}: ${JSON.stringify(row)}`);
    }
    const conns = await json(['actors', '--kind', 'connection']);
    assert.ok(conns.items.length >= 3);
    assert.ok(conns.items.every((a) => a.kind === 'connection'));
    const two = await json(['actors', '--kind', 'connection', '--kind', 'topic']);
    assert.ok(two.items.every((a) => a.kind === 'connection' || a.kind === 'topic'));
    assert.ok(two.items.some((a) => a.kind === 'topic'));

    const page = await json(['actors', '--sort', 'id', '--asc', '--offset', '1', '--limit', '2']);
    assert.equal(page.offset, 1);
    assert.equal(page.limit, 2);
    assert.equal(page.items.length, 2);
    assert.ok(page.items[0].id < page.items[1].id);
    assert.equal(page.items[0].id, all.items[1].id);

    const desc = await json(['actors', '--sort', 'handled', '--desc', '--limit', '5']);
    for (let i = 1; i < desc.items.length; i++) assert.ok(desc.items[i - 1].handled >= desc.items[i].handled);

    const named = await json(['actors', '--name', 'victim']);
    assert.ok(named.items.length >= 1, JSON.stringify(named));
    assert.ok(named.items.every((a) => a.name.includes('victim')));

    const here = await json(['actors', '--node', 'e2e', '--limit', '1']);
    assert.equal(here.items[0].node, 'e2e');
  });

  it('actors: the table has the documented columns', async () => {
    const r = await ok(['actors', '--kind', 'connection']);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.deepEqual(header.trim().split(/\s+/),
      ['NODE', 'ID', 'KIND', 'NAME', 'MAILBOX', 'RATE', 'HANDLED', 'AGE', 'STATE']);
    assert.ok(rows.filter((l) => /\bconnection\b/.test(l)).length >= 3, r.stdout);
  });

  it('actor NODE/ID and a bare ID: the row, its detail and children', async () => {
    const conn = (await connectionsByUser()).find((a) => a.name.includes('u2') || a.state.includes('u2'));
    assert.ok(conn, 'the u2 connection is listed');
    const doc = await json(['actor', `e2e/${conn.id}`]);
    assert.equal(doc.id, conn.id);
    assert.equal(doc.kind, 'connection');
    assert.equal(doc.detail.user, 'u2');
    assert.deepEqual([...doc.detail.subscriptions].sort(), [OTHER_PATTERN, TOPIC_PATTERN].sort());
    assert.ok(Array.isArray(doc.children));
    const bare = await json(['actor', String(conn.id)]);
    assert.equal(bare.id, conn.id);
    assert.equal(bare.node, 'e2e');
    const text = await ok(['actor', `e2e/${conn.id}`]);
    assert.match(text.stdout, /kind:\s+connection/);
  });

  it('actor that does not exist: exit 1 with the node\'s NOT_FOUND', async () => {
    const r = await runCtl([...base(), 'actor', 'e2e/987654321']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /404 NOT_FOUND/);
    assert.equal(r.stdout, '');
  });

  it('tree: the supervision tree with connection and topic counts', async () => {
    const doc = await json(['tree']);
    assert.equal(doc.items.length, 1);
    const [t] = doc.items;
    assert.equal(t.node, 'e2e');
    const root = t.roots.find((r) => r.name === 'root');
    assert.equal(root.kind, 'supervisor');
    assert.ok(root.children.some((c) => c.kind === 'router'), JSON.stringify(root));
    assert.ok(t.connections >= 3);
    const text = await ok(['tree']);
    assert.match(text.stdout, /^node e2e/m);
    assert.match(text.stdout, /supervisor/);
  });

  it('topics and subscribers', async () => {
    const doc = await json(['topics']);
    const topic = doc.items.find((t) => t.pattern === TOPIC_PATTERN);
    assert.ok(topic, JSON.stringify(doc.items));
    assert.equal(topic.subscribers, 2);
    for (const k of ['node', 'id', 'delivered', 'handled', 'rate']) assert.ok(k in topic, k);
    const narrowed = await json(['topics', '--pattern', 'message', '--node', 'e2e']);
    assert.ok(narrowed.items.length >= 1);
    assert.ok(narrowed.items.every((t) => t.pattern.includes('message')));

    const subs = await json(['subscribers', TOPIC_PATTERN]);
    assert.deepEqual(subs.items.map((s) => s.user).sort(), ['u1', 'u2']);
    assert.ok(subs.items.every((s) => s.node === 'e2e' && typeof s.id === 'number'));
  });

  it('cluster and wait-cluster', async () => {
    const doc = await json(['cluster']);
    assert.equal(doc.node, 'e2e');
    assert.ok(doc.members.includes('e2e'));
    const waited = await json(['wait-cluster', '1', '--timeout', '5']);
    assert.equal(waited.node, 'e2e');
    const started = Date.now();
    const r = await runCtl([...base(), 'wait-cluster', '2', '--timeout', '1']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /waiting for 2 members/);
    assert.ok(Date.now() - started < 8000);
  });

  it('services, and reset of a service no node has', async () => {
    const doc = await json(['services']);
    assert.ok(Array.isArray(doc.items));
    assert.deepEqual(doc.nodes, ['e2e']);
    const r = await runCtl([...base(), 'reset', 'no-such-service']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /NOT_FOUND/);
  });

  it('maintenance: shown, set by herald-ctl, cleared', async () => {
    const before = await json(['maintenance']);
    assert.ok(before);
    await json(['maintenance', 'on', '--message', 'upgrading', '--until', '2026-12-02T12:00:00Z']);
    const n = await json(['node']);
    assert.equal(n.maintenance.enabled, true);
    assert.equal(n.maintenance.message, 'upgrading');
    assert.equal(n.maintenance.expected_end, '2026-12-02T12:00:00Z');
    assert.equal(n.maintenance.set_by, 'herald-ctl');
    await json(['maintenance', 'off']);
    assert.equal((await json(['node'])).maintenance.enabled, false);
  });

  it('top --once: the busiest by mailbox and by rate', async () => {
    const doc = await json(['top', '--once', '--limit', '3']);
    assert.ok(doc.by_mailbox.items.length >= 1 && doc.by_mailbox.items.length <= 3);
    assert.ok(doc.by_rate.items.length >= 1);
    const text = await ok(['top', '--once', '--limit', '3']);
    assert.match(text.stdout, /BUSIEST BY MAILBOX/);
    assert.match(text.stdout, /BUSIEST BY RATE/);
  });

  it('follow topic PATTERN --count 2: the events, one JSON line each', async () => {
    // Publishes until the stream has shown two events: the stream opens
    // some time after the process starts, and events before are not seen.
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop && i < 100; i++) {
        await publish(node, { topic: 'customer_id:c1:call:f1', event_type: 'call.status', data: { i } });
        await sleep(100);
      }
    })();
    const r = await runCtl([...base(), '--json', 'follow', 'topic', TOPIC_PATTERN, '--count', '2'],
      { timeoutMs: 15_000 });
    stop = true;
    await publisher;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const ev of lines) assert.equal(ev.event_type, 'call.status');
  });

  it('follow actor NODE/ID --count 2: its figures', async () => {
    const conn = (await connectionsByUser())[0];
    const r = await runCtl([...base(), '--json', 'follow', 'actor', `e2e/${conn.id}`, '--count', '2',
      '--interval', '100'], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 2);
    assert.ok(rows.every((row) => row.id === conn.id && typeof row.mailbox === 'number'));
  });

  it('follow is stopped by Ctrl-C with exit 130', async () => {
    let child;
    const done = runCtl([...base(), 'follow', 'topic', 'nothing:*'], { started: (c) => { child = c; } });
    await sleep(700);
    child.kill('SIGINT');
    const r = await within(done, 5000);
    assert.ok(r, 'herald-ctl ended within 5 s of SIGINT');
    assert.equal(r.code, 130, r.stderr);
  });

  it('usage errors exit 2', async () => {
    for (const args of [['actors', '--bogus'], ['actor', 'not-an-id'], ['actor'], ['wait-cluster'],
      ['no-such-command'], ['follow', 'sideways', 'x'], ['maintenance', 'maybe'], ['actors', '--limit']]) {
      const r = await runCtl([...base(), ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.notEqual(r.stderr, '', `${args.join(' ')} says why`);
    }
    const bad = await runCtl(['--admin', 'ftp://nowhere', 'node']);
    assert.equal(bad.code, 2);
  });

  it('a parameter the node refuses: exit 1 with INVALID_MESSAGE', async () => {
    const r = await runCtl([...base(), 'actors', '--sort', 'colour']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /400 INVALID_MESSAGE/);
  });

  it('a node that cannot be reached: exit 3', async () => {
    // A port that was free a moment ago.
    const srv = createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address();
    await new Promise((r) => srv.close(r));
    const r = await runCtl(['--admin', `http://127.0.0.1:${port}`, 'node']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /cannot reach/);
  });

  it('credentials: missing, wrong or not admin is refused, env tokens work', async () => {
    // The development secret is not the node's: 401.
    const dev = await runCtl(['--admin', admin, 'node']);
    assert.equal(dev.code, 1, dev.stderr);
    assert.match(dev.stderr, /401 UNAUTHORIZED/);
    const garbage = await runCtl(['--admin', admin, '--token', 'not.a.jwt', 'node']);
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /UNAUTHORIZED/);
    const plain = await hs256({ sub: 'nobody', customer_id: 'c1' });
    const denied = await runCtl(['--admin', admin, '--token', plain, 'node']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /403 PERMISSION_DENIED/);

    const viaEnv = await runCtl(['--json', 'node'], {
      env: { HERALD_ADMIN_URL: admin, HERALD_ADMIN_TOKEN: await hs256(ids.admin('c1')) },
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(JSON.parse(viaEnv.stdout).node, 'e2e');
    const viaSecret = await runCtl(['--json', 'node'], {
      env: { HERALD_ADMIN_URL: admin, HERALD_AUTH_JWT_HS256_SECRET: HS256_SECRET },
    });
    assert.equal(viaSecret.code, 0, viaSecret.stderr);
  });

  it('stop NODE/ID closes a connection with 1008, follow actor sees it go', async () => {
    const row = (await connectionsByUser()).find((a) => a.name.includes('victim') || a.state.includes('victim'));
    assert.ok(row, 'the victim connection is listed');
    let following = '';
    let child;
    const follow = runCtl([...base(), 'follow', 'actor', `e2e/${row.id}`, '--interval', '100'], {
      timeoutMs: 15_000, started: (c) => { child = c; }, onStdout: (text) => { following = text; },
    });
    await waitFor(() => following.includes('MAILBOX'), { timeoutMs: 5000, message: 'follow actor printing' });
    const doc = await json(['stop', `e2e/${row.id}`, '--reason', 'e2e says so']);
    assert.deepEqual({ node: doc.node, id: doc.id, stopped: doc.stopped }, { node: 'e2e', id: row.id, stopped: true });
    const closed = await victim.waitClose(5000);
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'stopped by admin: e2e says so');
    const f = await within(follow, 10_000);
    if (!f) child.kill('SIGKILL');
    assert.ok(f, 'follow actor ended when the actor went');
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /gone/);

    const refused = await runCtl([...base(), 'stop', 'e2e/987654321']);
    assert.equal(refused.code, 1);
    const bare = await runCtl([...base(), 'stop', String(row.id)]);
    assert.equal(bare.code, 2, 'stop wants NODE/ID');
  });

  it('token still mints development tokens', async () => {
    const r = await runCtl(['token', '--sub', 'ops', '--roles', 'admin', '--secret', HS256_SECRET]);
    assert.equal(r.code, 0, r.stderr);
    const doc = await json(['node'], { env: {} });
    assert.ok(doc.node);
    const withToken = await runCtl(['--admin', admin, '--token', r.stdout.trim(), '--json', 'node']);
    assert.equal(withToken.code, 0, withToken.stderr);
  });
});

describe('herald-ctl against a cluster of two', { skip: SKIP, timeout: 90_000 }, () => {
  let a;
  let b;
  let cb;
  const on = (n) => ['--admin', n.adminUrl, '--secret', HS256_SECRET];

  before(async () => {
    a = await startClusterNode('a');
    b = await startClusterNode('b', { seeds: [a] });
    cb = await connect(b, await hs256(ids.admin('c1')));
    await cb.subscribe(TOPIC_PATTERN);
  });

  after(async () => {
    await cb?.close();
    await b?.stop();
    await a?.stop();
  });

  it('wait-cluster 2 returns once both are members, with progress on stderr', async () => {
    const r = await runCtl([...on(a), '--json', 'wait-cluster', '2', '--timeout', '30'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).members.sort(), ['a', 'b']);
    assert.match(r.stderr, /2 members/);
  });

  it('one node answers for both: actors by node, an actor of the other node', async () => {
    const r = await runCtl([...on(a), '--json', 'actors', '--node', 'b', '--kind', 'connection']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.ok(doc.items.length >= 1 && doc.items.every((x) => x.node === 'b'), r.stdout);
    const id = doc.items[0].id;
    const one = await runCtl([...on(a), '--json', 'actor', `b/${id}`]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(JSON.parse(one.stdout).node, 'b');
    const all = await runCtl([...on(a), '--json', 'actors', '--limit', '1000']);
    const nodes = new Set(JSON.parse(all.stdout).items.map((x) => x.node));
    assert.deepEqual([...nodes].sort(), ['a', 'b']);
    const missing = await runCtl([...on(a), 'actors', '--node', 'nowhere']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /404 NOT_FOUND/);
  });
});
