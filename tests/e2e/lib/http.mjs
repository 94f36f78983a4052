// The publish API (PROTOCOL §6) and the operations endpoints (§8).

import { API_KEY } from './node.mjs';

async function request(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

function authHeaders(apiKey, headers) {
  return {
    'content-type': 'application/json',
    ...(apiKey === null ? {} : { authorization: `Bearer ${apiKey}` }),
    ...(headers ?? {}),
  };
}

/**
 * POST /api/v1/publish. `body` is JSON-encoded unless a string/Buffer.
 * opts: apiKey (null: none), headers. Returns {status, json, text, headers}.
 */
export function publish(node, body, opts = {}) {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return request(`${node.url}/api/v1/publish`, {
    method: 'POST', headers: authHeaders(opts.apiKey === undefined ? API_KEY : opts.apiKey, opts.headers), body: data,
  });
}

/** POST /api/v1/publish/batch with {"events": events} (or a raw body). */
export function publishBatch(node, events, opts = {}) {
  const data = typeof events === 'string' ? events : JSON.stringify({ events });
  return request(`${node.url}/api/v1/publish/batch`, {
    method: 'POST', headers: authHeaders(opts.apiKey === undefined ? API_KEY : opts.apiKey, opts.headers), body: data,
  });
}

/** Publishes `events` in batches of `chunk`, asserting every one was accepted. */
export async function publishMany(node, events, chunk = 500) {
  for (let i = 0; i < events.length; i += chunk) {
    const r = await publishBatch(node, events.slice(i, i + chunk));
    if (r.status !== 200 || !r.json?.results) {
      throw new Error(`batch at ${i}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    }
    const bad = r.json.results.find((x) => x.status !== 202);
    if (bad) throw new Error(`batch at ${i}: an event was refused: ${JSON.stringify(bad)}`);
  }
}

/** Publishes one event and insists on 202. */
export async function publishOk(node, body) {
  const r = await publish(node, body);
  if (r.status !== 202) throw new Error(`publish refused: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

export function get(node, path, init = {}) {
  return request(`${node.url}${path}`, init);
}

/**
 * GET /metrics parsed: {name: value} for unlabelled samples, and
 * `name{labels}` keys for labelled ones, plus a sum per base name under
 * `name` when only labelled samples exist.
 */
export async function metrics(node) {
  const r = await get(node, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return parseMetrics(r.text);
}

export function parseMetrics(text) {
  const out = {};
  const sums = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (m[2]) {
      out[m[1] + m[2]] = v;
      sums[m[1]] = (sums[m[1]] ?? 0) + v;
    } else out[m[1]] = v;
  }
  for (const [k, v] of Object.entries(sums)) if (!(k in out)) out[k] = v;
  return out;
}
