// The web console (examples/web/console.html, docs/console.md), served by
// the admin listener at GET / and GET /console and driven in Debian's
// Chromium through playwright-core against a real node: the page lists the
// node's connections, sorts on the server, shows a failing service's
// breaker open and resets it, stops a connection, and asks for an admin
// token when the token it was given is not an admin's.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, connect, hs256, ids, waitFor, SOURCE_DIR } from './lib/index.mjs';
import { launchChromium, skipWithoutChromium } from './lib/browser.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const PATTERN = 'customer_id:c1:call:*';
// A user name that would run script if the page put names in as HTML.
const NASTY = '<img src=x onerror="window.__xss=1">';

let mode = 'fail';
let upstream;
let node;
let adminUrl;
let adminToken;
const clients = [];

/** The admin listener's address: the handle's, else the line the node printed. */
function adminUrlOf(n) {
  if (n.adminUrl) return n.adminUrl;
  const m = /admin console on (http:\/\/[\d.]+:\d+)/.exec(n.logs());
  if (!m) throw new Error(`no "admin console on" line in the node's output:\n${n.logs().slice(-2000)}`);
  return m[1];
}

async function adminGet(path, token = adminToken, init = {}) {
  const res = await fetch(`${adminUrl}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000), ...init,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

before(async () => {
  upstream = http.createServer((req, res) => { res.writeHead(mode === 'ok' ? 200 : 503); res.end(); });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  node = await startNode({
    admin: { port: 0 },
    services: [{ name: 'payments', layer: 'core',
      probe: { http: `http://127.0.0.1:${upstream.address().port}/health`, timeout_ms: 300 },
      // open_ms long: once open, only a reset closes the breaker within the test.
      interval_ms: 100, breaker: { failure_threshold: 2, open_ms: 120_000 } }],
  });
  adminUrl = adminUrlOf(node);
  adminToken = await hs256({ sub: 'ops', roles: ['admin'] });
  for (const sub of ['alice', 'bob', NASTY]) {
    const c = await connect(node, await hs256(ids.manager('c1', { sub })));
    await c.subscribe([PATTERN]);
    clients.push(c);
  }
});
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await node?.stop();
  upstream?.closeAllConnections?.();
  if (upstream) await new Promise((r) => upstream.close(r));
});

