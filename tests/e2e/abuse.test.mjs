// Issue 10, the abuse part (docs/limits.md): connection limits in all and
// per client address, head/body/idle timeouts (slowloris), body size on
// every route (chunked, lying Content-Length), publish load shedding, the
// browser Origin list, the admin API's token and address, and secrets that
// never reach logs, metrics or error answers.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import {
  startNode, connect, hs256, ids, publishBatch, metrics, waitFor, sleep, within, uniq,
  heralddPath, API_KEY, HS256_SECRET,
} from './lib/index.mjs';
import { openSse, settle, streamPath, closeAllSse } from './lib/sse.mjs';

after(() => closeAllSse());

/**
 * One HTTP request on a connection of its own (no keep-alive pool, whose
 * idle connections would count against the limits). Resolves {status,
 * headers, text, json}; opts: method, headers, body, localAddress, path.
 */
function request(node, path, opts = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: opts.port ?? node.port, path, method: opts.method ?? 'GET',
      headers: {
        connection: 'close',
        ...(opts.body !== undefined ? { 'content-length': Buffer.byteLength(opts.body) } : {}),
        ...(opts.headers ?? {}),
      },
      agent: false, localAddress: opts.localAddress,
      timeout: 5000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * A raw TCP connection: `script(socket)` writes; resolves {data, elapsed,
 * closed} once the server closes it or after `ms` (then closed: false).
 */
function raw(node, script, { ms = 3000, localAddress } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port: node.port, host: '127.0.0.1', localAddress });
    let data = '';
    let started = 0;
    let timer;
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data, elapsed: Date.now() - started, closed });
    };
    s.on('data', (d) => { data += d.toString('latin1'); });
    s.on('error', () => {});
    s.on('close', () => finish(true));
    s.on('connect', () => {
      started = Date.now();
      timer = setTimeout(() => finish(false), ms);
      Promise.resolve(script(s)).catch(() => {});
    });
  });
}

/** The JSON body of the first HTTP answer in raw bytes. */
function firstAnswer(data) {
  const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(data);
  if (!m) return null;
  const rest = data.slice(m[0].length);
  const len = /content-length: (\d+)/i.exec(m[2]);
  const body = len ? rest.slice(0, Number(len[1])) : rest;
  let json;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: Number(m[1]), head: m[2], body, json };
}

/** A WebSocket from `localAddress`; resolves it open or rejects with
 * {statusCode, body, headers} when the upgrade is refused. */
