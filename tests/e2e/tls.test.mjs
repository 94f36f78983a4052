// docs/tls.md: wss:// and https:// on listen.tls.*, next to (or instead of)
// the plain port: every public route over TLS with a certificate the
// clients really verify (a throwaway self-signed one, made here with the
// openssl CLI), the handshake under limits.header_timeout_ms, plain HTTP
// on the TLS port refused, TLS 1.3-only, and bad keys stopping the node.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startNode, connect, hs256, ids, publishOk, get, sleep, API_KEY,
} from './lib/index.mjs';

const HEADER_TIMEOUT_MS = 1000;

let dir;
let certFile;
let keyFile;
let otherKeyFile;
let ca;
let node;

/** A self-signed certificate for 127.0.0.1 and localhost (EC P-256). */
function makeCert(where) {
  const cert = join(where, 'cert.pem');
  const key = join(where, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=herald-e2e',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'pipe' });
  const other = join(where, 'other-key.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', other],
    { stdio: 'pipe' });
  return { cert, key, other };
}

function tlsConfig(extra = {}) {
  return { enabled: true, port: 0, cert_file: certFile, key_file: keyFile, ...extra };
}

/** An https request verified against the test certificate. */
function httpsRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 5000, ...tlsOpts } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, agent: false, timeout: timeoutMs, ...tlsOpts }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function httpsPublish(n, event) {
  return httpsRequest(`${n.tlsUrl}/api/v1/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(event),
  });
}

/** A wss:// client of `path` (default /ws), verifying the certificate. */
async function wss(n, claims = ids.admin('c1'), path = '/ws') {
  const base = n.tlsWsUrl.replace(/\/ws$/, '');
  return connect(n, await hs256(claims), { url: `${base}${path}`, wsOptions: { ca } });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
  ({ cert: certFile, key: keyFile, other: otherKeyFile } = makeCert(dir));
  ca = readFileSync(certFile);
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('a node with a plain and a TLS port', () => {
  before(async () => {
    node = await startNode({
      listen: { tls: tlsConfig() },
      limits: { header_timeout_ms: HEADER_TIMEOUT_MS, max_body_bytes: 2 << 20 },
    });
  });
  after(async () => { await node?.stop(); });

  it('prints both listening lines, the plain one last', () => {
    assert.match(node.tlsUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(node.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(node.tlsPort, node.port);
    const logs = node.logs();
    assert.ok(logs.indexOf(`listening on ${node.tlsUrl}`) < logs.indexOf(`listening on ${node.url}`), logs);
  });

  it('delivers a published event to a wss:// /ws subscriber', async (t) => {
    const c = await wss(node);
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const acc = await publishOk(node, { topic: 'customer_id:c1:call:t1', event_type: 'call.status', data: { over: 'tls' } });
    const [ev] = await c.events(1);
    assert.equal(ev.id, acc.id);
    assert.deepEqual(ev.data, { over: 'tls' });
    // A clean close over TLS.
    const info = await c.close();
    assert.equal(info.code, 1000);
  });

  it('refuses a client that does not trust the certificate (verification is real)', async () => {
    await assert.rejects(
      connect(node, await hs256(ids.admin('c1')), { url: node.tlsWsUrl }),
      (e) => /self[- ]signed|unable to verify|certificate/i.test(e.message),
    );
    await assert.rejects(
      httpsRequest(`${node.tlsUrl}/healthz`, { ca: undefined }),
      (e) => /self[- ]signed|unable to verify|certificate/i.test(e.message),
    );
  });

  it('serves the publish API, health, readiness, metrics and pages over https://', async (t) => {
    const c = await wss(node);
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:message:*');
    const r = await httpsPublish(node, { topic: 'customer_id:c1:message:m1', event_type: 'message.created', data: { n: 1 } });
    assert.equal(r.status, 202, r.text);
    const [ev] = await c.events(1);
    assert.equal(ev.id, r.json.id);
    const unauth = await httpsRequest(`${node.tlsUrl}/api/v1/publish`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(unauth.status, 401);
    assert.equal((await httpsRequest(`${node.tlsUrl}/healthz`)).status, 200);
    assert.equal((await httpsRequest(`${node.tlsUrl}/readyz`)).status, 200);
    const m = await httpsRequest(`${node.tlsUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.text, /herald_tcp_connections/);
    const page = await httpsRequest(`${node.tlsUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
  });

  it('keeps an https keep-alive connection for several requests', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const sockets = new Set();
      for (let i = 0; i < 3; i++) {
        const r = await new Promise((resolve, reject) => {
          const req = https.get(`${node.tlsUrl}/healthz`, { agent }, (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', reject);
        });
        assert.equal(r, 200);
      }
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });

  it('streams SSE over https://', async () => {
    const token = await hs256({ sub: 'u1', tenant_id: 't1' });
    const stream = await new Promise((resolve, reject) => {
      const req = https.get(`${node.tlsUrl}/api/events/stream`, {
        ca, agent: false, headers: { authorization: `Bearer ${token}` },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        resolve({ res, req, text: () => body });
      });
      req.on('error', reject);
    });
    try {
      assert.equal(stream.res.statusCode, 200);
      assert.match(stream.res.headers['content-type'], /text\/event-stream/);
      // The stream is registered for deliveries just after its head: publish
      // until one arrives (bounded).
      const probe = `p-${process.pid}-${Date.now()}`;
      const deadline = Date.now() + 5000;
      while (!stream.text().includes(probe)) {
        assert.ok(Date.now() < deadline, `no SSE event over TLS; body: ${stream.text().slice(-300)}`);
        await publishOk(node, { event_type: 'tls.probe', broadcast: true, audience: { tenant_id: 't1' }, data: { probe } });
        await sleep(100);
      }
      assert.match(stream.text(), /^id: /m);
    } finally {
      stream.req.destroy();
    }
  });

  it('serves a channel endpoint over wss://', async (t) => {
    const c = await wss(node, ids.admin('c1'), '/api/v69/ws/monitor');
    t.after(() => c.close());
    const first = await c.next((m) => m.type === 'SERVER_STATUS_UPDATE', 3000, 'the status on connect');
    assert.equal(first.data.node, 'e2e');
    c.send({ type: 'get_maintenance_status', id: 'b' });
    assert.equal((await c.next((m) => m.id === 'b')).type, 'maintenance_status');
  });

  it('gives plain and TLS subscribers the same published event', async (t) => {
    const token = await hs256(ids.admin('c1'));
    const plain = await connect(node, token);
    const secure = await wss(node);
    t.after(() => Promise.all([plain.close(), secure.close()]));
    await plain.subscribe('customer_id:c1:call:*');
    await secure.subscribe('customer_id:c1:call:*');
    const r = await httpsPublish(node, { topic: 'customer_id:c1:call:both', event_type: 'call.status', data: { k: 'both' } });
    assert.equal(r.status, 202);
    const [a] = await plain.events(1);
    const [b] = await secure.events(1);
    assert.deepEqual(a, b);
    assert.equal(a.id, r.json.id);
  });

  it('carries a large burst over wss:// intact (gather writes coalesced into records)', async (t) => {
    const c = await wss(node);
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const big = 'x'.repeat(20_000);
    const events = Array.from({ length: 30 }, (_, i) => ({
      topic: 'customer_id:c1:call:burst', event_type: 'call.status', data: { i, big },
    }));
    const r = await httpsRequest(`${node.tlsUrl}/api/v1/publish/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ events }),
    });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.results.every((x) => x.status === 202), r.text.slice(0, 300));
    const got = await c.events(30, (m) => m.topic === 'customer_id:c1:call:burst', 10_000);
    assert.deepEqual(got.map((e) => e.data.i), events.map((e) => e.data.i));
    assert.ok(got.every((e) => e.data.big === big));
  });

  it('refuses plain HTTP on the TLS port cleanly and keeps serving', async () => {
    const answer = await new Promise((resolve, reject) => {
      const s = net.connect(node.tlsPort, '127.0.0.1');
      let data = '';
      s.setEncoding('utf8');
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('data', (d) => { data += d; });
      s.on('close', () => resolve(data));
      s.on('error', reject);
      setTimeout(() => { s.destroy(); reject(new Error(`still open; got ${data}`)); }, 5000);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /this port speaks TLS/);
    assert.equal((await httpsRequest(`${node.tlsUrl}/healthz`)).status, 200);
    assert.equal((await get(node, '/healthz')).status, 200);
    assert.equal(node.exitInfo(), null);
  });

  it('drops a client that connects to the TLS port and never handshakes, within the header timeout', async () => {
    const started = Date.now();
    const closedAfter = await new Promise((resolve, reject) => {
      const s = net.connect(node.tlsPort, '127.0.0.1');
      s.on('close', () => resolve(Date.now() - started));
      s.on('error', () => {});
      setTimeout(() => { s.destroy(); reject(new Error('not dropped within 5 s')); }, 5000);
    });
    assert.ok(closedAfter >= HEADER_TIMEOUT_MS - 200, `dropped after ${closedAfter} ms`);
    assert.ok(closedAfter < HEADER_TIMEOUT_MS + 1500, `dropped after ${closedAfter} ms`);
    // A half-done handshake (garbage after the TCP connect) is no better.
    const garbage = await new Promise((resolve) => {
      const s = net.connect(node.tlsPort, '127.0.0.1');
      s.on('connect', () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01])));
      s.on('close', () => resolve(true));
      s.on('error', () => {});
      setTimeout(() => { s.destroy(); resolve(false); }, 5000);
    });
    assert.ok(garbage, 'a stalled handshake was not dropped');
    assert.equal((await httpsRequest(`${node.tlsUrl}/healthz`)).status, 200);
  });
});

