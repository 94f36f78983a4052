// Helpers for the cluster suites (docs/cluster.md): nodes that join one
// another on 127.0.0.1, membership waits on /readyz, presence, and a node
// spawned inside a network namespace for the partition suite.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_KEY, baseConfig, heralddPath, merge, sleep, startNode, waitFor, within } from './node.mjs';
import { get, metrics } from './http.mjs';

const CLUSTER_RE = /cluster listening on ([\d.]+):(\d+)/;

/** The last `lines` log lines of each node, labelled, for assertion messages. */
export function logsOf(nodes, lines = 40) {
  return nodes.filter(Boolean).map((n) => {
    const text = n.logs().split('\n').slice(-lines).join('\n');
    return `--- ${n.name ?? n.url} logs (last ${lines} lines) ---\n${text}`;
  }).join('\n');
}

/** Waits (bounded) for the `cluster listening on ADDR:PORT` line; returns {address, port}. */
export async function clusterAddress(node, timeoutMs = 5000) {
  try {
    return await waitFor(() => {
      const m = CLUSTER_RE.exec(node.logs());
      return m ? { address: m[1], port: Number(m[2]) } : null;
    }, { timeoutMs, intervalMs: 25, message: `"cluster listening on" in the logs of ${node.name}` });
  } catch (e) {
    throw new Error(`${e.message}\n${logsOf([node])}`);
  }
}

/**
 * Starts a cluster node named `name` on 127.0.0.1. opts: seeds (array of
 * nodes or "host:port" strings), port (cluster port, default 0), cluster
 * (more cluster keys), overrides (more configuration). The handle gets
 * `name`, `clusterPort` and `seed` ("127.0.0.1:PORT").
 */
export async function startClusterNode(name, opts = {}) {
  const seeds = (opts.seeds ?? []).map((s) => (typeof s === 'string' ? s : s.seed));
  const node = await startNode(merge({
    node: { name },
    cluster: { enabled: true, listen_address: '127.0.0.1', port: opts.port ?? 0, seeds, ...(opts.cluster ?? {}) },
  }, opts.overrides ?? {}));
  node.name = name;
  try {
    const addr = await clusterAddress(node);
    node.clusterPort = addr.port;
    node.seed = `${addr.address}:${addr.port}`;
  } catch (e) {
    await stopQuietly(node);
    throw e;
  }
  return node;
}

/** GET /readyz: {status, json} (status 0 when the node does not answer). */
export async function readyz(node) {
  try {
    const r = await get(node, '/readyz', { timeoutMs: 2000 });
    return { status: r.status, json: r.json, text: r.text };
  } catch (e) {
    return { status: 0, error: String(e) };
  }
}

/** The sorted member list of a node's /readyz, or null. */
export async function membersOf(node) {
  const r = await readyz(node);
  const m = r.json?.cluster?.members;
  return Array.isArray(m) ? m : null;
}

/**
 * Waits until every node's /readyz answers 200 with exactly `expected`
 * members (a list of names, or a function node → list). Returns the time
 * it took in ms. The error names what each node last said, with logs.
 */
