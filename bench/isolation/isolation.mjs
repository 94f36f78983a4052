// bench/isolation: does trouble in channels slow the /ws deliveries of
// everyone else? (docs/monitors.md, "Supervisors"; docs/channels.md)
//
// One heraldd on loopback. /ws subscribers hold one topic; a publisher
// posts at a fixed rate, each event carrying its send time, and the
// subscribers record publish-to-delivery latency. Three phases of equal
// length, in one run, on one node:
//   baseline  nothing else happens;
//   crashes   an admin crashes the drill channel in a loop (restarted at
//             once: backoff 0, no intensity limit);
//   health    circuit-breaker clients follow every service while five
//             upstreams are probed every 100 ms and flap.
// The three run in turn, `--rounds` times, so that drift on a shared
// machine hits each alike; the figures are the medians over the rounds,
// and ratios against the baseline of the same run.
//
// Usage: node bench/isolation/isolation.mjs [--subs N] [--rate R]
//        [--seconds S] [--rounds K] [--cb-clients C] [--heraldd PATH]
// Needs `ws` (installed by `npm ci` in bench/peer).

import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(join(root, 'bench', 'peer', 'package.json'));
const WebSocket = require('ws');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const SUBS = Number(arg('subs', 200));
const RATE = Number(arg('rate', 200));
const SECONDS = Number(arg('seconds', 5));
const ROUNDS = Number(arg('rounds', 3));
const CB_CLIENTS = Number(arg('cb-clients', 100));
const HERALDD = arg('heraldd', ['build-bench', 'build']
  .map((d) => join(root, d, 'apps', 'heraldd')).find((p) => existsSync(p)));
const SECRET = 'isolation-bench-secret-0123456789abcdef';
const KEY = 'isolation-bench-key';
const MAX_CRASHES = 100000; // bound of the crash loop, beside its time
const deadline = (ms) => new Promise((res) => setTimeout(res, ms));

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
function token(claims) {
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}
const admin = token({ sub: 'bench', customer_id: 'bench', roles: ['admin'] });