describe('limits over TLS', () => {
  it('counts TLS connections under limits.max_connections and tells the refused one over TLS', async (t) => {
    const n = await startNode({ listen: { tls: tlsConfig() }, limits: { max_connections: 2 } });
    t.after(() => n.stop());
    const a = await wss(n);
    const b = await connect(n, await hs256(ids.admin('c1')));
    t.after(() => Promise.all([a.close(), b.close()]));
    const r = await httpsRequest(`${n.tlsUrl}/healthz`);
    assert.equal(r.status, 503);
    assert.equal(r.json.code, 'OVERLOADED');
  });
});

describe('TLS only (listen.plain false)', () => {
  it('serves everything on the TLS port and opens no plain one', async (t) => {
    const n = await startNode({ listen: { plain: false, tls: tlsConfig() } });
    t.after(() => n.stop());
    assert.match(n.url, /^https:/);
    assert.doesNotMatch(n.logs(), /listening on http:\/\//);
    assert.equal((await httpsRequest(`${n.tlsUrl}/healthz`)).status, 200);
    const c = await wss(n);
    t.after(() => c.close());
    await c.subscribe('customer_id:c1:call:*');
    const r = await httpsPublish(n, { topic: 'customer_id:c1:call:only', event_type: 'call.status', data: {} });
    assert.equal(r.status, 202);
    const [ev] = await c.events(1);
    assert.equal(ev.id, r.json.id);
  });
});

describe('listen.tls.min_version 1.3', () => {
  it('refuses a TLS 1.2 client and serves a TLS 1.3 one', async (t) => {
    const n = await startNode({ listen: { tls: tlsConfig({ min_version: '1.3' }) } });
    t.after(() => n.stop());
    const handshake = (opts) => new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: n.tlsPort, ca, servername: 'localhost', ...opts }, () => {
        const v = s.getProtocol();
        s.end();
        resolve(v);
      });
      s.on('error', reject);
      setTimeout(() => { s.destroy(); reject(new Error('handshake timed out')); }, 5000);
    });
    await assert.rejects(handshake({ maxVersion: 'TLSv1.2' }), (e) => /version|alert|handshake/i.test(e.message));
    assert.equal(await handshake({ minVersion: 'TLSv1.3' }), 'TLSv1.3');
    assert.equal((await httpsRequest(`${n.tlsUrl}/healthz`)).status, 200);
    assert.match(n.logs(), /TLSv1\.3 or later/);
  });
});

