// The soak driver (bench/README.md, "Soak"): holds one running heraldd under
// mixed load for a bounded time, samples it, and checks that it neither
// leaks nor loses events.
//
//   node bench/soak/driver.mjs --url http://127.0.0.1:P --admin http://127.0.0.1:A
//        --pid PID --secret S --api-key K [--seconds N] [--connections N]
//        [--rate N] [--out PREFIX]
//
// or, from a test: `import { runSoak } from '.../bench/soak/driver.mjs'`.
//
// Load, all at once, for `seconds`:
// - keepers: connections that stay for the whole run, subscribed to a few
//   exact topics, some also to the wildcard over the same topics (the node
//   must still deliver each event once);
// - connect churn: slots that connect, subscribe, stay 0.5..3 s, and leave
//   (unsubscribe then close, close, or drop the TCP connection);
// - subscribe churn: connections that subscribe and unsubscribe a topic
//   again and again;
// - steady publishes from lanes, each lane the only publisher of its topics
//   (so their order is defined), single and batch (a batch may carry the
//   same topic several times), at `rate` events/s, plus a broadcast lane of
//   larger events on a bulk topic that also feeds the SSE bridge;
// - SSE streams that open, stay 3..10 s and close;
// - slow consumers: a WebSocket, and now and then an SSE stream, subscribed
//   to everything, that stop reading; the node must close them (1013 /
//   stream ended) on its own.
// Every `sampleMs` it records the node's RSS and open descriptors (/proc),
// its actors by kind (admin API) and /metrics. After the load, it waits
// (bounded) for every client to be gone, samples again, and checks.
//
// The delivery check: every publish answered 202 has (topic, seq, tSend,
// tAck); every subscription that keeps up records, per connection and
// topic, the windows it was subscribed ([ack received, end]) and the seqs
// it got. Each event with tSend >= start and tAck <= end of a window must
// have arrived exactly once; what a connection got on a topic must be
// strictly increasing (in order, no duplicate). Before a subscription ends
// it waits (bounded) for the last event acknowledged by then, so `end` is
// exact and a late event is a real loss. SSE windows start at the first
// event the stream received (the node answers the stream's head before it
// is registered, docs/sse.md).

import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

async function loadWs() {
  for (const base of [join(HERE, 'package.json'), join(ROOT, 'tests/e2e/package.json')]) {
    try {
      const req = createRequire(base);
      const m = await import(pathToFileURL(req.resolve('ws')).href);
      return m.default ?? m.WebSocket;
    } catch { /* next */ }
  }
  throw new Error('the `ws` package is missing: run `npm ci` in tests/e2e (or bench/soak)');
}

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** `promise`, or `fallback` after `ms`; the timer is cleared either way, so
 * that it never keeps the process alive. */
function within(promise, ms, fallback = null) {
  let timer;
  return Promise.race([promise, new Promise((r) => { timer = setTimeout(() => r(fallback), ms); })])
    .finally(() => clearTimeout(timer));
}
const rand = (a, b) => a + Math.random() * (b - a);
const randInt = (a, b) => Math.floor(rand(a, b + 1));
const pick = (arr) => arr[Math.floor(Math.random() * arr.length)];

export function mintHs256(secret, claims) {
  const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const t = Math.floor(Date.now() / 1000);
  const input = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ iat: t, exp: t + 7200, ...claims })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Defaults of the CLI (bench/soak.sh); the test passes smaller ones. */
export const DEFAULTS = {
  seconds: 180,
  connections: 120, // WebSocket clients open at a time (keepers + churn + subscribe churn)
  rate: 200, // events/s over the publish lanes (single and batch)
  lanes: 4,
  topics: 16,
  batchShare: 0.3, // share of lane requests that are batches
  bulkRate: 40, // events/s on the broadcast lane (bulk topic, SSE)
  bulkBytes: 3000, // payload of a bulk event (under the SSE 4096-byte frame)
  fatRate: 10, // events/s of fatBytes on a topic only stalled clients and one keeper hold
  fatBytes: 16000, // (singles only: one such event is a keeper's largest burst)
  smallBytes: 200,
  sseStreams: 4, // keeping-up SSE streams open at a time
  slowWsEveryMs: 20_000, // a new stalled WebSocket this long after the last one was closed
  slowSseEveryMs: 45_000,
  slowMaxStallMs: 90_000, // a stalled client not closed by then is a failure
  sseLingerProbeMs: 2_000, // after an SSE slow close is counted: is its actor gone while unread?
  sampleMs: 5_000,
  warmupShare: 0.2, // the "after warm-up" RSS figure: first sample past this share
  settleMs: 15_000, // bound on waiting for clients to be gone at the end
  fdTolerance: 4,
  rssSlopeMaxKiBPerMin: 1024, // second-half RSS slope bound
  rssSecondHalfMaxKiB: 64 * 1024, // second-half RSS growth bound
};

