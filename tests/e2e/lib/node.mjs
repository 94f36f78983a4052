// Starting and stopping a real heraldd for a suite.
//
// startNode(overrides) writes a temporary configuration (the base below,
// deep-merged with `overrides`; a `null` value deletes a key, arrays replace),
// spawns `$HERALDD --config <file>`, waits (bounded) for the
// `listening on http://ADDR:PORT` line (with listen.plain false, the
// `listening on https://` one of docs/tls.md) and returns a handle. Every handle is
// also tracked here so that a crashed test still kills its node at exit.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HS256_SECRET = 'herald-e2e-secret-0123456789abcdef0123456789';
export const API_KEY = 'e2e-api-key';
export const SOURCE_DIR = process.env.HERALD_SOURCE_DIR
  ?? resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const READY_RE = /listening on http:\/\/([\d.]+):(\d+)/;
// The TLS listener's line (docs/tls.md), printed before READY_RE's.
const TLS_RE = /listening on https:\/\/([\d.]+):(\d+)/;
// Printed before READY_RE's line when the admin listener is open.
const ADMIN_RE = /admin console on (http:\/\/[\d.]+:\d+)/;
const START_TIMEOUT_MS = 10_000;

/** The binary under test: $HERALDD, else the lead's build directory. */
export function heralddPath() {
  const p = process.env.HERALDD ?? join(SOURCE_DIR, 'build', 'apps', 'heraldd');
  if (!existsSync(p)) {
    throw new Error(`heraldd not found at ${p}: build it and set HERALDD=<path>`);
  }
  return p;
}

/** herald-ctl: $HERALD_CTL, else next to heraldd. Null when missing. */
export function heraldCtlPath() {
  const p = process.env.HERALD_CTL ?? join(dirname(heralddPath()), 'herald-ctl');
  return existsSync(p) ? p : null;
}

/** Base configuration of every e2e node: loopback, any port, short timers. */
export function baseConfig() {
  return {
    node: { name: 'e2e' },
    listen: { address: '127.0.0.1', port: 0 },
    auth: {
      jwt: { hs256_secret: HS256_SECRET, leeway_seconds: 10 },
      api_keys: [API_KEY],
    },
    limits: {},
    ws: { close_timeout_ms: 1000 },
    shutdown: { grace_ms: 2000 },
    log: { level: 'info' },
    // Suites about plugins load them themselves (plugins.test.mjs).
    plugins: { load: [] },
    // Connection events would add to the history figures other suites
    // count exactly; the chat events suites turn them on.
    chat_events: { connections: false },
    // Any free port: several nodes run at once (docs/console.md).
    admin: { port: 0 },
  };
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge: objects merge, arrays and scalars replace, null deletes. */
export function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) out[k] = merge(out[k], v);
    else out[k] = v;
  }
  return out;
}

// The node reads HERALD_* variables as configuration keys and refuses
// unknown ones, and CTest gives this process HERALD_SOURCE_DIR, HERALD_CTL:
// the child gets the environment without any HERALD_* variable.
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
}

