// PROTOCOL §5 in a real browser: Debian's Chromium (through playwright-core)
// opens `new EventSource('/api/events/stream?token=...')` on the node's own
// origin, receives published events, and comes back after a drop with
// Last-Event-ID (the browser's own reconnect, through a proxy the test can
// cut) or ?last_event_id= (a fresh EventSource), losing nothing.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, hs256, publishOk, uniq } from './lib/index.mjs';
import { STREAM_PATH, streamPath } from './lib/sse.mjs';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

const CLAIMS = { sub: 'u1', tenant_id: 't1', org_id: 'o1', roles: ['r1'] };

function bcast(node, eventType, data, extra = {}) {
  return publishOk(node, { event_type: eventType, broadcast: true, audience: { tenant_id: 't1' }, data, ...extra });
}

/**
 * A pass-through HTTP proxy in front of the node, so that the page's origin
 * is one whose streams the test can drop (cut()) to make the browser's
 * EventSource reconnect by itself. Records every stream request's headers.
 */
function startProxy(target) {
  const streams = new Set();
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const isStream = req.url.startsWith(STREAM_PATH);
    if (isStream) requests.push({ url: req.url, headers: { ...req.headers }, at: Date.now() });
    const up = http.request({
      host: target.address, port: target.port, path: req.url, method: req.method, headers: req.headers, agent: false,
    }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      res.flushHeaders(); // a stream's head must not wait for its first event
      ur.pipe(res);
      if (isStream && ur.statusCode === 200) {
        const entry = { ur, res, up };
        streams.add(entry);
        res.on('close', () => streams.delete(entry));
      }
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        get openStreams() { return streams.size; },
        /** Ends every proxied stream cleanly (the last chunk), as a
         * restarting load balancer would. */
        cut() {
          for (const e of [...streams]) {
            e.ur.unpipe(e.res);
            e.up.destroy();
            e.res.end();
          }
          streams.clear();
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

describe('SSE in Chromium', { skip: !haveChromium && `${CHROMIUM} is not installed: skipping the browser tests` }, () => {
  let node;
  let proxy;
  let context;
  let userDataDir;
  before(async () => {
    node = await startNode();
    proxy = await startProxy(node);
    const { chromium } = await import('playwright-core');
    userDataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-chromium-sse-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await context?.close().catch(() => {});
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await proxy?.close();
    await node?.stop();
  });

  /** A page on `origin` with window.__open(url) recording into window.__sse. */
  async function openPage(origin) {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${origin}/healthz`);
    await page.evaluate(() => {
      window.__sse = { msgs: [], recov: [], opens: 0, errors: 0 };
      window.__open = (url) => {
        if (window.__es) window.__es.close();
        const es = new EventSource(url);
        window.__es = es;
        es.onopen = () => { window.__sse.opens += 1; };
        es.onerror = () => { window.__sse.errors += 1; };
        es.onmessage = (e) => { window.__sse.msgs.push({ id: e.lastEventId, data: e.data }); };
        es.addEventListener('herald.recovery', (e) => { window.__sse.recov.push(e.data); });
      };
    });
    return { page, problems };
  }

  const state = (page) => page.evaluate(() => JSON.stringify({
    opens: window.__sse.opens, errors: window.__sse.errors, recov: window.__sse.recov,
    readyState: window.__es?.readyState, last: window.__sse.msgs.slice(-3),
  })).catch((e) => `(page gone: ${e.message})`);
  /** page.waitForFunction, failing with the page's SSE state. */
  async function waitPage(page, what, fn, arg, timeout = 10_000) {
    try {
      await page.waitForFunction(fn, arg, { timeout });
    } catch (e) {
      throw new Error(`timed out waiting for ${what}; page state: ${await state(page)}`);
    }
  }
  const waitOpens = (page, n, timeout) => waitPage(page, `open #${n}`, (k) => window.__sse.opens >= k, n, timeout);
  const waitRun = (page, run, n, timeout) => waitPage(page, `${n} events of the run`, ([r, k]) => window.__sse.msgs
    .filter((m) => JSON.parse(m.data).payload?.run === r).length >= k, [run, n], timeout);
  /** Publishes probes until the page has one: the stream is live (the
   * node answers the head before registering the stream; see sse.test.mjs
   * "a fresh stream"). */
  async function settlePage(page, eventType = 'zz.probe') {
    const probe = uniq('probe-');
    const deadline = Date.now() + 5000;
    for (;;) {
      await bcast(node, eventType, { probe });
      try {
        await page.waitForFunction((p) => window.__sse.msgs.some((m) => JSON.parse(m.data).payload?.probe === p),
          probe, { timeout: 100 });
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`no probe reached the page; state: ${await state(page)}`);
      }
    }
  }
  const ofRun = (page, run) => page.evaluate((r) => window.__sse.msgs
    .map((m) => ({ ...JSON.parse(m.data), pos: m.id }))
    .filter((m) => m.payload?.run === r), run);

  it('receives published events, filtered by ?pattern=, with their ids', { timeout: 60_000 }, async () => {
    const token = await hs256(CLAIMS);
    const { page, problems } = await openPage(node.url);
    try {
      await page.evaluate((u) => window.__open(u), streamPath({ token, patterns: ['sales.*'] }));
      await waitOpens(page, 1);
      await settlePage(page, 'sales.probe');
      const run = uniq();
      await bcast(node, 'sales.order', { run, n: 0 }, { trace: { trace_id: 'tr1' } });
      await bcast(node, 'crm.lead', { run, n: 1 });
      await bcast(node, 'sales.invoice', { run, n: 2 }, { audience: { tenant_id: 't1', org_ids: ['o1'] } });
      await bcast(node, 'sales.secret', { run, n: 3 }, { audience: { tenant_id: 't1', user_ids: ['u9'] } });
      await bcast(node, 'sales.end', { run, n: 4 });
      await waitRun(page, run, 3);
      await page.waitForTimeout(150);
      const got = await ofRun(page, run);
      assert.deepEqual(got.map((m) => m.payload.n), [0, 2, 4]);
      assert.deepEqual(got.map((m) => m.pos.length > 0), [true, true, true], 'lastEventId empty: no id: line');
      assert.deepEqual(got.map((m) => m.id), ['sales.order', 'sales.invoice', 'sales.end']);
      assert.deepEqual(got[0].payload, { run, n: 0 });
      assert.equal(got[0].organizationId, '');
      assert.deepEqual(got[0].trace, { trace_id: 'tr1' });
      assert.equal(got[1].organizationId, 'o1');
      assert.equal(new Set(got.map((m) => m.pos)).size, 3);
      assert.equal(await page.evaluate(() => window.__es.readyState), 1);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('a new EventSource with ?last_event_id= gets what it missed, then live', { timeout: 60_000 }, async () => {
    const token = await hs256(CLAIMS);
    const { page } = await openPage(node.url);
    try {
      await page.evaluate((u) => window.__open(u), streamPath({ token }));
      await waitOpens(page, 1);
      await settlePage(page);
      const run = uniq();
      for (let n = 0; n < 3; n++) await bcast(node, 'page.x', { run, n });
      await waitRun(page, run, 3);
      const last = (await ofRun(page, run))[2].pos;
      await page.evaluate(() => { window.__es.close(); window.__sse.msgs = []; });
      for (let n = 3; n < 23; n++) await bcast(node, 'page.x', { run, n });
      await page.evaluate((u) => window.__open(u), streamPath({ token, lastEventId: last }));
      await waitOpens(page, 2);
      await waitRun(page, run, 20);
      for (let n = 23; n < 25; n++) await bcast(node, 'page.x', { run, n });
      await waitRun(page, run, 22);
      await page.waitForTimeout(150);
      assert.deepEqual((await ofRun(page, run)).map((m) => m.payload.n), Array.from({ length: 22 }, (_, i) => i + 3));
      assert.deepEqual(await page.evaluate(() => window.__sse.recov), []);
    } finally {
      await page.close();
    }
  });

  it('the browser\'s own reconnect sends Last-Event-ID and loses nothing', { timeout: 60_000 }, async () => {
    const token = await hs256(CLAIMS);
    const { page, problems } = await openPage(proxy.url);
    try {
      const before = proxy.requests.length;
      await page.evaluate((u) => window.__open(u), streamPath({ token }));
      await waitOpens(page, 1);
      await settlePage(page);
      const run = uniq();
      for (let n = 0; n < 3; n++) await bcast(node, 'drop.x', { run, n });
      await waitRun(page, run, 3);
      const last = (await ofRun(page, run))[2].pos;
      proxy.cut();
      await waitPage(page, 'the error of the drop', () => window.__sse.errors >= 1);
      // the browser waits its reconnection time (about 3 s) before coming back
      for (let n = 3; n < 43; n++) await bcast(node, 'drop.x', { run, n });
      await waitOpens(page, 2, 15_000);
      const reconnect = proxy.requests.slice(before)[1];
      assert.ok(reconnect, 'no second stream request reached the proxy');
      assert.equal(reconnect.headers['last-event-id'], last, 'Chromium did not send the last id as Last-Event-ID');
      await waitRun(page, run, 43);
      for (let n = 43; n < 45; n++) await bcast(node, 'drop.x', { run, n });
      await waitRun(page, run, 45);
      await page.waitForTimeout(150);
      assert.deepEqual((await ofRun(page, run)).map((m) => m.payload.n), Array.from({ length: 45 }, (_, i) => i));
      assert.deepEqual(await page.evaluate(() => window.__sse.recov), []);
      assert.deepEqual(problems, []);
    } finally {
      await page.evaluate(() => window.__es?.close()).catch(() => {});
      await page.close();
    }
  });

  it('an id the node cannot replay from: the page hears herald.recovery, then live events', { timeout: 60_000 }, async () => {
    const token = await hs256(CLAIMS);
    const { page } = await openPage(node.url);
    try {
      await page.evaluate((u) => window.__open(u), streamPath({ token, lastEventId: 'gone-42' }));
      await waitOpens(page, 1);
      await page.waitForFunction(() => window.__sse.recov.length >= 1);
      assert.deepEqual((await page.evaluate(() => window.__sse.recov)).map((d) => JSON.parse(d)), [{ recovered: false }]);
      const run = uniq();
      await bcast(node, 'rec.x', { run, n: 0 });
      await waitRun(page, run, 1);
    } finally {
      await page.close();
    }
  });

  it('a refused token: EventSource fails and does not retry', { timeout: 30_000 }, async () => {
    const { page } = await openPage(node.url);
    try {
      const noTenant = await hs256({ sub: 'u1' });
      await page.evaluate((u) => window.__open(u), streamPath({ token: noTenant }));
      await page.waitForFunction(() => window.__sse.errors >= 1 && window.__es.readyState === 2);
      assert.equal(await page.evaluate(() => window.__sse.opens), 0);
    } finally {
      await page.close();
    }
  });
});