function httpJson(url, { method = 'GET', headers = {}, body, agent = false, timeoutMs = 10_000 } = {}) {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent,
      headers: { ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        ...(agent === false ? { connection: 'close' } : {}), ...headers },
    }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { text += d; });
      r.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        res({ status: r.statusCode, text, json });
      });
      r.on('error', rej);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${u.pathname}: no answer in ${timeoutMs} ms`)));
    req.on('error', rej);
    if (body) req.write(body);
    req.end();
  });
}

function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out[m[1] + (m[2] ?? '')] = Number(m[3]);
  }
  return out;
}

function procFigures(pid) {
  let rssKiB = null;
  let fds = null;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    rssKiB = m ? Number(m[1]) : null;
  } catch { /* gone */ }
  try { fds = readdirSync(`/proc/${pid}/fd`).length; } catch { /* gone */ }
  return { rssKiB, fds };
}

/** Least-squares slope of y over t (ms), per minute. */
function slopePerMin(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) { num += (t - mt) * (y - my); den += (t - mt) ** 2; }
  return den === 0 ? 0 : (num / den) * 60_000;
}

export async function runSoak(options) {
  const o = { ...DEFAULTS, ...options };
  for (const k of ['url', 'adminUrl', 'pid', 'secret', 'apiKey']) {
    if (o[k] === undefined || o[k] === null) throw new Error(`runSoak: ${k} is required`);
  }
  const log = o.log ?? ((s) => process.stderr.write(`soak: ${s}\n`));
  const WebSocket = await loadWs();
  const run = randomUUID().slice(0, 8);
  const wsUrl = `${o.url.replace(/^http/, 'ws')}/ws`;
  const adminToken = mintHs256(o.secret, { sub: 'soak-admin', roles: ['admin'] });
  const TENANT = 'soak';
  const claims = (sub) => ({ sub, customer_id: 'soak', roles: ['admin'], tenant_id: TENANT });
  const topics = Array.from({ length: o.topics }, (_, i) => `customer_id:soak:call:t${i}`);
  const WILD = 'customer_id:soak:call:*';
  const BULK = 'customer_id:soak:message:bulk';
  const FAT = 'customer_id:soak:message:fat';
  const BULK_WILD = 'customer_id:soak:message:*';
  const allTopics = [...topics, BULK, FAT];
  const t0 = now();
  const rel = (t) => Math.round(t - t0);

  // ---- the node's figures -------------------------------------------------
  const admin = async (path) => {
    const r = await httpJson(`${o.adminUrl}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
    if (r.status !== 200) throw new Error(`admin ${path}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    return r.json;
  };
  const KEEP = ['herald_connections', 'herald_sse_connections', 'herald_tcp_connections',
    'herald_subscriptions', 'herald_topics', 'herald_connections_total', 'herald_publishes_total',
    'herald_deliveries_total', 'herald_drops_total', 'herald_slow_consumer_closes_total',
    'herald_publish_shed_total', 'herald_publish_rejected_total', 'herald_rate_limited_total',
    'herald_rate_limit_closes_total', 'herald_publish_queue', 'herald_history_events',
    'herald_history_bytes', 'herald_frame_errors_total', 'herald_auth_failures_total',
    'herald_sse_skipped_total', 'herald_sse_truncated_total', 'herald_audience_filtered_total'];
  async function sample(phase) {
    const s = { t: rel(now()), phase, ...procFigures(o.pid) };
    try {
      const n = await admin('/admin/v1/node');
      s.actors = n.actors;
      s.connections = n.connections;
      s.topics = n.topics;
    } catch (e) { s.adminError = String(e.message ?? e); }
    try {
      const r = await httpJson(`${o.url}/metrics`);
      const m = parseMetrics(r.text);
      s.metrics = Object.fromEntries(KEEP.filter((k) => k in m).map((k) => [k, m[k]]));
    } catch (e) { s.metricsError = String(e.message ?? e); }
    return s;
  }
  const samples = [];
  const baseline = await sample('baseline');
  samples.push(baseline);
  if (baseline.rssKiB === null) throw new Error(`no /proc/${o.pid}: is the node's pid right?`);
  log(`baseline: rss ${baseline.rssKiB} KiB, fds ${baseline.fds}, actors ${JSON.stringify(baseline.actors)}`);

  // ---- publishers -----------------------------------------------------------
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.lanes + 1 });
  const events = new Map(allTopics.map((t) => [t, []])); // topic -> [{seq, tSend, tAck}] accepted
  const seqOf = new Map(allTopics.map((t) => [t, 0]));
  const lastAcked = new Map(); // topic -> {seq, tAck}
  const pub = { requests: 0, singles: 0, batches: 0, accepted: 0, refused: {}, errors: 0, lastError: null };
  let stopping = false;
  const refuse = (k) => { pub.refused[k] = (pub.refused[k] ?? 0) + 1; };

  function mkEvent(topic, bytes, extra = {}) {
    const seq = seqOf.get(topic) + 1;
    seqOf.set(topic, seq);
    return { seq, body: { id: `${run}-${topic.split(':').pop()}-${seq}`, topic,
      event_type: topic === BULK ? 'soak.bulk' : topic === FAT ? 'soak.fat' : 'call.soak',
      data: { run, seq, pad: 'x'.repeat(bytes) }, ...extra } };
  }
  function accept(topic, seq, tSend, tAck) {
    events.get(topic).push({ seq, tSend, tAck });
    lastAcked.set(topic, { seq, tAck });
    pub.accepted += 1;
  }
  async function sendEvents(list, tSendHolder) {
    const batch = list.length > 1;
    const path = batch ? '/api/v1/publish/batch' : '/api/v1/publish';
    const body = JSON.stringify(batch ? { events: list.map((e) => e.body) } : list[0].body);
    const tSend = now();
    tSendHolder.t = tSend;
    pub.requests += 1;
    if (batch) pub.batches += 1; else pub.singles += 1;
    let r;
    try {
      r = await httpJson(`${o.url}${path}`, { method: 'POST', body, agent,
        headers: { authorization: `Bearer ${o.apiKey}` } });
    } catch (e) {
      pub.errors += 1;
      pub.lastError = String(e.message ?? e);
      await sleep(200);
      return;
    }
    const tAck = now();
    if (!batch) {
      if (r.status === 202) accept(list[0].body.topic, list[0].seq, tSend, tAck);
      else refuse(String(r.status));
      return;
    }
    if (r.status !== 200 || !Array.isArray(r.json?.results)) { refuse(`batch-${r.status}`); return; }
    r.json.results.forEach((x, i) => {
      if (x.status === 202) accept(list[i].body.topic, list[i].seq, tSend, tAck);
      else refuse(String(x.status));
    });
  }
  async function lane(myTopics, perSec, bytes, batchShare, extra) {
    let next = now();
    while (!stopping) {
      const batch = Math.random() < batchShare;
      const list = [];
      const n = batch ? randInt(2, 8) : 1;
      for (let i = 0; i < n; i++) list.push(mkEvent(pick(myTopics), bytes, extra));
      await sendEvents(list, {});
      next += (n / perSec) * 1000;
      const wait = next - now();
      if (wait > 0) await sleep(wait);
      else if (wait < -2000) next = now(); // fell behind: do not burst to catch up
    }
  }

  // ---- subscription records ---------------------------------------------------
  const recs = []; // {kind, conn, topic, intervals: [[start,end]], got: [], keeping: bool}
  let connSeq = 0;
  const counts = { wsOpened: 0, wsFailed: 0, wsClosedByNode: {}, churnCycles: 0, subCycles: 0,
    sseOpened: 0, sseFailed: 0, sseEndedByNode: 0, errorsFromNode: {} };

  function openWs(sub, { autoRecord = true } = {}) {
    return new Promise((res, rej) => {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${mintHs256(o.secret, claims(sub))}` },
        handshakeTimeout: 5000, maxPayload: 64 * 1024 * 1024 });
      const c = { ws, id: ++connSeq, sub, recs: new Map(), waiters: new Map(), reqs: 0, closeInfo: null, leaving: false };
      c.closed = new Promise((r) => ws.on('close', (code, reason) => {
        c.closeInfo = { code, reason: reason.toString(), at: now() };
        for (const w of c.waiters.values()) w.rej(new Error(`closed ${code}`));
        c.waiters.clear();
        if (!c.leaving && !c.isSlow) counts.wsClosedByNode[code] = (counts.wsClosedByNode[code] ?? 0) + 1;
        r(c.closeInfo);
      }));
      ws.on('error', () => {});
      ws.on('message', (data) => {
        let m;
        try { m = JSON.parse(data.toString()); } catch { return; }
        if (m.type === undefined && m.data?.run === run) {
          if (autoRecord) {
            const rec = c.recs.get(m.topic) ?? newRec(c, m.topic, 'unsolicited');
            rec.got.push(m.data.seq);
          }
          return;
        }
        if (m.type === 'error') counts.errorsFromNode[m.code] = (counts.errorsFromNode[m.code] ?? 0) + 1;
        if ((m.type === 'ack' || m.type === 'error') && m.id && c.waiters.has(m.id)) {
          const w = c.waiters.get(m.id);
          c.waiters.delete(m.id);
          w.res(m);
        }
      });
      const timer = setTimeout(() => { ws.terminate(); rej(new Error('connect timed out')); }, 7000);
      ws.once('open', () => { clearTimeout(timer); counts.wsOpened += 1; res(c); });
      ws.once('unexpected-response', (_q, r) => { clearTimeout(timer); ws.terminate(); rej(new Error(`upgrade refused ${r.statusCode}`)); });
      ws.once('error', (e) => { clearTimeout(timer); rej(e); });
    });
  }
  function newRec(c, topic, kind) {
    const rec = { kind, conn: c.id, topic, intervals: [], got: [], keeping: kind !== 'slow' && kind !== 'unsolicited' };
    c.recs.set(topic, rec);
    recs.push(rec);
    return rec;
  }
  function request(c, type, patterns, timeoutMs = 5000) {
    const id = `r${++c.reqs}`;
    return new Promise((res, rej) => {
      const timer = setTimeout(() => { c.waiters.delete(id); rej(new Error(`${type}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
      c.waiters.set(id, { res: (m) => { clearTimeout(timer); res(m); }, rej: (e) => { clearTimeout(timer); rej(e); } });
      try { c.ws.send(JSON.stringify({ type, topics: patterns, id })); } catch (e) { clearTimeout(timer); c.waiters.delete(id); rej(e); }
    });
  }
  // Subscribes `patterns`; opens a window on every topic they cover.
  async function subscribe(c, patterns, kind) {
    const ack = await request(c, 'subscribe', patterns);
    if (ack.type !== 'ack') throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
    const t = now();
    const covered = new Set();
    for (const p of patterns) {
      if (p === WILD) topics.forEach((x) => covered.add(x));
      else if (p === BULK_WILD) { covered.add(BULK); covered.add(FAT); }
      else covered.add(p);
    }
    for (const topic of covered) {
      const rec = c.recs.get(topic) ?? newRec(c, topic, kind);
      if (rec.kind === 'unsolicited') { rec.kind = kind; rec.keeping = kind !== 'slow'; }
      rec.intervals.push([t, Infinity]);
    }
    return [...covered];
  }
  // Waits (bounded) until each rec has the last event acknowledged now,
  // then closes their windows at that instant.
  async function closeWindows(c, topicList, boundMs = 3000) {
    const tEnd = now();
    const want = topicList.map((t) => [c.recs.get(t), lastAcked.get(t)?.seq ?? 0]);
    const deadline = now() + boundMs;
    while (now() < deadline && !c.closeInfo
      && want.some(([rec, seq]) => seq > 0 && !rec.got.includes(seq) && (rec.got.at(-1) ?? 0) < seq)) {
      await sleep(20);
    }
    for (const [rec] of want) {
      const iv = rec.intervals.at(-1);
      if (iv && iv[1] === Infinity) iv[1] = c.closeInfo ? Math.min(tEnd, c.closeInfo.at) : tEnd;
    }
  }
  async function leave(c, how) {
    c.leaving = true;
    if (how === 'terminate') c.ws.terminate();
    else c.ws.close(1000);
    const t = setTimeout(() => c.ws.terminate(), 3000);
    await c.closed;
    clearTimeout(t);
  }

  // ---- the clients --------------------------------------------------------------
  const nKeepers = Math.max(2, Math.round(o.connections * 0.25));
  const nSubChurn = Math.max(1, Math.round(o.connections * 0.15));
  const nChurn = Math.max(1, o.connections - nKeepers - nSubChurn);
  const keepers = [];
  for (let i = 0; i < nKeepers; i++) {
    const c = await openWs(`keeper-${i}x`);
    const pats = [];
    for (let j = 0; j < 3; j++) pats.push(topics[(i * 3 + j) % topics.length]);
    if (i % 3 === 0) pats.push(WILD);
    if (i % 5 === 1) pats.push(BULK);
    if (i % 7 === 2) pats.push(FAT);
    c.covered = await subscribe(c, [...new Set(pats)], 'keeper');
    keepers.push(c);
  }
  log(`${nKeepers} keepers subscribed; ${nChurn} connect-churn slots, ${nSubChurn} subscribe-churn connections, `
    + `${o.sseStreams} SSE streams, ${o.lanes} lanes at ${o.rate} ev/s + bulk ${o.bulkRate} ev/s`);

  async function churnSlot(i) {
    let n = 0;
    while (!stopping) {
      let c;
      try {
        c = await openWs(`churn-${i}-${n++}x`);
        counts.churnCycles += 1;
        const pats = [...new Set([pick(topics), ...(Math.random() < 0.5 ? [pick(topics)] : [])])];
        const covered = await subscribe(c, pats, 'churn');
        await sleep(rand(500, 3000));
        const mode = Math.random();
        await closeWindows(c, covered);
        if (mode < 0.3 && !c.closeInfo) {
          await request(c, 'unsubscribe', pats).catch(() => {});
          await leave(c, 'close');
        } else await leave(c, mode < 0.8 ? 'close' : 'terminate');
      } catch (e) {
        counts.wsFailed += 1;
        if (c) { c.leaving = true; c.ws.terminate(); }
        await sleep(300);
      }
      await sleep(rand(100, 500));
    }
  }
  async function subChurn(i) {
    let c;
    try { c = await openWs(`subchurn-${i}x`); } catch { counts.wsFailed += 1; return; }
    while (!stopping && !c.closeInfo) {
      const t = pick(topics);
      try {
        await subscribe(c, [t], 'subchurn');
        counts.subCycles += 1;
        await sleep(rand(300, 1500));
        await closeWindows(c, [t]);
        await request(c, 'unsubscribe', [t]);
        await sleep(rand(50, 300));
      } catch { await sleep(300); }
    }
    if (!c.closeInfo) await leave(c, 'close');
  }

  // SSE: a raw HTTP reader (no reconnect), broadcast events of the bulk lane.
  const sseRecs = [];
  function openSse(sub) {
    return new Promise((res, rej) => {
      const u = new URL(`${o.url}/api/events/stream`);
      const s = { sub, rec: null, ended: false, endedAt: null, leaving: false, buf: '' };
      const req = http.get({ host: u.hostname, port: u.port, path: u.pathname, agent: false,
        headers: { authorization: `Bearer ${mintHs256(o.secret, claims(sub))}` } });
      s.req = req;
      const timer = setTimeout(() => { req.destroy(new Error('no SSE head in 5 s')); }, 5000);
      req.on('error', (e) => { clearTimeout(timer); s.ended = true; rej(e); });
      req.on('response', (r) => {
        clearTimeout(timer);
        if (r.statusCode !== 200) { r.resume(); rej(new Error(`SSE HTTP ${r.statusCode}`)); return; }
        s.res = r;
        s.done = new Promise((d) => {
          const fin = () => {
            if (!s.ended) { s.ended = true; s.endedAt = now(); if (!s.leaving && !s.isSlow) counts.sseEndedByNode += 1; }
            d();
          };
          r.on('end', fin); r.on('close', fin); r.on('error', fin);
        });
        r.setEncoding('utf8');
        r.on('data', (d) => {
          s.buf += d;
          let i;
          while ((i = s.buf.indexOf('\n\n')) >= 0) {
            const block = s.buf.slice(0, i);
            s.buf = s.buf.slice(i + 2);
            const line = block.split('\n').find((l) => l.startsWith('data:'));
            if (!line) continue;
            let j;
            try { j = JSON.parse(line.slice(5)); } catch { continue; }
            if (j.payload?.run !== run || !s.rec) continue;
            if (s.rec.got.length === 0 && s.rec.kind === 'sse') s.rec.intervals.push([now(), Infinity]);
            s.rec.got.push(j.payload.seq);
          }
        });
        counts.sseOpened += 1;
        res(s);
      });
    });
  }
  async function closeSse(s) {
    s.leaving = true;
    s.req.destroy();
    s.res?.destroy();
    await within(s.done, 2000);
  }
  async function sseSlot(i) {
    let n = 0;
    while (!stopping) {
      let s;
      try {
        s = await openSse(`sse-${i}-${n++}x`);
        s.rec = { kind: 'sse', conn: `sse-${i}-${n}`, topic: BULK, intervals: [], got: [], keeping: true };
        recs.push(s.rec);
        sseRecs.push(s.rec);
        const until = now() + rand(3000, 10_000);
        while (!stopping && now() < until && !s.ended) await sleep(100);
        // end the window at the last acknowledged event, once it is in
        const tEnd = now();
        const want = lastAcked.get(BULK)?.seq ?? 0;
        const deadline = now() + 3000;
        while (now() < deadline && !s.ended && s.rec.got.length > 0 && (s.rec.got.at(-1) ?? 0) < want) await sleep(20);
        const iv = s.rec.intervals.at(-1);
        if (iv) iv[1] = s.ended ? Math.min(tEnd, s.endedAt) : tEnd;
        await closeSse(s);
      } catch {
        counts.sseFailed += 1;
        if (s) await closeSse(s);
        await sleep(300);
      }
      await sleep(rand(100, 500));
    }
  }

  // Slow consumers: stop reading; the node must close them by itself.
  const slow = []; // {kind, sub, stalledMs, closedBy, code}
  // One stalled client at a time, so that a rise of
  // herald_slow_consumer_closes_total is that client's.
  let stallLock = Promise.resolve();
  const withStall = (fn) => { const p = stallLock.then(fn); stallLock = p.catch(() => {}); return p; };
  const slowCloses = async () => parseMetrics((await httpJson(`${o.url}/metrics`)).text).herald_slow_consumer_closes_total ?? 0;
  async function gone(name) {
    const j = await admin(`/admin/v1/actors?kind=connection&name=${encodeURIComponent(name)}&limit=1`);
    return j.total === 0;
  }
  async function slowWsLoop() {
    let n = 0;
    await sleep(2000);
    while (!stopping) {
      const sub = `slow-${n++}x`;
      const entry = { kind: 'ws', sub, startedAt: rel(now()) };
      slow.push(entry);
      let c;
      await withStall(async () => {
        try {
          c = await openWs(sub);
          c.isSlow = true;
          await subscribe(c, [WILD, BULK_WILD], 'slow');
          for (const rec of c.recs.values()) rec.keeping = false;
          c.ws._socket.pause();
          const base = await slowCloses();
          const t1 = now();
          let counted = false;
          while (!stopping && now() - t1 < o.slowMaxStallMs && !counted) {
            await sleep(250);
            counted = (await slowCloses().catch(() => base)) > base;
          }
          entry.stalledMs = Math.round(now() - t1);
          entry.counted = counted;
          // Read again at once: the node's close frame (1013) follows what
          // was queued, and the node waits ws.close_timeout_ms for it to be
          // read (the connection's actor lives until then).
          c.ws._socket.resume();
          const ci = await within(c.closed, counted ? 10_000 : 2000);
          if (ci && counted) {
            entry.code = ci.code;
            entry.closedBy = 'node';
            const t2 = now();
            while (now() - t2 < 8000 && !(await gone(sub).catch(() => false))) await sleep(250);
            entry.actorGoneMs = Math.round(now() - t2);
          } else {
            entry.closedBy = stopping ? 'run ended first' : ci ? `closed ${ci.code} uncounted` : 'not closed';
            c.leaving = true;
            c.ws.terminate();
          }
        } catch (e) {
          entry.closedBy = `error: ${e.message ?? e}`;
          if (c) { c.leaving = true; c.ws.terminate(); }
        }
      });
      const until = now() + o.slowWsEveryMs;
      while (!stopping && now() < until) await sleep(200);
    }
  }
  async function slowSseLoop() {
    let n = 0;
    await sleep(5000);
    while (!stopping) {
      const sub = `sslow-${n++}x`;
      const entry = { kind: 'sse', sub, startedAt: rel(now()) };
      slow.push(entry);
      let s;
      await withStall(async () => {
        try {
          s = await openSse(sub);
          s.isSlow = true;
          s.rec = { kind: 'slow', conn: sub, topic: BULK, intervals: [], got: [], keeping: false };
          recs.push(s.rec);
          s.res.pause();
          const base = await slowCloses();
          const t1 = now();
          let counted = false;
          while (!stopping && now() - t1 < o.slowMaxStallMs && !counted) {
            await sleep(250);
            counted = (await slowCloses().catch(() => base)) > base;
          }
          entry.stalledMs = Math.round(now() - t1);
          entry.counted = counted;
          // The node counted it; is its actor gone while the client still
          // does not read? (docs/sse.md: the stream is ended.)
          if (counted) {
            await sleep(o.sseLingerProbeMs);
            entry.actorGoneBeforeRead = await gone(sub).catch(() => null);
          }
          const t2 = now();
          s.res.resume();
          await within(s.done, counted ? 10_000 : 2000);
          entry.endedAfterReadMs = s.ended ? Math.round(s.endedAt - t2) : null;
          if (s.ended && counted) entry.closedBy = 'node';
          else { entry.closedBy = stopping ? 'run ended first' : 'not closed'; await closeSse(s); }
        } catch (e) {
          entry.closedBy = `error: ${e.message ?? e}`;
          if (s) await closeSse(s);
        }
      });
      const until = now() + o.slowSseEveryMs;
      while (!stopping && now() < until) await sleep(200);
    }
  }

  // ---- run ----------------------------------------------------------------------
  const loops = [];
  const perLane = Math.ceil(topics.length / o.lanes);
  for (let l = 0; l < o.lanes; l++) {
    const mine = topics.slice(l * perLane, (l + 1) * perLane);
    if (mine.length) loops.push(lane(mine, o.rate / o.lanes, o.smallBytes, o.batchShare, {}));
  }
  loops.push(lane([BULK], o.bulkRate, o.bulkBytes, o.batchShare,
    { broadcast: true, audience: { tenant_id: TENANT } }));
  if (o.fatRate > 0) loops.push(lane([FAT], o.fatRate, o.fatBytes, 0, {}));
  for (let i = 0; i < nChurn; i++) loops.push(sleep(rand(0, 2000)).then(() => churnSlot(i)));
  for (let i = 0; i < nSubChurn; i++) loops.push(subChurn(i));
  for (let i = 0; i < o.sseStreams; i++) loops.push(sseSlot(i));
  if (o.slowWsEveryMs > 0) loops.push(slowWsLoop());
  if (o.slowSseEveryMs > 0) loops.push(slowSseLoop());

  const loadStart = now();
  const loadEnd = loadStart + o.seconds * 1000;
  let nextLog = now() + 30_000;
  while (now() < loadEnd) {
    await sleep(Math.min(o.sampleMs, Math.max(0, loadEnd - now())));
    const s = await sample('load');
    samples.push(s);
    if (now() >= nextLog) {
      nextLog += 30_000;
      log(`t=${Math.round((now() - loadStart) / 1000)} s: rss ${s.rssKiB} KiB, fds ${s.fds}, `
        + `connections ${s.connections}, accepted ${pub.accepted}, slow closed ${slow.filter((x) => x.closedBy === 'node').length}`);
    }
  }
  const loadStop = now();
  stopping = true;
  log(`load done after ${Math.round((loadStop - loadStart) / 1000)} s; draining`);
  const loopsDone = await within(Promise.all(loops).then(() => true), 30_000, false);
  // Keepers: wait for the last events, close their windows, leave.
  await Promise.all(keepers.map((c) => closeWindows(c, [...c.recs.keys()].filter((t) => c.recs.get(t).kind === 'keeper'), 10_000)));
  await Promise.all(keepers.map((c) => leave(c, 'close')));
  agent.destroy();
  const afterLoad = samples.filter((s) => s.phase === 'load').at(-1);

  // ---- back to baseline ---------------------------------------------------------
  const settleStart = now();
  let end;
  for (;;) {
    end = await sample('end');
    const conns = end.actors?.connection ?? 1;
    const back = conns <= (baseline.actors?.connection ?? 0)
      && (end.metrics?.herald_connections ?? 1) === 0
      && (end.metrics?.herald_sse_connections ?? 1) === 0
      && end.fds !== null && end.fds <= baseline.fds + o.fdTolerance;
    if (back || now() - settleStart > o.settleMs) break;
    await sleep(500);
  }
  end.settleMs = Math.round(now() - settleStart);
  samples.push(end);

  // ---- checks ---------------------------------------------------------------------
  const delivery = { subscriptions: 0, windows: 0, expected: 0, delivered: 0, missing: 0, duplicates: 0,
    outOfOrder: 0, unknown: 0, examples: [] };
  const byTopic = new Map([...events].map(([t, list]) => [t, { list, seqs: new Set(list.map((e) => e.seq)) }]));
  const lowerBound = (list, t) => { // first index with tSend >= t
    let lo = 0; let hi = list.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (list[m].tSend < t) lo = m + 1; else hi = m; }
    return lo;
  };
  for (const rec of recs) {
    const ev = byTopic.get(rec.topic);
    if (!ev) continue;
    const seen = new Map();
    let prev = 0;
    for (const s of rec.got) {
      seen.set(s, (seen.get(s) ?? 0) + 1);
      if (seen.get(s) > 1) delivery.duplicates += 1;
      else if (s < prev) delivery.outOfOrder += 1;
      if (!ev.seqs.has(s)) delivery.unknown += 1;
      prev = Math.max(prev, s);
    }
    const ex = (what) => { if (delivery.examples.length < 10) delivery.examples.push({ what, kind: rec.kind, conn: rec.conn, topic: rec.topic, ...what }); };
    if (rec.got.some((s, i) => i > 0 && s <= rec.got[i - 1])) ex({ problem: 'order/duplicate', got: rec.got.slice(0, 40) });
    if (!rec.keeping) continue;
    delivery.subscriptions += 1;
    for (const [a, b] of rec.intervals) {
      if (b === Infinity) continue;
      delivery.windows += 1;
      for (let i = lowerBound(ev.list, a); i < ev.list.length && ev.list[i].tSend <= b; i++) {
        const e = ev.list[i];
        if (e.tAck > b) continue;
        delivery.expected += 1;
        if (seen.has(e.seq)) delivery.delivered += 1;
        else {
          delivery.missing += 1;
          ex({ problem: 'missing', seq: e.seq, tSend: rel(e.tSend), tAck: rel(e.tAck), window: [rel(a), rel(b)],
            gotAround: rec.got.filter((s) => Math.abs(s - e.seq) <= 3) });
        }
      }
    }
  }
  const unclosed = recs.filter((r) => r.keeping && r.intervals.some(([, b]) => b === Infinity)).length;

  const loadSamples = samples.filter((s) => s.phase === 'load' && s.rssKiB !== null);
  const loadMs = loadStop - loadStart;
  const warm = loadSamples.find((s) => s.t >= rel(loadStart) + o.warmupShare * loadMs) ?? loadSamples[0] ?? baseline;
  const half = loadSamples.filter((s) => s.t >= rel(loadStart) + loadMs / 2);
  const secondHalfSlope = slopePerMin(half.map((s) => [s.t, s.rssKiB]));
  const secondHalfGrowth = half.length ? half.at(-1).rssKiB - half[0].rssKiB : 0;
  const rssMax = Math.max(...samples.map((s) => s.rssKiB ?? 0));
  const fdsMax = Math.max(...samples.map((s) => s.fds ?? 0));
  const connMax = Math.max(...samples.map((s) => s.actors?.connection ?? 0));
  const dm = (k) => (end.metrics?.[k] ?? 0) - (baseline.metrics?.[k] ?? 0);
  const slowWs = slow.filter((s) => s.kind === 'ws');
  const slowSse = slow.filter((s) => s.kind === 'sse');
  const judged = (list) => list.filter((s) => s.closedBy !== 'run ended first');

  const checks = [];
  const check = (name, ok, detail) => checks.push({ name, ok: Boolean(ok), detail });
  check('delivery: every accepted event reached each keeping-up subscriber once, in order',
    delivery.missing === 0 && delivery.duplicates === 0 && delivery.outOfOrder === 0 && delivery.unknown === 0
    && delivery.expected > 0 && unclosed === 0,
    `${delivery.expected} expected deliveries over ${delivery.windows} windows of ${delivery.subscriptions} subscriptions: `
    + `missing ${delivery.missing}, duplicates ${delivery.duplicates}, out of order ${delivery.outOfOrder}, `
    + `unknown ${delivery.unknown}, windows left open ${unclosed}`);
  check('publishes: accepted, none refused or failed',
    pub.accepted > 0 && pub.errors === 0 && Object.keys(pub.refused).length === 0,
    `${pub.accepted} accepted in ${pub.requests} requests (${pub.singles} single, ${pub.batches} batch); `
    + `refused ${JSON.stringify(pub.refused)}, errors ${pub.errors}${pub.lastError ? ` (${pub.lastError})` : ''}`);
  const wsJudged = judged(slowWs);
  check('slow consumers (WebSocket) closed by the node with 1013',
    wsJudged.length > 0 && wsJudged.every((s) => s.closedBy === 'node' && s.code === 1013),
    `${wsJudged.filter((s) => s.code === 1013).length}/${wsJudged.length} closed with 1013`
    + ` (stalled ${wsJudged.map((s) => s.stalledMs).join(', ')} ms)`
    + (wsJudged.some((s) => s.code !== 1013) ? `; others: ${JSON.stringify(wsJudged.filter((s) => s.code !== 1013))}` : ''));
  const sseJudged = judged(slowSse);
  if (o.slowSseEveryMs > 0) {
    check('slow consumers (SSE) ended by the node',
      sseJudged.every((s) => s.closedBy === 'node'),
      `${sseJudged.filter((s) => s.closedBy === 'node').length}/${sseJudged.length} ended`
      + ` (stalled ${sseJudged.map((s) => s.stalledMs).join(', ')} ms)`);
  }
  // A note, not a check (e2e.backpressure checks the release after
  // ws.close_timeout_ms): what a stalled SSE client still holds
  // sseLingerProbeMs after the node counted it as a slow consumer.
  const notes = [];
  const lingering = sseJudged.filter((x) => x.actorGoneBeforeRead === false);
  if (lingering.length) {
    notes.push(`${lingering.length}/${sseJudged.length} stalled SSE streams kept their connection actor (and socket) `
      + `${o.sseLingerProbeMs} ms after herald_slow_consumer_closes_total counted them, until the client read again `
      + `(then ended within ${Math.max(...lingering.map((x) => x.endedAfterReadMs ?? -1))} ms)`);
  }
  check('slow_consumer_closes_total counts them',
    dm('herald_slow_consumer_closes_total') >= slow.filter((s) => s.closedBy === 'node').length,
    `herald_slow_consumer_closes_total +${dm('herald_slow_consumer_closes_total')}, slow clients closed ${slow.filter((s) => s.closedBy === 'node').length}`);
  const keepersClosed = Object.entries(counts.wsClosedByNode);
  check('no keeping-up client closed by the node', keepersClosed.length === 0 && counts.sseEndedByNode === 0,
    `WebSocket closes not asked for: ${JSON.stringify(counts.wsClosedByNode)}; `
    + `SSE streams ended by the node ${counts.sseEndedByNode}`);
  check(`fds back to baseline (+${o.fdTolerance})`, end.fds !== null && end.fds <= baseline.fds + o.fdTolerance,
    `start ${baseline.fds}, max ${fdsMax}, end ${end.fds} (after ${end.settleMs} ms)`);
  check('connection actors back to baseline', (end.actors?.connection ?? -1) === (baseline.actors?.connection ?? 0)
    && end.metrics?.herald_connections === 0 && end.metrics?.herald_sse_connections === 0,
  `connection actors start ${baseline.actors?.connection}, max ${connMax}, end ${end.actors?.connection}; `
    + `herald_connections ${end.metrics?.herald_connections}, herald_sse_connections ${end.metrics?.herald_sse_connections}`);
  const otherKinds = Object.keys({ ...baseline.actors, ...end.actors }).filter((k) => k !== 'connection' && k !== 'topic');
  const driftKinds = otherKinds.filter((k) => (end.actors?.[k] ?? 0) !== (baseline.actors?.[k] ?? 0));
  check('topic actors back to baseline, other actors unchanged',
    (end.actors?.topic ?? -1) === (baseline.actors?.topic ?? 0) && driftKinds.length === 0,
    `topic actors start ${baseline.actors?.topic}, end ${end.actors?.topic}; others changed: ${driftKinds.map((k) => `${k} ${baseline.actors?.[k]}->${end.actors?.[k]}`).join(', ') || 'none'}`);
  check(`RSS second-half slope <= ${o.rssSlopeMaxKiBPerMin} KiB/min and growth <= ${o.rssSecondHalfMaxKiB} KiB`,
    half.length >= 2 && secondHalfSlope <= o.rssSlopeMaxKiBPerMin && secondHalfGrowth <= o.rssSecondHalfMaxKiB,
    `slope ${secondHalfSlope.toFixed(0)} KiB/min over ${half.length} samples, growth ${secondHalfGrowth} KiB`);
  check('the node is alive', procFigures(o.pid).rssKiB !== null, `pid ${o.pid}`);

  const result = {
    run, date: new Date().toISOString(), ok: checks.every((c) => c.ok),
    conditions: { seconds: o.seconds, connections: o.connections, keepers: nKeepers, churnSlots: nChurn,
      subChurn: nSubChurn, sseStreams: o.sseStreams, rate: o.rate, lanes: o.lanes, topics: o.topics,
      batchShare: o.batchShare, bulkRate: o.bulkRate, bulkBytes: o.bulkBytes, fatRate: o.fatRate, fatBytes: o.fatBytes, smallBytes: o.smallBytes,
      slowWsEveryMs: o.slowWsEveryMs, slowSseEveryMs: o.slowSseEveryMs, sampleMs: o.sampleMs,
      loopsEndedInTime: loopsDone, ...(o.conditions ?? {}) },
    checks,
    notes,
    rss: { startKiB: baseline.rssKiB, afterWarmupKiB: warm.rssKiB, afterWarmupAtS: Math.round((warm.t - rel(loadStart)) / 1000),
      endOfLoadKiB: afterLoad?.rssKiB, endKiB: end.rssKiB, maxKiB: rssMax,
      secondHalfSlopeKiBPerMin: Math.round(secondHalfSlope), secondHalfGrowthKiB: secondHalfGrowth },
    fds: { start: baseline.fds, max: fdsMax, end: end.fds },
    actors: { start: baseline.actors, end: end.actors, maxConnections: connMax },
    settleMs: end.settleMs,
    publishes: pub,
    clients: { ...counts, slow },
    delivery,
    metricsDelta: Object.fromEntries(KEEP.map((k) => [k, dm(k)])),
    metricsEnd: end.metrics,
    samples,
  };
  return result;
}