describe('bad TLS configuration stops the node with the key named', () => {
  const refused = async (tlsOverrides, re, listen = {}) => {
    let err;
    try {
      const n = await startNode({ listen: { ...listen, tls: tlsConfig(tlsOverrides) } });
      await n.stop();
    } catch (e) { err = e; }
    assert.ok(err, 'the node started');
    assert.match(err.message, /exited before ready: \{"code":2/);
    assert.match(err.message, re);
  };

  it('a missing certificate file', async () => {
    await refused({ cert_file: join(dir, 'nope.pem') },
      /config: listen\.tls\.cert_file: cannot read .*nope\.pem: No such file/);
  });

  it('a certificate file that holds no certificate', async () => {
    const bad = join(dir, 'not-a-cert.pem');
    writeFileSync(bad, 'hello\n');
    await refused({ cert_file: bad }, /config: listen\.tls\.cert_file: .*not-a-cert\.pem holds no PEM certificate/);
  });

  it('a missing key file', async () => {
    await refused({ key_file: join(dir, 'nokey.pem') }, /config: listen\.tls\.key_file: cannot read .*nokey\.pem/);
  });

  it('a key file that holds no key', async () => {
    const bad = join(dir, 'bad-key.pem');
    writeFileSync(bad, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    await refused({ key_file: bad }, /config: listen\.tls\.key_file: .*bad-key\.pem holds no unencrypted PEM private key/);
  });

  it('a key that does not match the certificate', async () => {
    await refused({ key_file: otherKeyFile },
      /config: listen\.tls\.key_file: the key in .*other-key\.pem does not match the certificate/);
  });

  it('TLS on without a certificate, and a bad min_version', async () => {
    await refused({ cert_file: '' }, /config: listen\.tls\.cert_file: required when listen\.tls\.enabled/);
    await refused({ min_version: '1.1' }, /config: listen\.tls\.min_version: /);
  });

  it('listen.plain false without TLS', async () => {
    let err;
    try {
      const n = await startNode({ listen: { plain: false } });
      await n.stop();
    } catch (e) { err = e; }
    assert.ok(err, 'the node started');
    assert.match(err.message, /config: listen\.plain: false needs listen\.tls\.enabled/);
  });
});
