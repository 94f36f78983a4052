// Clients for GET /api/events/stream (PROTOCOL §5): the `eventsource`
// package (a WHATWG EventSource over fetch) and a raw HTTP reader for what
// EventSource hides (comments, exact bytes, headers).

import http from 'node:http';
import { EventSource } from 'eventsource';
import { sleep, within } from './node.mjs';
import { publishOk } from './http.mjs';

export const STREAM_PATH = '/api/events/stream';

/**
 * The stream's path with its query: token (sent as ?token=), patterns
 * (repeated ?pattern=), lastEventId (?last_event_id=), query (more pairs).
 */
export function streamPath({ token, patterns = [], lastEventId, query = {} } = {}) {
  const q = new URLSearchParams();
  if (token != null) q.set('token', token);
  for (const p of patterns) q.append('pattern', p);
  if (lastEventId != null) q.set('last_event_id', lastEventId);
  for (const [k, v] of Object.entries(query)) q.append(k, v);
  const s = q.toString();
  return `${STREAM_PATH}${s ? `?${s}` : ''}`;
}

// Every SSE client still open, so that a failed test does not leave a
// stream (and a reconnect timer) keeping the process alive.
const open = new Set();
export function closeAllSse() {
  for (const c of [...open]) c.close();
}

/**
 * An EventSource on a node's stream. Every message is recorded in
 * `messages` as {type, id (lastEventId), data (text), json, at}; named
 * `herald.recovery` events too (type 'herald.recovery').
 */
export class SseClient {
  constructor() {
    this.messages = [];
    this.errors = [];
    this.requests = []; // {headers} of every fetch EventSource made
    this.opens = 0;
    this.es = null;
    this.cutters = new Set();
  }

  record(type, ev) {
    let json;
    try { json = JSON.parse(ev.data); } catch { json = undefined; }
    this.messages.push({ type, id: ev.lastEventId, data: ev.data, json, at: Date.now() });
  }

  /** Recorded messages (default: plain `message` events) matching `pred`. */
  list(pred = () => true, type = 'message') {
    return this.messages.filter((m) => (type === null || m.type === type) && pred(m));
  }

  /** Waits (bounded) until `n` messages match `pred`; returns the first n. */
  async take(pred, n, timeoutMs = 3000, what = `${n} message(s)`, type = 'message') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.list(pred, type);
      if (got.length >= n) return got.slice(0, n);
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: got ${got.length}/${n}; `
          + `last recorded: ${JSON.stringify(this.messages.slice(-3).map((m) => m.data)).slice(0, 600)}; `
          + `errors: ${JSON.stringify(this.errors)}`);
      }
      await sleep(15);
    }
  }

  /** Messages whose JSON payload has `run` === run. */
  ofRun(run) {
    return this.list((m) => m.json?.payload?.run === run);
  }

  /** Ends the current response as if the network had dropped it: the
   * EventSource sees the stream end and reconnects by itself. */
  cut() {
    for (const c of [...this.cutters]) c();
  }

  close() {
    try { this.es?.close(); } catch { /* closed */ }
    for (const c of [...this.cutters]) c();
    open.delete(this);
  }
}

// A Response whose body can be ended by the test (SseClient.cut).
function cuttable(client, res) {
  if (!res.body) return res;
  const reader = res.body.getReader();
  let done = false;
  let ctl;
  const cutter = () => {
    if (done) return;
    done = true;
    client.cutters.delete(cutter);
    try { ctl.close(); } catch { /* closed */ }
    reader.cancel().catch(() => {});
  };
  client.cutters.add(cutter);
  const body = new ReadableStream({
    start(c) { ctl = c; },
    async pull(c) {
      if (done) return;
      try {
        const r = await reader.read();
        if (done) return;
        if (r.done) { done = true; client.cutters.delete(cutter); c.close(); return; }
        c.enqueue(r.value);
      } catch (e) {
        if (!done) { done = true; client.cutters.delete(cutter); c.error(e); }
      }
    },
    cancel() { cutter(); },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * Opens an EventSource and resolves the SseClient once it is open; rejects
 * (err.code = HTTP status when known) when the first attempt fails.
 * opts: via 'header' (default: Authorization: Bearer) or 'query' (?token=);
 * patterns; lastEventId (sent as the Last-Event-ID header on the first
 * request); lastEventIdQuery (?last_event_id=); beforeReconnect (async fn
 * awaited before each reconnect attempt); timeoutMs.
 */
export function openSse(node, token, opts = {}) {
  const via = opts.via ?? 'header';
  const client = new SseClient();
  const url = node.url + streamPath({
    token: via === 'query' ? token : undefined,
    patterns: opts.patterns,
    lastEventId: opts.lastEventIdQuery,
  });
  let attempts = 0;
  const fetchImpl = async (input, init) => {
    attempts += 1;
    const headers = { ...(init?.headers ?? {}) };
    if (token != null && via === 'header') headers.Authorization = `Bearer ${token}`;
    if (attempts === 1 && opts.lastEventId != null) headers['Last-Event-ID'] = opts.lastEventId;
    if (attempts > 1 && opts.beforeReconnect) await opts.beforeReconnect(attempts);
    client.requests.push({ headers, at: Date.now() });
    const res = await fetch(input, { ...init, headers });
    return res.status === 200 ? cuttable(client, res) : res;
  };
  const es = new EventSource(url, { fetch: fetchImpl });
  client.es = es;
  open.add(client);
  es.addEventListener('message', (ev) => client.record('message', ev));
  es.addEventListener('herald.recovery', (ev) => client.record('herald.recovery', ev));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      client.close();
      reject(new Error(`EventSource did not open within ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5000);
    es.addEventListener('open', () => {
      client.opens += 1;
      if (!settled) { settled = true; clearTimeout(timer); resolve(client); }
    });
    es.addEventListener('error', (ev) => {
      client.errors.push({ code: ev.code, message: ev.message, at: Date.now() });
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        client.close();
        const err = new Error(`EventSource failed: ${ev.code ?? ''} ${ev.message ?? ''}`);
        err.code = ev.code;
        reject(err);
      }
    });
  });
}