const kib = (v) => (v === null || v === undefined ? '-' : `${(v / 1024).toFixed(1)} MiB`);

export function markdown(r) {
  const L = [];
  L.push(`# Soak ${r.ok ? 'passed' : 'FAILED'} (${r.date}, run ${r.run})`, '');
  const c = r.conditions;
  L.push(`${c.seconds} s of load on one heraldd${c.heralddThreads ? ` (${c.heralddThreads})` : ''}: ${c.connections} WebSocket clients at a time `
    + `(${c.keepers} keepers, ${c.churnSlots} connect-churn slots, ${c.subChurn} subscribe-churn), ${c.sseStreams} SSE streams, `
    + `${c.lanes} publish lanes at ${c.rate} ev/s over ${c.topics} topics (${Math.round(c.batchShare * 100)}% batches), `
    + `a broadcast lane at ${c.bulkRate} ev/s of ${c.bulkBytes} B, a lane of ${c.fatBytes} B events at ${c.fatRate} ev/s, a stalled WebSocket every ${c.slowWsEveryMs / 1000} s`
    + `${c.slowSseEveryMs ? ` and a stalled SSE stream every ${c.slowSseEveryMs / 1000} s` : ''}.`, '');
  L.push('| check | result | detail |', '|---|---|---|');
  for (const k of r.checks) L.push(`| ${k.name} | ${k.ok ? 'ok' : '**FAIL**'} | ${k.detail.replace(/\|/g, '\\|')} |`);
  if (r.notes?.length) L.push('', 'Notes (not checks):', '', ...r.notes.map((n) => `- ${n}`));
  L.push('', '| figure | start | after warm-up | end of load | end (clients gone) | max |', '|---|---|---|---|---|---|');
  L.push(`| RSS | ${kib(r.rss.startKiB)} | ${kib(r.rss.afterWarmupKiB)} (at ${r.rss.afterWarmupAtS} s) | ${kib(r.rss.endOfLoadKiB)} | ${kib(r.rss.endKiB)} | ${kib(r.rss.maxKiB)} |`);
  L.push(`| open fds | ${r.fds.start} | | | ${r.fds.end} | ${r.fds.max} |`);
  L.push(`| connection actors | ${r.actors.start?.connection} | | | ${r.actors.end?.connection} | ${r.actors.maxConnections} |`);
  L.push(`| topic actors | ${r.actors.start?.topic} | | | ${r.actors.end?.topic} | |`);
  L.push('', `RSS slope over the second half of the load: ${r.rss.secondHalfSlopeKiBPerMin} KiB/min `
    + `(growth ${r.rss.secondHalfGrowthKiB} KiB). Back to baseline ${r.settleMs} ms after the last client left.`, '');
  const p = r.publishes;
  L.push(`Publishes: ${p.accepted} events accepted in ${p.requests} requests (${p.singles} single, ${p.batches} batch). `
    + `Clients: ${r.clients.wsOpened} WebSocket connections opened (${r.clients.churnCycles} churn cycles, `
    + `${r.clients.subCycles} subscribe/unsubscribe cycles), ${r.clients.sseOpened} SSE streams, `
    + `${r.clients.slow.length} stalled clients. Delivery: ${r.delivery.expected} deliveries expected, ${r.delivery.delivered} made.`, '');
  L.push('Counters over the run (end minus start):', '');
  L.push(Object.entries(r.metricsDelta).filter(([, v]) => v !== 0).map(([k, v]) => `\`${k}\` ${v}`).join(', '), '');
  if (r.delivery.examples.length) L.push('Delivery examples:', '', '```', ...r.delivery.examples.map((e) => JSON.stringify(e)), '```', '');
  L.push('Samples (s since start: RSS MiB / fds / connection actors):', '');
  L.push(r.samples.map((s) => `${Math.round(s.t / 1000)}: ${(s.rssKiB / 1024).toFixed(1)}/${s.fds}/${s.actors?.connection ?? '-'}`).join(', '), '');
  return L.join('\n');
}