function ws(node, token, { localAddress, origin, path = '/ws' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(`ws://127.0.0.1:${node.port}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      localAddress, origin, handshakeTimeout: 3000,
    });
    const timer = setTimeout(() => { sock.terminate(); reject(new Error('ws did not settle in 4 s')); }, 4000);
    sock.once('open', () => { clearTimeout(timer); resolve(sock); });
    sock.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        clearTimeout(timer);
        const err = new Error(`upgrade refused: ${res.statusCode}`);
        Object.assign(err, { statusCode: res.statusCode, body, headers: res.headers });
        req.destroy();
        reject(err);
      });
    });
    sock.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** A ping answered by the node (a live, undisturbed /ws connection). */
function pong(sock, ms = 2000) {
  return within(new Promise((resolve) => {
    const onMsg = (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'pong') { sock.off('message', onMsg); resolve(true); }
    };
    sock.on('message', onMsg);
    sock.send(JSON.stringify({ type: 'ping' }));
  }), ms, false);
}

async function refusedUpgrade(promise) {
  try {
    const s = await promise;
    s.terminate();
    return { statusCode: 101 };
  } catch (e) {
    if (!e.statusCode) throw e;
    return { statusCode: e.statusCode, json: JSON.parse(e.body), headers: e.headers };
  }
}

function closeAll(socks) {
  for (const s of socks) { try { s.terminate(); } catch { /* closed */ } }
}

describe('limits.max_connections', () => {
  it('answers 503 OVERLOADED past it, on every kind of connection, and leaves open ones alone', { timeout: 20_000 }, async (t) => {
    const node = await startNode({ limits: { max_connections: 3 } });
    t.after(() => node.stop());
    const token = await hs256(ids.admin('c1', { tenant_id: 't1' }));
    const a = await ws(node, token);
    const b = await ws(node, token);
    const socks = [a, b];
    t.after(() => closeAll(socks));
    const stream = await openSse(node, token);
    t.after(() => stream.close());

    // a 4th: a WebSocket upgrade, a plain request, an SSE stream
    const up = await refusedUpgrade(ws(node, token));
    assert.equal(up.statusCode, 503);
    assert.equal(up.json.code, 'OVERLOADED');
    assert.equal(typeof up.json.message, 'string');
    assert.equal(up.headers['retry-after'], '1');
    const plain = await request(node, '/healthz');
    assert.equal(plain.status, 503);
    assert.equal(plain.json?.code, 'OVERLOADED');
    const sse = await request(node, streamPath({ token }));
    assert.equal(sse.status, 503);
    // a client that is slow to send its request still gets the answer
    const slow = await raw(node, async (s) => { await sleep(200); s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'); });
    assert.equal(firstAnswer(slow.data)?.status, 503, slow.data);
    // the admin listener is not counted: an operator still gets in
    const admin = await fetch(`${node.adminUrl}/admin/v1/node`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    assert.equal(admin.status, 200);

    // the open ones are undisturbed
    assert.ok(await pong(a), 'a answers');
    assert.ok(await pong(b), 'b answers');
    // one goes: its place is free again, and the stream still delivers
    b.terminate();
    // (each try's connection holds the place until the node has seen it
    // close, so the publish itself is what is retried)
    const run = uniq();
    const pub = await waitFor(async () => {
      const r = await request(node, '/api/v1/publish', {
        method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event_type: 'zz.run', broadcast: true, audience: { tenant_id: 't1' }, data: { run } }),
      });
      assert.ok(r.status === 202 || r.status === 503, r.text);
      return r.status === 202 ? r : null;
    }, { timeoutMs: 5000, message: 'a place to come free' });
    assert.equal(typeof pub.json.id, 'string');
    await stream.take((m) => m.json?.payload?.run === run, 1, 3000, 'the broadcast on the open stream');
    assert.ok(await pong(a), 'a still answers');
  });
});

describe('limits.max_connections_per_ip', () => {
  it('answers 429 LIMIT_EXCEEDED past it, counting each client address apart', { timeout: 20_000 }, async (t) => {
    const node = await startNode({ limits: { max_connections_per_ip: 2 } });
    t.after(() => node.stop());
    const token = await hs256(ids.admin());
    const socks = [];
    t.after(() => closeAll(socks));
    socks.push(await ws(node, token, { localAddress: '127.0.0.2' }));
    socks.push(await ws(node, token, { localAddress: '127.0.0.2' }));
    const third = await refusedUpgrade(ws(node, token, { localAddress: '127.0.0.2' }));
    assert.equal(third.statusCode, 429);
    assert.equal(third.json.code, 'LIMIT_EXCEEDED');
    assert.equal((await request(node, '/healthz', { localAddress: '127.0.0.2' })).status, 429);
    // other addresses have places of their own
    socks.push(await ws(node, token, { localAddress: '127.0.0.3' }));
    socks.push(await ws(node, token, { localAddress: '127.0.0.3' }));
    assert.equal((await request(node, '/healthz', { localAddress: '127.0.0.4' })).status, 200);
    assert.equal((await request(node, '/healthz')).status, 200);
    for (const s of socks) assert.ok(await pong(s), 'an open connection answers');
    // the refusals and the open connections on /metrics
    const m = await metrics(node);
    assert.equal(m['herald_connections_refused_total{limit="max_connections_per_ip"}'], 2, JSON.stringify(m));
    assert.equal(m['herald_connections_refused_total{limit="max_connections"}'], 0);
    assert.ok(m.herald_tcp_connections >= 5, `herald_tcp_connections ${m.herald_tcp_connections}`);
    // one of 127.0.0.2's goes: it may connect again
    socks[0].terminate();
    await waitFor(async () => (await request(node, '/healthz', { localAddress: '127.0.0.2' })).status === 200,
      { timeoutMs: 5000, message: '127.0.0.2 to get a place back' });
  });
});

describe('header, body and idle timeouts', () => {
  let node;
  before(async () => {
    node = await startNode({ limits: { header_timeout_ms: 500, body_timeout_ms: 600, idle_timeout_ms: 700 } });
  });
  after(() => node?.stop());

  it('drops a client that connects and sends nothing', async () => {
    const r = await raw(node, () => {});
    assert.ok(r.closed, 'still open after 3 s');
    assert.ok(r.elapsed >= 400 && r.elapsed < 1500, `dropped after ${r.elapsed} ms`);
  });

  it('drops a client that sends its head byte by byte (slowloris), also for an upgrade', async () => {
    for (const head of ['GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ' + 'a'.repeat(100),
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n']) {
      const r = await raw(node, async (s) => {
        for (const ch of head) {
          if (s.destroyed) return;
          s.write(ch);
          await sleep(20);
        }
      });
      assert.ok(r.closed, 'still open after 3 s');
      assert.ok(r.elapsed < 1500, `dropped after ${r.elapsed} ms`);
      assert.equal(r.data, '', 'answered a head that never ended');
    }
  });

  it('serves a head sent in pieces within the timeout', async () => {
    const r = await raw(node, async (s) => {
      for (const part of ['GET /heal', 'thz HTTP/1.1\r\nHo', 'st: x\r\nConnection: close\r\n\r\n']) {
        s.write(part);
        await sleep(100);
      }
    });
    assert.equal(firstAnswer(r.data)?.status, 200, r.data);
  });

  it('drops a body that stops coming', async () => {
    const r = await raw(node, (s) => s.write(`POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + 'Content-Length: 100\r\n\r\n{"topic":'));
    assert.ok(r.closed, 'still open after 3 s');
    assert.ok(r.elapsed >= 500 && r.elapsed < 1800, `dropped after ${r.elapsed} ms`);
    assert.equal(r.data, '');
  });

  it('closes an idle keep-alive connection, and keeps a busy one', async () => {
    const r = await raw(node, async (s) => {
      for (let i = 0; i < 4; i++) {
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        await sleep(400); // within idle_timeout_ms, and longer than the head's
      }
    }, { ms: 5000 });
    assert.ok(r.closed, 'the idle connection was not closed');
    assert.equal((r.data.match(/HTTP\/1\.1 200/g) ?? []).length, 4, r.data);
    // 4 requests 400 ms apart, then 700 ms idle
    assert.ok(r.elapsed >= 1800 && r.elapsed < 3500, `closed after ${r.elapsed} ms`);
  });

  it('leaves WebSocket and SSE streams open past every timeout', { timeout: 15_000 }, async () => {
    const token = await hs256(ids.admin('c1', { tenant_id: 't1' }));
    const c = await connect(node, token);
    const stream = await openSse(node, token);
    await sleep(1500);
    assert.equal((await c.ping()).type, 'pong');
    await settle(node, stream, { tenant: 't1' });
    stream.close();
    await c.close();
  });
});