describe('GET / and GET /console on the admin port', () => {
  it('are examples/web/console.html as it is in the tree, loading nothing from elsewhere', async () => {
    const file = readFileSync(join(SOURCE_DIR, 'examples', 'web', 'console.html'), 'utf8');
    assert.doesNotMatch(file, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    for (const path of ['/', '/console']) {
      const r = await adminGet(path, null);
      assert.equal(r.status, 200, `GET ${path} without a token`);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      // (not assert.equal: a difference would print both 30 kB pages)
      assert.ok(r.text === file, `the page at ${path} differs from examples/web/console.html (rebuild?)`);
    }
  });
});

describe('the console in Chromium', { skip: skipWithoutChromium }, () => {
  let context;
  let browser;
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    ({ context } = browser);
  });
  after(async () => {
    await browser?.close();
  });

  async function openPage(token) {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const requests = [];
    page.on('request', (r) => requests.push({ method: r.method(), url: r.url(), request: r }));
    await page.goto(token === null ? `${adminUrl}/` : `${adminUrl}/?token=${encodeURIComponent(token)}`);
    return { page, problems, requests };
  }
  const actorsRequests = (requests) => requests.filter((r) => new URL(r.url).pathname === '/admin/v1/actors');

  it('shows the node, its connections, the tree, topics and the breakers live, and acts on them', { timeout: 90_000 }, async () => {
    const { page, problems, requests } = await openPage(adminToken);
    try {
      // The token leaves the address bar and goes as a bearer header.
      await page.waitForSelector('#status[data-state="live"]');
      assert.doesNotMatch(page.url(), /token=/);
      const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/admin/v1/'));
      assert.ok(api.length > 0);
      for (const r of api) {
        assert.equal((await r.request.allHeaders()).authorization, `Bearer ${adminToken}`, `${r.url} carries the bearer token`);
        assert.doesNotMatch(r.url, /token=/);
      }
      await page.waitForSelector('#nodes .nodecard[data-node="e2e"]');
      await page.waitForSelector('#f-node option[value="e2e"]', { state: 'attached' });
      await page.waitForSelector('#tree li[data-kind="supervisor"]');
      await page.waitForFunction(() => document.querySelector('#cluster').textContent.includes('e2e'));
      assert.equal(await page.getAttribute('#banner-missing', 'data-on'), 'false');

      // Actors: server-side paging, 10 a page (the node has more actors than that).
      await page.selectOption('#f-limit', '10');
      await page.waitForSelector('#actors[data-query*="limit=10"][data-query*="offset=0"]');
      const total = Number(await page.getAttribute('#actors', 'data-total'));
      assert.ok(total > 10, `only ${total} actors`);
      assert.equal(await page.$$eval('#actors tbody tr[data-id]', (r) => r.length), 10);
      assert.equal(await page.textContent('#page'), `1–10 of ${total}`);
      assert.equal(await page.isDisabled('#prev'), true);
      const first = await page.$$eval('#actors tbody tr[data-id]', (rows) => rows.map((r) => `${r.dataset.node}/${r.dataset.id}`));
      await page.click('#next');
      await page.waitForSelector('#actors[data-query*="offset=10"]');
      await page.waitForFunction(() => !document.querySelector('#prev').disabled);
      const second = await page.$$eval('#actors tbody tr[data-id]', (rows) => rows.map((r) => `${r.dataset.node}/${r.dataset.id}`));
      assert.equal(second.length, Math.min(10, total - 10));
      assert.ok(second.every((k) => !first.includes(k)), 'the second page holds other actors');
      await page.click('#prev');
      await page.waitForSelector('#actors[data-query*="offset=0"]');
      await page.selectOption('#f-limit', '25');

      // The kind filter goes to the server and lists exactly our connections.
      await page.selectOption('#f-kind', 'connection');
      await page.waitForSelector('#actors[data-query*="kind=connection"][data-total="3"]');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#actors tbody tr[data-id]')];
        return rows.length === 3 && rows.every((r) => r.dataset.kind === 'connection' && r.dataset.node === 'e2e');
      });
      const direct = await adminGet('/admin/v1/actors?kind=connection');
      assert.equal(direct.status, 200);
      assert.equal(direct.json.total, 3);
      const shown = await page.$$eval('#actors tbody tr[data-id]', (rows) => rows.map((r) => Number(r.dataset.id)).sort((a, b) => a - b));
      assert.deepEqual(shown, direct.json.items.map((a) => a.id).sort((a, b) => a - b));
      if (direct.json.items.some((a) => a.name.includes(NASTY))) {
        assert.ok((await page.textContent('#actors tbody')).includes(NASTY), 'a name is shown as text');
      }

      // Sorting is a server query: a click on mailbox asks for sort=mailbox, desc first.
      const before = actorsRequests(requests).length;
      await page.click('#actors th[data-sort="mailbox"]');
      await page.waitForSelector('#actors th[data-sort="mailbox"][aria-sort="descending"]');
      await page.waitForSelector('#actors[data-query*="sort=mailbox"][data-query*="order=desc"]');
      const sorted = actorsRequests(requests).slice(before).map((r) => new URL(r.url).searchParams);
      assert.ok(sorted.some((p) => p.get('sort') === 'mailbox' && p.get('order') === 'desc' && p.get('kind') === 'connection'),
        `no /actors request with sort=mailbox: ${sorted.map(String).join(' | ')}`);
      await page.click('#actors th[data-sort="mailbox"]');
      await page.waitForSelector('#actors[data-query*="sort=mailbox"][data-query*="order=asc"]');
      await page.waitForSelector('#actors th[data-sort="mailbox"][aria-sort="ascending"]');

      // Topics: our three connections hold one pattern.
      await page.waitForFunction((p) => {
        const row = [...document.querySelectorAll('#topics tbody tr[data-pattern]')].find((r) => r.dataset.pattern === p);
        return row && row.cells[2].textContent.trim() === '3';
      }, PATTERN);

      // The failing upstream: its breaker shows open and highlighted.
      await page.waitForSelector('#services tr[data-service="payments"][data-node="e2e"][data-state="open"]');
      const bg = await page.$eval('#services tr[data-service="payments"]', (r) => getComputedStyle(r).backgroundColor);
      assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'an open breaker is highlighted');

      // Maintenance set through the API shows as a banner (its message as text), then goes.
      const on = await adminGet('/admin/v1/maintenance', adminToken, { method: 'POST',
        body: JSON.stringify({ enabled: true, message: 'db <b>upgrade</b>', expected_end: '2026-12-02T12:00:00Z' }) });
      assert.equal(on.status, 200, on.text);
      await page.waitForSelector('#banner-maintenance[data-on="true"]');
      assert.equal(await page.textContent('#banner-maintenance'),
        'Maintenance on e2e: db <b>upgrade</b> · until 2026-12-02T12:00:00Z (set by ops)');
      const off = await adminGet('/admin/v1/maintenance', adminToken, { method: 'POST', body: JSON.stringify({ enabled: false }) });
      assert.equal(off.status, 200, off.text);
      await page.waitForSelector('#banner-maintenance[data-on="false"]', { state: 'attached' });

      // Pausing stops the refresh; resuming starts it again.
      await page.click('#pause');
      await page.waitForSelector('#status[data-state="paused"]');
      await page.waitForTimeout(300); // a refresh already in flight lands
      const paused = requests.length;
      await page.waitForTimeout(2200);
      assert.equal(requests.length, paused, 'no request while paused');
      await page.click('#pause');
      await page.waitForSelector('#status[data-state="live"]');

      await page.screenshot({ path: join(ARTIFACTS, 'console_page.png'), fullPage: true });

      // Reset: the upstream is back, but only a reset closes a breaker open for 120 s.
      mode = 'ok';
      const posted = page.waitForRequest((r) => r.method() === 'POST'
        && new URL(r.url()).pathname === '/admin/v1/services/payments/reset');
      await page.click('button[data-reset="payments"]');
      await posted;
      await page.waitForSelector('#reset-result[data-ok="true"]');
      assert.match(await page.textContent('#reset-result'), /payments on e2e: breaker reset/);
      await page.waitForSelector('#services tr[data-service="payments"][data-state="closed"]');

      // Detail of a connection, and Stop with a reason.
      await page.click('#actors tbody tr[data-kind="connection"]');
      await page.waitForSelector('#detail[data-kind="connection"]');
      const id = Number(await page.getAttribute('#detail', 'data-id'));
      const one = await adminGet(`/admin/v1/actors/e2e/${id}`);
      assert.equal(one.status, 200);
      assert.equal(one.json.kind, 'connection');
      const sub = one.json.detail?.user ?? one.json.detail?.claims?.sub;
      assert.ok(['alice', 'bob', NASTY].includes(sub), `detail.user of a connection: ${JSON.stringify(one.json.detail)}`);
      await page.waitForFunction((s) => document.querySelector('#detail-body').textContent.includes(s), sub);
      assert.ok((await page.textContent('#detail-body')).includes(PATTERN), 'the subscriptions are shown');
      await page.screenshot({ path: join(ARTIFACTS, 'console_page_detail.png') });
      page.once('dialog', (d) => d.accept('e2e maintenance'));
      await page.click('#stop');
      await page.waitForSelector('#stop-result[data-ok="true"]');
      const closes = await waitFor(() => {
        const c = clients.find((x) => x.closeInfo);
        return c?.closeInfo;
      }, { timeoutMs: 5000, message: 'a connection closed by the stop' });
      assert.equal(closes.code, 1008);
      assert.equal(closes.reason, 'stopped by admin: e2e maintenance');
      await page.waitForSelector('#actors[data-total="2"]');
      await page.waitForSelector('#detail[data-gone="true"]');

      // Nothing a user named ran as markup.
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.$$eval('img', (x) => x.length), 0);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('asks for an admin token when the token is not an admin’s, or missing', { timeout: 30_000 }, async () => {
    const user = await hs256(ids.manager('c1', { sub: 'carol' }));
    for (const [token, status, words] of [[user, '403', /not an admin/], [null, '401', /admin token is needed/]]) {
      const { page, problems } = await openPage(token);
      try {
        await page.waitForSelector(`#denied[data-status="${status}"]`);
        assert.match(await page.textContent('#denied'), words);
        assert.match(await page.textContent('#denied'), /roles hold admin/);
        assert.equal(await page.isVisible('#console'), false);
        await page.waitForSelector('#status[data-state="denied"]');
        if (status === '403') await page.screenshot({ path: join(ARTIFACTS, 'console_page_denied.png') });
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    }
  });
});