// Five upstreams that flap: each answers 200 or 503, switching every 300 ms.
const upstreams = [];
for (let i = 0; i < 5; i++) {
  const s = http.createServer((req, res) => {
    const up = Math.floor(Date.now() / 300 + i) % 2 === 0;
    res.writeHead(up ? 200 : 503);
    res.end();
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  upstreams.push(s);
}

const dir = mkdtempSync(join(tmpdir(), 'herald-isolation-'));
const cfgPath = join(dir, 'herald.json');
writeFileSync(cfgPath, JSON.stringify({
  node: { name: 'isolation' },
  listen: { address: '127.0.0.1', port: 0 },
  admin: { port: 0 },
  auth: { jwt: { hs256_secret: SECRET }, api_keys: [KEY] },
  limits: { rate_per_second: 100000, rate_burst: 100000 },
  log: { level: 'warn' },
  services: upstreams.map((s, i) => ({
    name: `up${i}`, layer: `l${i % 2}`,
    probe: { http: `http://127.0.0.1:${s.address().port}/`, timeout_ms: 200 },
    interval_ms: 100, breaker: { failure_threshold: 1, open_ms: 100 },
  })),
  supervision: { max_restarts: 10000, within_ms: 1, backoff_initial_ms: 0, backoff_max_ms: 0 },
  channels: { drill: { enabled: true } },
}));

const node = spawn(HERALDD, ['--config', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
node.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
const port = await new Promise((res, rej) => {
  const t = setTimeout(() => rej(new Error(`heraldd did not start: ${stderr}`)), 10000);
  node.stdout.on('data', (d) => {
    const m = /listening on http:\/\/[\d.]+:(\d+)/.exec(d.toString());
    if (m) { clearTimeout(t); res(Number(m[1])); }
  });
});
const base = `127.0.0.1:${port}`;

function open(path, tok) {
  const ws = new WebSocket(`ws://${base}${path}`, { headers: { Authorization: `Bearer ${tok}` } });
  return new Promise((res, rej) => {
    const t = setTimeout(() => { ws.terminate(); rej(new Error(`open ${path} timed out`)); }, 5000);
    ws.once('open', () => { clearTimeout(t); res(ws); });
    ws.once('error', (e) => { clearTimeout(t); rej(e); });
    ws.once('unexpected-response', (q, r) => { clearTimeout(t); q.destroy(); rej(new Error(`HTTP ${r.statusCode}`)); });
  });
}

// Subscribers: latency of every delivery, by phase.
let phase = null;
const samples = { baseline: [], crashes: [], health: [] };
const subs = [];
for (let i = 0; i < SUBS; i++) {
  const ws = await open('/ws', admin);
  ws.on('message', (d) => {
    const m = JSON.parse(d);
    if (m.event_type === 'bench.tick' && phase && m.data.phase === phase)
      samples[phase].push(performance.timeOrigin + performance.now() - m.data.sent);
  });
  ws.send(JSON.stringify({ type: 'subscribe', topics: ['customer_id:bench:call:iso'] }));
  subs.push(ws);
}
await deadline(500);

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function publish(ph) {
  const body = JSON.stringify({ topic: 'customer_id:bench:call:iso', event_type: 'bench.tick',
    data: { phase: ph, sent: performance.timeOrigin + performance.now(), pad: 'x'.repeat(64) } });
  const req = http.request({ host: '127.0.0.1', port, path: '/api/v1/publish', method: 'POST', agent,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  req.on('error', () => {});
  req.end(body);
  req.on('response', (r) => r.resume());
}

async function runPhase(name, during) {
  phase = name;
  const stop = { done: false };
  const side = during ? during(stop) : Promise.resolve({});
  const end = Date.now() + SECONDS * 1000;
  const gap = 1000 / RATE;
  let next = performance.now();
  while (Date.now() < end) {
    publish(name);
    next += gap;
    const wait = next - performance.now();
    if (wait > 0) await deadline(wait);
  }
  await deadline(500); // the last deliveries
  stop.done = true;
  const extra = await side;
  phase = null;
  return extra;
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
const median = (xs) => pct(xs, 0.5);

async function crashLoop(stop) {
  let crashes = 0;
  let refused = 0;
  while (!stop.done && crashes < MAX_CRASHES) {
    try {
      const ws = await open('/api/v69/ws/drill', admin);
      const closed = new Promise((r) => ws.once('close', r));
      ws.send(JSON.stringify({ type: 'crash' }));
      await Promise.race([closed, deadline(2000)]);
      crashes += 1;
    } catch { refused += 1; await deadline(5); }
  }
  return { crashes, refused_while_restarting: refused };
}

async function healthLoad(stop) {
  let pushes = 0;
  const cbs = [];
  for (let i = 0; i < CB_CLIENTS; i++) {
    const ws = await open('/api/v69/ws/circuit-breaker', admin);
    ws.on('message', () => { pushes += 1; });
    ws.send(JSON.stringify({ type: 'subscribe_all' }));
    cbs.push(ws);
  }
  while (!stop.done) await deadline(50);
  for (const ws of cbs) ws.terminate();
  return { cb_clients: CB_CLIENTS, pushes_received: pushes };
}

const phases = { baseline: null, crashes: crashLoop, health: healthLoad };
const rounds = { baseline: [], crashes: [], health: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, during] of Object.entries(phases)) {
    samples[name] = [];
    const extra = await runPhase(name, during);
    const xs = samples[name];
    rounds[name].push({ deliveries: xs.length, p50: pct(xs, 0.5), p99: pct(xs, 0.99), ...extra });
  }
}

const out = { conditions: { subscribers: SUBS, topics: 1, rate_per_s: RATE, seconds_per_phase: SECONDS,
  rounds: ROUNDS, payload_bytes: 64, cores: cpus().length, heraldd: HERALDD,
  expected_deliveries_per_phase: Math.round(RATE * SECONDS) * SUBS }, phases: {} };
for (const name of Object.keys(phases)) {
  const rs = rounds[name];
  const sum = (k) => rs.reduce((a, x) => a + (x[k] ?? 0), 0);
  out.phases[name] = { median_p50_ms: +median(rs.map((x) => x.p50)).toFixed(3),
    median_p99_ms: +median(rs.map((x) => x.p99)).toFixed(3),
    min_deliveries: Math.min(...rs.map((x) => x.deliveries)) };
  if (name === 'crashes') Object.assign(out.phases[name], { crashes: sum('crashes'), refused_while_restarting: sum('refused_while_restarting') });
  if (name === 'health') Object.assign(out.phases[name], { cb_clients: CB_CLIENTS, pushes_received: sum('pushes_received') });
}
const b = out.phases.baseline;
for (const name of ['crashes', 'health']) {
  out.phases[name].p50_vs_baseline = +(out.phases[name].median_p50_ms / b.median_p50_ms).toFixed(2);
  out.phases[name].p99_vs_baseline = +(out.phases[name].median_p99_ms / b.median_p99_ms).toFixed(2);
}
console.log(JSON.stringify(out, null, 2));

for (const ws of subs) ws.terminate();
agent.destroy();
node.kill('SIGTERM');
await Promise.race([new Promise((r) => node.once('exit', r)), deadline(8000)]);
for (const s of upstreams) s.close();
process.exit(0);