let probes = 0;
/**
 * Waits until `client` is really live: publishes a broadcast probe
 * (`eventType`, tenant `tenant`, data {probe}) every 100 ms until one
 * arrives (bounded). The node answers the stream's head before the
 * connection is registered for deliveries, so an event published right
 * after `open` can be missed (see the test "an event published as soon as
 * the stream is open arrives"); suites testing something else settle first.
 */
export async function settle(node, client, { tenant, eventType = 'zz.probe', timeoutMs = 3000 } = {}) {
  const probe = `probe-${process.pid}-${++probes}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await publishOk(node, { event_type: eventType, broadcast: true, audience: { tenant_id: tenant }, data: { probe } });
    const until = Date.now() + 100;
    while (Date.now() < until) {
      if (client.list((m) => m.json?.payload?.probe === probe).length > 0) return client;
      await sleep(10);
    }
    if (Date.now() > deadline) throw new Error(`no probe (${eventType} for tenant ${tenant}) arrived within ${timeoutMs} ms`);
  }
}

/**
 * A raw GET of the stream with node:http (no EventSource): resolves once
 * the response head is in. Returns {status, headers, rawHeaders, text()
 * (the body so far, de-chunked), waitFor(pred, timeoutMs), frames() (the
 * body split into SSE blocks), close(), ended}.
 */
export function rawStream(node, path, headers = {}, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({
      host: node.address, port: node.port, path, headers, agent: false,
    });
    const timer = setTimeout(() => { req.destroy(new Error(`no response head within ${timeoutMs} ms`)); }, timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      clearTimeout(timer);
      let body = '';
      let endedFlag = false;
      const ended = new Promise((r) => {
        res.on('end', () => { endedFlag = true; r(true); });
        res.on('close', () => { endedFlag = true; r(true); });
        res.on('error', () => { endedFlag = true; r(true); });
      });
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      const handle = {
        status: res.statusCode,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        text: () => body,
        ended,
        get isEnded() { return endedFlag; },
        /** SSE blocks (separated by a blank line) complete so far. */
        frames: () => {
          const parts = body.split('\n\n');
          parts.pop(); // incomplete (or empty) tail
          return parts;
        },
        async waitFor(pred, ms = 3000, what = 'stream content') {
          const deadline = Date.now() + ms;
          for (;;) {
            const v = pred(body);
            if (v) return v;
            if (endedFlag) throw new Error(`stream ended while waiting for ${what}; body: ${body.slice(-400)}`);
            if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; body: ${body.slice(-400)}`);
            await sleep(10);
          }
        },
        async close() {
          req.destroy();
          res.destroy();
          await within(ended, 1000);
        },
      };
      resolve(handle);
    });
  });
}

/** Parses SSE blocks into {id, event, data, comments}. */
export function parseBlock(block) {
  const out = { comments: [], dataLines: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) out.comments.push(line.slice(1));
    else {
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') out.dataLines.push(value);
      else out[field] = value;
    }
  }
  out.data = out.dataLines.length ? out.dataLines.join('\n') : undefined;
  return out;
}
