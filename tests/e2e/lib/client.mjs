// A WebSocket client for /ws with a message queue and bounded waits.

import WebSocket from 'ws';
import { trackClient, within } from './node.mjs';

let nextId = 1;
export const isEvent = (m) => m && m.type === undefined && typeof m.event_type === 'string';

/**
 * Opens a connection. `token` goes as `Authorization: Bearer` (via:'header',
 * default) or `?token=` (via:'query'); null sends none. Resolves a Client
 * once open; rejects with err.statusCode set when the upgrade is refused.
 * opts: via, autoPong (default true), headers, timeoutMs, path, url,
 * wsOptions (more options for the ws client, e.g. {ca} for wss://).
 */
export function connect(node, token, opts = {}) {
  const via = opts.via ?? 'header';
  let url = opts.url ?? node.wsUrl;
  const headers = { ...(opts.headers ?? {}) };
  if (token != null) {
    if (via === 'query') url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    else headers.Authorization = `Bearer ${token}`;
  }
  const ws = new WebSocket(url, {
    headers,
    autoPong: opts.autoPong ?? true,
    handshakeTimeout: opts.timeoutMs ?? 5000,
    maxPayload: 256 * 1024 * 1024,
    ...(opts.wsOptions ?? {}),
  });
  const client = new Client(ws);
  trackClient(node, client);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('connect timed out')); },
      (opts.timeoutMs ?? 5000) + 1000);
    ws.once('open', () => { clearTimeout(timer); resolve(client); });
    ws.once('unexpected-response', (req, res) => {
      clearTimeout(timer);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      const done = () => {
        const err = new Error(`upgrade refused: HTTP ${res.statusCode}`);
        err.statusCode = res.statusCode;
        err.body = body;
        err.headers = res.headers;
        req.destroy();
        reject(err);
      };
      let finished = false;
      const once = () => { if (!finished) { finished = true; clearTimeout(t); done(); } };
      const t = setTimeout(once, 1000);
      res.on('end', once);
      res.on('error', once);
    });
    ws.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Resolves the HTTP status of a refused upgrade (or 101 when it opened). */
export async function upgradeStatus(node, token, opts = {}) {
  try {
    const c = await connect(node, token, opts);
    await c.close();
    return 101;
  } catch (e) {
    if (e.statusCode) return e.statusCode;
    throw e;
  }
}

export class Client {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.received = 0;
    this.pings = 0;
    this.closeInfo = null;
    this.closed = new Promise((res) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`connection closed (${code} ${reason}) while waiting for ${w.what}; `
            + `got ${w.got.length}/${w.want}`));
        }
        res(this.closeInfo);
      });
    });
    ws.on('error', (e) => { this.error = e; });
    ws.on('ping', () => { this.pings += 1; });
    ws.on('message', (data, isBinary) => {
      let msg;
      try { msg = JSON.parse(data.toString()); } catch { msg = { __raw: data.toString(), __binary: isBinary }; }
      this.received += 1;
      this.push(msg);
    });
  }

  push(msg) {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (w.pred(msg)) {
        w.got.push(msg);
        if (w.got.length >= w.want) {
          this.waiters.splice(i, 1);
          clearTimeout(w.timer);
          w.resolve(w.got);
        }
        return;
      }
    }
    this.queue.push(msg);
  }

  /** Sends an object as JSON, or a string/Buffer as it is. */
  send(frame, opts = {}) {
    const data = typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);
    this.ws.send(data, opts);
  }

  /** Takes `n` messages matching `pred`, waiting at most `timeoutMs`. */
  take(pred, n, timeoutMs = 3000, what = 'messages') {
    const got = [];
    for (let i = 0; i < this.queue.length && got.length < n;) {
      if (pred(this.queue[i])) got.push(this.queue.splice(i, 1)[0]);
      else i++;
    }
    if (got.length >= n) return Promise.resolve(got);
    if (this.closeInfo) {
      return Promise.reject(new Error(`connection closed (${this.closeInfo.code}) before ${what}; got ${got.length}/${n}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred, want: n, got, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: got ${got.length}/${n}; `
          + `unclaimed: ${JSON.stringify(this.queue.slice(-5)).slice(0, 800)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The next message matching `pred`. */
  async next(pred = () => true, timeoutMs = 3000, what = 'a message') {
    return (await this.take(pred, 1, timeoutMs, what))[0];
  }

  /** Removes and returns every queued message matching `pred`. */
  drain(pred = () => true) {
    const out = [];
    for (let i = 0; i < this.queue.length;) {
      if (pred(this.queue[i])) out.push(this.queue.splice(i, 1)[0]);
      else i++;
    }
    return out;
  }

  /** Queued messages matching `pred` (not removed). */
  peek(pred = () => true) {
    return this.queue.filter(pred);
  }

  /** Sends `frame` with a fresh `id` and returns the first ack/error/pong with it. */
  async request(frame, timeoutMs = 3000) {
    const id = frame.id ?? `r${nextId++}`;
    this.send({ ...frame, id });
    return this.next((m) => m.id === id && ['ack', 'error', 'pong'].includes(m.type), timeoutMs,
      `reply to ${JSON.stringify(frame).slice(0, 200)}`);
  }

  /** Sends `{"type":"ping"}` (no id) and returns the next pong (or an
   * error frame, e.g. RATE_LIMITED, when one comes first). */
  async ping(timeoutMs = 3000) {
    this.send({ type: 'ping' });
    return this.next((m) => m.type === 'pong' || (m.type === 'error' && m.id === undefined), timeoutMs, 'a pong');
  }

  /** Subscribes and insists on an ack listing exactly `topics`. */
  async subscribe(topics, extra = {}) {
    const list = Array.isArray(topics) ? topics : [topics];
    const reply = await this.request({ type: 'subscribe', topics: list, ...extra });
    if (reply.type !== 'ack') throw new Error(`subscribe ${JSON.stringify(list)} refused: ${JSON.stringify(reply)}`);
    return reply;
  }

  async unsubscribe(topics) {
    const list = Array.isArray(topics) ? topics : [topics];
    const reply = await this.request({ type: 'unsubscribe', topics: list });
    if (reply.type !== 'ack') throw new Error(`unsubscribe ${JSON.stringify(list)} refused: ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Events (frames with `event_type` and no `type`) matching `pred`. */
  events(n, pred = () => true, timeoutMs = 3000) {
    return this.take((m) => isEvent(m) && pred(m), n, timeoutMs, `${n} event(s)`);
  }

  /** Resolves close info within `timeoutMs`, or rejects. */
  async waitClose(timeoutMs = 3000) {
    const r = await within(this.closed, timeoutMs);
    if (!r) throw new Error(`connection still open after ${timeoutMs} ms`);
    return r;
  }

  get isOpen() {
    return this.ws.readyState === 1;
  }

  /** Closes politely, bounded; terminates when the server does not answer. */
  async close() {
    if (this.closeInfo) return this.closeInfo;
    try { this.ws.close(1000); } catch { /* not open */ }
    const r = await within(this.closed, 2000);
    if (!r) this.terminate();
    return r;
  }

  terminate() {
    try { this.ws.terminate(); } catch { /* gone */ }
  }
}