export async function waitMembers(nodes, expected, { timeoutMs = 10_000, intervalMs = 50, what = '' } = {}) {
  const started = Date.now();
  const want = (n) => [...(typeof expected === 'function' ? expected(n) : expected)].sort();
  const last = new Map();
  for (;;) {
    let all = true;
    for (const n of nodes) {
      const r = await readyz(n);
      last.set(n, r);
      const m = r.json?.cluster?.members;
      if (r.status !== 200 || !Array.isArray(m) || JSON.stringify(m) !== JSON.stringify(want(n))) all = false;
    }
    if (all) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      const said = nodes.map((n) => `${n.name}: want ${JSON.stringify(want(n))}, got HTTP ${last.get(n).status} `
        + `${last.get(n).text ?? last.get(n).error}`).join('\n');
      throw new Error(`membership ${what} not reached within ${timeoutMs} ms:\n${said}\n${logsOf(nodes)}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Starts a cluster: the first name founds it (seeds []), the others seed
 * the founder's cluster port; waits until every node lists all of them.
 * opts.cluster: more cluster keys for every node. Returns the handles, in
 * order; on failure stops what it started.
 */
export async function startCluster(names, opts = {}) {
  const nodes = [];
  try {
    const founder = await startClusterNode(names[0], { seeds: [], cluster: opts.cluster, overrides: opts.overrides });
    nodes.push(founder);
    for (const name of names.slice(1)) {
      nodes.push(await startClusterNode(name, { seeds: [founder], cluster: opts.cluster, overrides: opts.overrides }));
    }
    await waitMembers(nodes, names, { timeoutMs: opts.timeoutMs ?? 15_000, what: 'at start' });
    return nodes;
  } catch (e) {
    await stopAll(nodes);
    throw e;
  }
}

/** Stops a node, swallowing "had died before stop()" (a node the test killed). */
export async function stopQuietly(node) {
  if (!node) return null;
  try {
    return await node.stop();
  } catch (e) {
    if (node.killedByTest) return null;
    throw e;
  }
}

/** Stops every node (in parallel); the first unexpected error is rethrown after all stopped. */
export async function stopAll(nodes) {
  const results = await Promise.allSettled(nodes.filter(Boolean).map((n) => stopQuietly(n)));
  const bad = results.find((r) => r.status === 'rejected');
  if (bad) throw bad.reason;
}

/** SIGKILL, and waits (bounded) for the exit. */
export async function killNode(node) {
  node.killedByTest = true;
  node.proc.kill('SIGKILL');
  const r = await within(node.exited, 5000);
  if (!r) throw new Error(`${node.name} still running 5 s after SIGKILL`);
  return r;
}

/** GET /api/v1/presence?topic=T with the API key. */
export async function presence(node, topic, apiKey = API_KEY) {
  return get(node, `/api/v1/presence?topic=${encodeURIComponent(topic)}`, {
    headers: apiKey === null ? {} : { authorization: `Bearer ${apiKey}` },
  });
}

/** One metric of a node (undefined when it is not exported). */
export async function metric(node, name) {
  return (await metrics(node))[name];
}

/** Like metric(), but throws a clear error when the node does not export it. */
export async function counter(node, name) {
  const m = await metrics(node);
  if (typeof m[name] !== 'number') {
    throw new Error(`${node.name ?? node.url} does not export ${name}; cluster metrics it has: `
      + `${Object.keys(m).filter((k) => k.startsWith('herald_cluster')).join(', ') || 'none'}`);
  }
  return m[name];
}

/** A TCP port nobody listens on right now on `host`. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Checks per-key order and completeness: `got` events (with data.run, data.i,
 * topic) against `sent` [{topic, i}]. Returns a list of problems (empty: fine). */
export function orderProblems(got, sent) {
  const problems = [];
  const seen = new Map();
  for (const m of got) {
    const i = m.data?.i;
    if (seen.has(i)) problems.push(`duplicate i=${i} (${m.topic})`);
    seen.set(i, m);
  }
  const sentIds = new Set(sent.map((s) => s.i));
  for (const s of sent) if (!seen.has(s.i)) problems.push(`missing i=${s.i} (${s.topic})`);
  for (const i of seen.keys()) if (!sentIds.has(i)) problems.push(`unexpected i=${i}`);
  const byTopic = {};
  for (const m of got) (byTopic[m.topic] ??= []).push(m.data.i);
  for (const [topic, is] of Object.entries(byTopic)) {
    const want = sent.filter((s) => s.topic === topic).map((s) => s.i);
    if (JSON.stringify(is) !== JSON.stringify(want)) {
      problems.push(`order on ${topic}: got [${is}] want [${want}]`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Nodes in network namespaces (the partition suite).

const nsLive = new Set();
process.on('exit', () => {
  for (const n of nsLive) {
    try { n.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/** Runs a command (argv), throwing with its stderr on failure. */
export function sh(argv, { allowFail = false } = {}) {
  try {
    return execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
  } catch (e) {
    if (allowFail) return null;
    throw new Error(`${argv.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
}

/**
 * Spawns `$HERALDD --config <file>` inside network namespace `ns` (via
 * `ip netns exec`, which execs the binary: the pid is heraldd's). The
 * configuration is baseConfig() merged with `overrides`. Waits (bounded)
 * for `listening on http://`. Returns a handle like startNode's, with
 * name, logs(), exitInfo(), stop(), proc, url, wsUrl.
 */
export async function startNodeInNetns(ns, name, overrides = {}) {
  const bin = heralddPath();
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-ns-'));
  const config = merge(baseConfig(), merge({ node: { name } }, overrides));
  const configFile = join(dir, 'herald.jsonc');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const proc = spawn('ip', ['netns', 'exec', ns, bin, '--config', configFile], {
    cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let exitInfo = null;
  let stopping = false;
  const handle = {
    name, proc, config, dir, killedByTest: false,
    logs: () => lines.join('\n'),
    exitInfo: () => exitInfo,
  };
  handle.exited = new Promise((res) => {
    proc.on('exit', (code, signal) => { exitInfo = { code, signal }; nsLive.delete(handle); res(exitInfo); });
  });
  let onLine = () => {};
  for (const [tag, stream] of [['out', proc.stdout], ['err', proc.stderr]]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (lines.length < 5000) lines.push(`[${tag}] ${line}`);
        if (process.env.HERALD_E2E_VERBOSE) process.stderr.write(`heraldd ${name} ${tag}| ${line}\n`);
        onLine(line);
      }
    });
  }
  handle.stop = async ({ signal = 'SIGTERM', timeoutMs } = {}) => {
    const diedEarly = exitInfo !== null && !stopping && !handle.killedByTest;
    stopping = true;
    if (exitInfo === null) {
      proc.kill(signal);
      if (!await within(handle.exited, timeoutMs ?? (config.shutdown?.grace_ms ?? 5000) + 3000)) {
        proc.kill('SIGKILL');
        await within(handle.exited, 3000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if (diedEarly) {
      throw new Error(`heraldd ${name} had died before stop(): ${JSON.stringify(exitInfo)}\n${logsOf([handle], 60)}`);
    }
    return exitInfo;
  };
  nsLive.add(handle);
  const ready = await new Promise((res) => {
    const timer = setTimeout(() => res({ error: 'no "listening on" line within 10000 ms' }), 10_000);
    onLine = (line) => {
      const m = /listening on http:\/\/([\d.]+):(\d+)/.exec(line);
      if (m) { clearTimeout(timer); res({ address: m[1], port: Number(m[2]) }); }
    };
    handle.exited.then((e) => { clearTimeout(timer); res({ error: `exited before ready: ${JSON.stringify(e)}` }); });
  });
  onLine = () => {};
  if (ready.error) {
    stopping = true;
    if (exitInfo === null) { proc.kill('SIGKILL'); await within(handle.exited, 3000); }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`heraldd ${name} in netns ${ns} did not start: ${ready.error}\n`
      + `--- config ---\n${JSON.stringify(config)}\n--- logs ---\n${lines.slice(-60).join('\n')}`);
  }
  handle.address = ready.address;
  handle.port = ready.port;
  handle.url = `http://${ready.address}:${ready.port}`;
  handle.wsUrl = `ws://${ready.address}:${ready.port}/ws`;
  return handle;
}

function ipv4ToInt(a) {
  return a.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
}

/** True when a.b.c.0/24 overlaps a route or address of the root namespace. */
function subnetInUse(prefix) {
  const lo = ipv4ToInt(`${prefix}.0`);
  const hi = lo + 255;
  const text = `${sh(['ip', '-4', 'route', 'show', 'table', 'all'], { allowFail: true }) ?? ''}\n`
    + `${sh(['ip', '-4', 'addr'], { allowFail: true }) ?? ''}`;
  for (const m of text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    if (bits === 0) continue; // the default route
    const base = ipv4ToInt(m[1]);
    const size = 2 ** (32 - bits);
    const start = base - (base % size);
    if (start <= hi && start + size - 1 >= lo) return true;
  }
  return false;
}

/**
 * A private L2 segment: a bridge in the root namespace (address .1) and one
 * namespace per name, each joined to the bridge by a veth with address .2,
 * .3, ... Every name is unique to this process. Returns {nsOf(name),
 * addrOf(name), bridgeAddr, blackhole(from, to), unblackhole(from, to),
 * cleanup()}. Throws (after cleaning up) when something cannot be made.
 */
export function makeNetnsLan(names) {
  const pid = process.pid;
  let prefix = null;
  for (let k = 0; k < 50 && !prefix; k++) {
    const candidate = `10.${200 + ((pid + k) % 50)}.${pid % 250}`;
    if (!subnetInUse(candidate)) prefix = candidate;
  }
  if (!prefix) throw new Error('no free 10.2xx.y.0/24 subnet for the test LAN');
  const bridge = `hpbr${pid}`.slice(0, 15);
  const ns = {};
  const addr = {};
  const hostVeth = {};
  names.forEach((n, i) => {
    ns[n] = `hp${pid}${n}`;
    addr[n] = `${prefix}.${i + 2}`;
    hostVeth[n] = `hpv${pid}${n}`.slice(0, 15);
  });
  const routes = new Set();
  const lan = {
    prefix,
    bridge,
    bridgeAddr: `${prefix}.1`,
    nsOf: (n) => ns[n],
    addrOf: (n) => addr[n],
    blackhole(from, to) {
      sh(['ip', 'netns', 'exec', ns[from], 'ip', 'route', 'add', 'blackhole', `${addr[to]}/32`]);
      routes.add(`${from}>${to}`);
    },
    unblackhole(from, to) {
      sh(['ip', 'netns', 'exec', ns[from], 'ip', 'route', 'del', 'blackhole', `${addr[to]}/32`]);
      routes.delete(`${from}>${to}`);
    },
    cleanup() {
      for (const n of names) {
        sh(['ip', 'netns', 'del', ns[n]], { allowFail: true });
        sh(['ip', 'link', 'del', hostVeth[n]], { allowFail: true });
      }
      sh(['ip', 'link', 'del', bridge], { allowFail: true });
    },
  };
  try {
    sh(['ip', 'link', 'add', 'name', bridge, 'type', 'bridge']);
    sh(['ip', 'addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
    sh(['ip', 'link', 'set', bridge, 'up']);
    for (const n of names) {
      const peer = `hpp${pid}${n}`.slice(0, 15);
      sh(['ip', 'netns', 'add', ns[n]]);
      sh(['ip', 'link', 'add', hostVeth[n], 'type', 'veth', 'peer', 'name', peer]);
      sh(['ip', 'link', 'set', peer, 'netns', ns[n]]);
      sh(['ip', 'link', 'set', hostVeth[n], 'master', bridge]);
      sh(['ip', 'link', 'set', hostVeth[n], 'up']);
      sh(['ip', 'netns', 'exec', ns[n], 'ip', 'link', 'set', 'lo', 'up']);
      sh(['ip', 'netns', 'exec', ns[n], 'ip', 'addr', 'add', `${addr[n]}/24`, 'dev', peer]);
      sh(['ip', 'netns', 'exec', ns[n], 'ip', 'link', 'set', peer, 'up']);
    }
  } catch (e) {
    lan.cleanup();
    throw e;
  }
  return lan;
}

/** Why the partition suite cannot run here, or null when it can. */
export function netnsUnavailable() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: network namespaces need root';
  if (sh(['ip', '-V'], { allowFail: true }) === null) return '`ip` (iproute2) is not installed';
  const probe = `hpprobe${process.pid}`;
  if (sh(['ip', 'netns', 'add', probe], { allowFail: true }) === null) return '`ip netns add` failed here';
  sh(['ip', 'netns', 'del', probe], { allowFail: true });
  return null;
}