const live = new Set();
process.on('exit', () => {
  for (const n of live) {
    try { n.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Starts a node. Returns {url, port, wsUrl, tlsUrl, tlsWsUrl, tlsPort,
 * proc, config, dir, stop(), logs(), exited} (a TLS-only node's url and
 * wsUrl are its https:// and wss:// ones). options: rawConfig (replaces the JSON text written),
 * args (extra flags), env (extra environment), noConfig.
 */
export async function startNode(overrides = {}, options = {}) {
  const bin = heralddPath();
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
  const config = merge(baseConfig(), overrides);
  const configFile = join(dir, 'herald.jsonc');
  writeFileSync(configFile, options.rawConfig
    ?? `// written by tests/e2e/lib/node.mjs\n${JSON.stringify(config, null, 2)}\n`);

  // options.noConfig: no --config at all (the built-in development
  // configuration); pass flags in options.args, e.g. --listen.port=0.
  const argv = options.noConfig ? [...(options.args ?? [])] : ['--config', configFile, ...(options.args ?? [])];
  const proc = spawn(bin, argv, {
    cwd: dir,
    env: { ...childEnv(), ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let exitInfo = null;
  let stopping = false;
  const exited = new Promise((res) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(handle);
      res(exitInfo);
    });
  });

  let onLine = () => {};
  for (const [name, stream] of [['out', proc.stdout], ['err', proc.stderr]]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (lines.length < 5000) lines.push(`[${name}] ${line}`);
        if (process.env.HERALD_E2E_VERBOSE) process.stderr.write(`heraldd ${name}| ${line}\n`);
        onLine(line);
      }
    });
  }

  const handle = {
    proc,
    config,
    dir,
    exited,
    logs: () => lines.join('\n'),
    /** Exit info when the process has ended, else null. */
    exitInfo: () => exitInfo,
    /**
     * SIGTERM, then waits up to `timeoutMs` (default grace + 3 s), then
     * SIGKILL. Throws when the node had died before being asked to stop.
     * Returns {code, signal, elapsedMs, killed}.
     */
    async stop({ signal = 'SIGTERM', timeoutMs } = {}) {
      const diedEarly = exitInfo !== null && !stopping;
      stopping = true;
      const started = Date.now();
      let killed = false;
      if (exitInfo === null) {
        proc.kill(signal);
        const limit = timeoutMs ?? (config.shutdown?.grace_ms ?? 5000) + 3000;
        const t = await within(exited, limit);
        if (t === null) {
          killed = true;
          proc.kill('SIGKILL');
          await within(exited, 3000);
        }
      }
      closeClientsOf(handle);
      rmSync(dir, { recursive: true, force: true });
      if (diedEarly) {
        throw new Error(`heraldd had died before stop(): ${JSON.stringify(exitInfo)}\n`
          + `--- logs ---\n${lines.slice(-60).join('\n')}`);
      }
      return { ...exitInfo, elapsedMs: Date.now() - started, killed };
    },
  };
  live.add(handle);

  let adminUrl = null;
  let tls = null;
  const tlsOnly = config.listen?.plain === false;
  const ready = await new Promise((res) => {
    const timer = setTimeout(() => res({ error: `no "listening on" line within ${START_TIMEOUT_MS} ms` }),
      START_TIMEOUT_MS);
    onLine = (line) => {
      const a = ADMIN_RE.exec(line);
      if (a) adminUrl = a[1];
      const s = TLS_RE.exec(line);
      if (s) {
        tls = { address: s[1], port: Number(s[2]) };
        if (tlsOnly) { clearTimeout(timer); res(tls); }
      }
      const m = READY_RE.exec(line);
      if (m) { clearTimeout(timer); res({ address: m[1], port: Number(m[2]) }); }
    };
    exited.then((e) => { clearTimeout(timer); res({ error: `exited before ready: ${JSON.stringify(e)}` }); });
  });
  onLine = () => {};
  if (ready.error) {
    stopping = true;
    if (exitInfo === null) { proc.kill('SIGKILL'); await within(exited, 3000); }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`heraldd (${bin}) did not start: ${ready.error}\n`
      + `--- config ---\n${JSON.stringify(config)}\n--- logs ---\n${lines.slice(-60).join('\n')}`);
  }
  handle.address = ready.address;
  handle.port = ready.port;
  handle.url = `${tlsOnly ? 'https' : 'http'}://${ready.address}:${ready.port}`;
  handle.wsUrl = `${tlsOnly ? 'wss' : 'ws'}://${ready.address}:${ready.port}/ws`;
  /** The TLS listener (docs/tls.md): https:// and wss:// URLs, or null. */
  handle.tlsPort = tls?.port ?? null;
  handle.tlsUrl = tls ? `https://${tls.address}:${tls.port}` : null;
  handle.tlsWsUrl = tls ? `wss://${tls.address}:${tls.port}/ws` : null;
  /** The admin listener's URL (docs/console.md), or null when it is off. */
  handle.adminUrl = adminUrl;
  return handle;
}

// Clients opened against a node, so that stop() can tidy up after them.
const clientsByNode = new WeakMap();
export function trackClient(node, client) {
  if (!clientsByNode.has(node)) clientsByNode.set(node, new Set());
  clientsByNode.get(node).add(client);
}
function closeClientsOf(node) {
  for (const c of clientsByNode.get(node) ?? []) c.terminate();
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** `promise`, or `fallback` after `ms`; the timer is cleared either way so
 * that it never keeps the test process alive. */
export function within(promise, ms, fallback = null) {
  let timer;
  return Promise.race([
    promise,
    new Promise((r) => { timer = setTimeout(() => r(fallback), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Polls `fn` until it returns a truthy value; bounded. */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await sleep(intervalMs);
  }
}