describe('limits.max_body_bytes', () => {
  let node;
  let adminToken;
  before(async () => {
    node = await startNode({ limits: { max_body_bytes: 1024, body_timeout_ms: 2000 } });
    adminToken = await hs256(ids.admin());
  });
  after(() => node?.stop());

  const tooLarge = (r, what) => {
    assert.equal(r.status, 413, `${what}: ${r.status} ${r.text?.slice(0, 200)}`);
    assert.equal(r.json?.code, 'PAYLOAD_TOO_LARGE', what);
    assert.match(r.json?.message ?? '', /1024/);
  };

  it('refuses a larger body on every route with 413 and the error body', async () => {
    const big = JSON.stringify({ topic: 'customer_id:c1:call:x', event_type: 'a.b', data: { pad: 'x'.repeat(2000) } });
    const key = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
    tooLarge(await request(node, '/api/v1/publish', { method: 'POST', headers: key, body: big }), 'publish');
    tooLarge(await request(node, '/api/v1/publish/batch', { method: 'POST', headers: key, body: JSON.stringify({ events: [JSON.parse(big)] }) }), 'batch');
    tooLarge(await request(node, '/healthz', { method: 'GET', headers: { 'content-type': 'text/plain' }, body: big }), 'GET with a body');
    const admin = (path, token) => request(node, path, {
      port: Number(new URL(node.adminUrl).port), method: 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' }, body: big,
    });
    tooLarge(await admin('/admin/v1/maintenance', adminToken), 'admin maintenance');
    tooLarge(await admin('/admin/v1/actors/e2e/1/stop', adminToken), 'admin stop');
    tooLarge(await admin('/admin/v1/maintenance', null), 'admin without a token');
  });

  it('takes a body of exactly the limit', async () => {
    const base = { topic: 'customer_id:c1:call:x', event_type: 'a.b', data: { pad: '' } };
    const pad = 1024 - JSON.stringify(base).length;
    const body = JSON.stringify({ ...base, data: { pad: 'y'.repeat(pad) } });
    assert.equal(body.length, 1024);
    const r = await request(node, '/api/v1/publish', { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body });
    assert.equal(r.status, 202, r.text);
  });

  it('refuses a chunked body once it grows past the limit', async () => {
    const r = await raw(node, async (s) => {
      s.write(`POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      for (let i = 0; i < 20 && !s.destroyed; i++) {
        s.write(`12c\r\n${'z'.repeat(300)}\r\n`);
        await sleep(10);
      }
    });
    const a = firstAnswer(r.data);
    assert.equal(a?.status, 413, r.data.slice(0, 300));
    assert.equal(a.json?.code, 'PAYLOAD_TOO_LARGE');
    assert.ok(r.closed, 'the connection stayed open');
  });

  it('refuses a Content-Length over the limit before any body byte', async () => {
    const r = await raw(node, (s) => s.write(`POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + 'Content-Length: 1000000000\r\n\r\n{"topic":'));
    const a = firstAnswer(r.data);
    assert.equal(a?.status, 413, r.data.slice(0, 300));
    assert.equal(a.json?.code, 'PAYLOAD_TOO_LARGE');
    assert.ok(r.elapsed < 1500, `answered after ${r.elapsed} ms (not at once)`);
  });

  it('takes no more than a Content-Length says: the rest is a next request, refused', async () => {
    const r = await raw(node, (s) => s.write(`POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + `Content-Length: 2\r\n\r\n{}${'{"topic":"customer_id:c1:call:x","event_type":"a.b","pad":"'.padEnd(3000, 'q')}"}`));
    const answers = r.data.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    assert.deepEqual(answers, ['HTTP/1.1 400', 'HTTP/1.1 400'], r.data.slice(0, 600));
    assert.ok(!r.data.includes('202'), 'the smuggled bytes were published');
    assert.ok(r.closed);
  });

  it('refuses a request with both Content-Length and Transfer-Encoding', async () => {
    const r = await raw(node, (s) => s.write(`POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
    assert.equal(firstAnswer(r.data)?.status, 400, r.data.slice(0, 300));
    assert.ok(r.closed);
  });
});

describe('limits.max_publish_queue', () => {
  it('sheds with 503 OVERLOADED when the queue is full, and delivers every accepted event', { timeout: 30_000 }, async (t) => {
    const node = await startNode({ limits: { max_publish_queue: 20 } });
    t.after(() => node.stop());
    const c = await connect(node, await hs256(ids.admin()));
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const before = (await metrics(node)).herald_publish_shed_total ?? 0;
    const run = uniq();
    const ev = (i) => ({ topic: 'customer_id:c1:call:q', event_type: 'call.status', data: { run, i } });

    // more than the whole queue at once: shed, always
    const over = await publishBatch(node, Array.from({ length: 21 }, (_, i) => ev(-1 - i)));
    assert.equal(over.status, 503, over.text);
    assert.equal(over.json?.code, 'OVERLOADED');
    assert.equal(over.headers.get('retry-after'), '1');

    // a bounded flood: 30 rounds of 20 concurrent batches of 15
    let accepted = 0;
    let shed = 0;
    let n = 0;
    for (let round = 0; round < 30; round++) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => {
        const events = Array.from({ length: 15 }, () => ev(n++));
        return publishBatch(node, events).then((r) => ({ r, count: events.length }));
      }));
      for (const { r, count } of batch) {
        if (r.status === 200) accepted += count;
        else {
          assert.equal(r.status, 503, r.text);
          assert.equal(r.json?.code, 'OVERLOADED');
          shed += 1;
        }
      }
    }
    assert.ok(accepted > 0, 'nothing accepted');
    assert.ok(shed > 0, `a flood of ${n} events into a queue of 20 was never shed`);
    // every accepted event arrives, no shed one does
    const got = await c.events(accepted, (m) => m.data?.run === run, 15_000);
    assert.equal(got.length, accepted);
    await sleep(200);
    assert.equal(c.peek((m) => m.data?.run === run).length, 0, 'a shed event was delivered');
    const m = await metrics(node);
    assert.ok(m.herald_publish_shed_total >= before + shed + 1, `herald_publish_shed_total ${before} -> ${m.herald_publish_shed_total}`);
    // the queue drains: publishing works again
    await waitFor(async () => (await metrics(node)).herald_publish_queue === 0, { message: 'the queue to drain' });
    assert.equal((await publishBatch(node, [ev(-100)])).status, 200);
  });
});

describe('listen.allowed_origins', () => {
  let node;
  let open;
  let token;
  before(async () => {
    node = await startNode({ listen: { allowed_origins: ['https://app.example.com', 'http://localhost:3000'] } });
    open = await startNode();
    token = await hs256(ids.admin('c1', { tenant_id: 't1' }));
  });
  after(async () => { await node?.stop(); await open?.stop(); });

  it('refuses a WebSocket upgrade from an unlisted Origin with 403, before the token', async () => {
    for (const path of ['/ws', '/ws/events', '/api/v69/ws/monitor']) {
      for (const tok of [token, null]) {
        const r = await refusedUpgrade(ws(node, tok, { origin: 'https://evil.example', path }));
        assert.equal(r.statusCode, 403, `${path} ${tok ? 'with' : 'without'} a token`);
        assert.equal(r.json.code, 'PERMISSION_DENIED');
      }
    }
    assert.equal((await refusedUpgrade(ws(node, token, { origin: 'null' }))).statusCode, 403);
    assert.equal((await refusedUpgrade(ws(node, token, { origin: 'https://app.example.com.evil.example' }))).statusCode, 403);
  });

  it('lets listed Origins (any case) and requests without one through', async () => {
    for (const origin of ['https://app.example.com', 'HTTPS://APP.example.com', 'http://localhost:3000', undefined]) {
      const s = await ws(node, token, { origin });
      assert.ok(await pong(s), `origin ${origin}`);
      s.terminate();
    }
    // a listed Origin still needs its token
    assert.equal((await refusedUpgrade(ws(node, null, { origin: 'https://app.example.com' }))).statusCode, 401);
  });

  it('applies to the SSE stream as well', async () => {
    const bad = await request(node, streamPath({ token }), { headers: { origin: 'https://evil.example' } });
    assert.equal(bad.status, 403);
    assert.equal(bad.json?.code, 'PERMISSION_DENIED');
    for (const origin of ['https://app.example.com', undefined]) {
      const status = await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: node.port, path: streamPath({ token }), agent: false,
          headers: origin ? { origin } : {} }, (res) => { resolve(res.statusCode); req.destroy(); });
        req.on('error', reject);
        req.setTimeout(3000, () => req.destroy(new Error('no head')));
      });
      assert.equal(status, 200, `origin ${origin}`);
    }
  });

  it('leaves the publish API to backends: an Origin changes nothing, and no CORS headers', async () => {
    const r = await request(node, '/api/v1/publish', {
      method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, origin: 'https://evil.example' },
      body: JSON.stringify({ topic: 'customer_id:c1:call:x', event_type: 'a.b' }),
    });
    assert.equal(r.status, 202);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  it('with no list, any Origin is let through', async () => {
    const s = await ws(open, token, { origin: 'https://evil.example' });
    assert.ok(await pong(s));
    s.terminate();
  });
});

describe('bad limit values stop the node with a line naming the key', () => {
  const bad = [
    ['--limits.header_timeout_ms=0', 'config: limits.header_timeout_ms: must be an integer in 10..3600000'],
    ['--limits.idle_timeout_ms=soon', 'config: limits.idle_timeout_ms: '],
    ['--limits.body_timeout_ms=-5', 'config: limits.body_timeout_ms: '],
    ['--limits.max_connections=-1', 'config: limits.max_connections: '],
    ['--limits.max_connections_per_ip=1.5', 'config: limits.max_connections_per_ip: '],
    ['--listen.allowed_origins=["https://app.example.com/"]', 'config: listen.allowed_origins[0]: must be an origin'],
    ['--listen.allowed_origins=["*"]', 'config: listen.allowed_origins[0]: must be an origin'],
    ['--listen.allowed_origins="https://a.example"', 'config: listen.allowed_origins: must be an array of strings'],
  ];
  for (const [flag, line] of bad) {
    it(flag, () => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
      const r = spawnSync(heralddPath(), ['--listen.port=0', '--admin.enabled=false', flag], { encoding: 'utf8', timeout: 5000, env });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.ok(r.stderr.startsWith(line), r.stderr);
    });
  }
});

describe('the admin API', () => {
  it('listens on loopback by default, and needs its token on every route', { timeout: 20_000 }, async (t) => {
    const node = await startNode();
    t.after(() => node.stop());
    assert.match(node.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(!node.logs().includes('NOT loopback'));
    const port = Number(new URL(node.adminUrl).port);
    const bad = await hs256(ids.admin(), { secret: 'not-the-secret-0123456789abcdef0123' });
    const routes = [
      ['GET', '/admin/v1/node'], ['GET', '/admin/v1/nodes'], ['GET', '/admin/v1/tree'], ['GET', '/admin/v1/cluster'],
      ['GET', '/admin/v1/services'], ['GET', '/admin/v1/actors'], ['GET', '/admin/v1/actors/e2e/1'],
      ['POST', '/admin/v1/actors/e2e/1/stop'], ['GET', '/admin/v1/topics'],
      ['GET', '/admin/v1/topics/subscribers?pattern=customer_id:c1:call:*'], ['POST', '/admin/v1/services/x/reset'],
      ['GET', '/admin/v1/maintenance'], ['POST', '/admin/v1/maintenance'],
      ['GET', '/admin/v1/stream/topic?pattern=customer_id:c1:call:*'], ['GET', '/admin/v1/stream/actor/e2e/1'],
      ['GET', '/admin/v1/no-such-route'], ['HEAD', '/admin/v1/node'],
    ];
    for (const [method, path] of routes) {
      for (const [how, headers, extra] of [['none', {}, ''], ['bad header', { authorization: `Bearer ${bad}` }, ''],
        ['bad query', {}, `${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(bad)}`],
        ['an API key', { authorization: `Bearer ${API_KEY}` }, '']]) {
        const r = await request(node, path + extra, { port, method, headers, body: method === 'POST' ? '{}' : undefined });
        assert.equal(r.status, 401, `${method} ${path} with ${how}: ${r.status} ${r.text.slice(0, 200)}`);
        if (method !== 'HEAD') assert.equal(r.json?.code, 'UNAUTHORIZED', `${method} ${path}`);
      }
    }
    // the console page is static and served to anyone: it holds no secret
    const page = await request(node, '/', { port });
    assert.equal(page.status, 200);
    for (const secret of [HS256_SECRET, API_KEY]) assert.ok(!page.text.includes(secret));
    // outside /admin/v1/ there is nothing
    assert.equal((await request(node, '/metrics', { port })).status, 404);
  });

  it('says so at start when it listens beyond loopback', { timeout: 15_000 }, async (t) => {
    const node = await startNode({ admin: { address: '0.0.0.0' } });
    t.after(() => node.stop());
    assert.match(node.logs(), /admin API listening on 0\.0\.0\.0 \(admin\.address\): NOT loopback/);
    const r = await request(node, '/admin/v1/node', { port: Number(new URL(node.adminUrl).port) });
    assert.equal(r.status, 401);
  });
});

describe('secrets never reach logs, metrics or answers', () => {
  it('with log.level debug, valid and invalid tokens and keys in headers and ?token=', { timeout: 30_000 }, async (t) => {
    const node = await startNode({ log: { level: 'debug' }, limits: { max_connections_per_ip: 50 } });
    t.after(() => node.stop());
    const adminPort = Number(new URL(node.adminUrl).port);
    const good = await hs256(ids.admin('c1', { tenant_id: 't1' }));
    const forged = await hs256(ids.admin('c1', { tenant_id: 't1' }), { secret: 'forged-secret-SHOULD-NOT-LEAK-0123456789' });
    const expired = await hs256(ids.admin(), { exp: Math.floor(Date.now() / 1000) - 3600 });
    const wrongKey = 'wrong-api-key-SHOULD-NOT-LEAK';
    const tokens = [good, forged, expired];
    const secrets = [HS256_SECRET, API_KEY, wrongKey, ...tokens, ...tokens.map((x) => x.split('.')[2])];
    const answers = [];
    const q = (tok) => `token=${encodeURIComponent(tok)}`;

    // /ws: header and query, good and bad; an error frame for a denied topic
    for (const tok of tokens) {
      for (const via of ['header', 'query']) {
        try {
          const c = await connect(node, tok, { via });
          const r = await c.request({ type: 'subscribe', topics: ['customer_id:c9:call:*', 'bogus'], id: 'r1' });
          answers.push(JSON.stringify(r), JSON.stringify(c.peek()));
          await c.close();
        } catch (e) {
          answers.push(e.body ?? String(e));
        }
      }
    }
    // SSE, the publish API, plain routes with ?token=
    for (const tok of tokens) {
      for (const path of [streamPath({ token: tok, patterns: ['bad pattern!'] }), `/healthz?${q(tok)}`, `/metrics?${q(tok)}`,
        `/no-such-path?${q(tok)}`, `/ws?${q(tok)}`]) {
        answers.push((await request(node, path)).text);
      }
      answers.push((await request(node, streamPath({}), { headers: { authorization: `Bearer ${tok}` } }).catch((e) => ({ text: String(e) }))).text);
    }
    const live = await new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: node.port, path: streamPath({ token: good }), agent: false }, (res) => resolve({ req, res }));
      req.on('error', reject);
    });
    for (const key of [API_KEY, wrongKey, good]) {
      for (const path of ['/api/v1/publish', `/api/v1/publish?${q(key)}`, '/api/v1/publish/batch']) {
        const r = await request(node, path, {
          method: 'POST', headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({ topic: 'customer_id:c1:call:x', event_type: 'a.b', events: [{ topic: 'bad topic' }] }),
        });
        answers.push(r.text);
      }
    }
    // the admin API, header and query, its streams and a connection's detail
    const keep = await connect(node, good, { via: 'query' });
    t.after(() => keep.close());
    for (const tok of tokens) {
      for (const path of ['/admin/v1/node', '/admin/v1/actors?limit=500', '/admin/v1/topics', '/admin/v1/no-such-route']) {
        answers.push((await request(node, path, { port: adminPort, headers: { authorization: `Bearer ${tok}` } })).text);
        answers.push((await request(node, `${path}${path.includes('?') ? '&' : '?'}${q(tok)}`, { port: adminPort })).text);
      }
    }
    const actors = await request(node, '/admin/v1/actors?limit=500', { port: adminPort, headers: { authorization: `Bearer ${good}` } });
    assert.equal(actors.status, 200);
    for (const row of actors.json.items ?? []) {
      answers.push((await request(node, `/admin/v1/actors/e2e/${row.id}`, { port: adminPort, headers: { authorization: `Bearer ${good}` } })).text);
    }
    live.res.destroy();
    live.req.destroy();
    const m = await request(node, '/metrics');
    assert.equal(m.status, 200);
    answers.push(m.text);
    await sleep(200); // the last log lines
    const logs = node.logs();
    assert.ok(logs.includes('refused'), 'no refusal was logged at all: the test saw nothing');
    for (const s of secrets) {
      assert.ok(!logs.includes(s), `a secret is in the node's output: ${s.slice(0, 12)}...\n${logs.split('\n').filter((l) => l.includes(s)).slice(0, 3).join('\n')}`);
      for (const a of answers) assert.ok(!a.includes(s), `a secret is in an answer: ${s.slice(0, 12)}...: ${a.slice(0, 300)}`);
    }
  });
});