export function writeResults(r, prefix) {
  mkdirSync(dirname(prefix), { recursive: true });
  writeFileSync(`${prefix}.json`, `${JSON.stringify(r, null, 1)}\n`);
  writeFileSync(`${prefix}.md`, `${markdown(r)}\n`);
}

function parseArgs(argv) {
  const o = {};
  const map = { url: 'url', admin: 'adminUrl', pid: 'pid', secret: 'secret', 'api-key': 'apiKey', seconds: 'seconds',
    connections: 'connections', rate: 'rate', out: 'out', 'sse-streams': 'sseStreams', 'bulk-rate': 'bulkRate', 'fat-rate': 'fatRate',
    'sample-ms': 'sampleMs', 'slow-every-ms': 'slowWsEveryMs', 'slow-sse-every-ms': 'slowSseEveryMs',
    'rss-slope-max': 'rssSlopeMaxKiBPerMin', 'rss-growth-max': 'rssSecondHalfMaxKiB', threads: 'threads' };
  for (let i = 0; i < argv.length; i++) {
    const [k, v0] = argv[i].replace(/^--/, '').split('=');
    if (!(k in map)) throw new Error(`driver: unknown option ${argv[i]}`);
    const v = v0 ?? argv[++i];
    o[map[k]] = /^(url|adminUrl|secret|apiKey|out|threads)$/.test(map[k]) ? v : Number(v);
  }
  return o;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const out = o.out ?? join(ROOT, 'bench/results/soak');
  const hardStop = setTimeout(() => { console.error('soak: driver overran its bound; exiting'); process.exit(3); },
    ((o.seconds ?? DEFAULTS.seconds) + 180) * 1000);
  hardStop.unref();
  runSoak({ ...o, conditions: o.threads ? { heralddThreads: o.threads } : {} }).then((r) => {
    writeResults(r, out);
    for (const k of r.checks) console.error(`soak: ${k.ok ? 'ok  ' : 'FAIL'} ${k.name}: ${k.detail}`);
    console.error(`soak: wrote ${out}.json and ${out}.md`);
    process.exit(r.ok ? 0 : 1);
  }, (e) => { console.error(`soak: ${e.stack ?? e}`); process.exit(2); });
}
