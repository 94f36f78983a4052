// The health page (examples/web/health.html), served at GET /health and
// driven in Debian's Chromium through playwright-core: it shows the node,
// layers and services live from the monitor and circuit-breaker endpoints,
// follows an upstream that fails and recovers, and shows maintenance.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, connect, hs256, ids, get, SOURCE_DIR } from './lib/index.mjs';
import { launchChromium, skipWithoutChromium } from './lib/browser.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let mode = 'ok';
let upstream;
let node;

before(async () => {
  upstream = http.createServer((req, res) => { res.writeHead(mode === 'ok' ? 200 : 503); res.end(); });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  node = await startNode({
    services: [{ name: 'payments', layer: 'core',
      probe: { http: `http://127.0.0.1:${upstream.address().port}/health`, timeout_ms: 300 },
      interval_ms: 100, breaker: { failure_threshold: 2, open_ms: 400 } }],
    channels: { monitor: { status_interval_ms: 300 } },
  });
});
after(async () => {
  await node?.stop();
  upstream?.closeAllConnections?.();
  await new Promise((r) => upstream.close(r));
});

describe('GET /health', () => {
  it('is examples/web/health.html as it is in the tree, loading nothing from elsewhere', async () => {
    const file = readFileSync(join(SOURCE_DIR, 'examples', 'web', 'health.html'), 'utf8');
    const r = await get(node, '/health');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(r.text, file, 'the embedded page differs from examples/web/health.html (rebuild?)');
    assert.doesNotMatch(file, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
  });
});

describe('the health page in Chromium', { skip: skipWithoutChromium }, () => {
  let context;
  let browser;
  before(async () => {
    browser = await launchChromium();
    ({ context } = browser);
  });
  after(async () => {
    await browser?.close();
  });

  it('shows services, layers, alerts and maintenance live', { timeout: 60_000 }, async () => {
    const token = await hs256(ids.admin('c1'));
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    try {
      await page.goto(`${node.url}/health?token=${encodeURIComponent(token)}`);
      await page.waitForSelector('#services tr[data-service="payments"][data-state="closed"]');
      await page.waitForSelector('#services tr[data-service="monitor"]');
      await page.waitForSelector('#layers tr[data-layer="core"][data-status="healthy"]');
      await page.waitForFunction(() => document.querySelector('#node').textContent.includes('e2e'));

      mode = 'fail';
      await page.waitForSelector('#services tr[data-service="payments"][data-state="open"]');
      await page.waitForSelector('#layers tr[data-layer="core"][data-status="down"]');
      await page.waitForFunction(() => document.querySelector('#alerts').textContent.includes('payments'));

      const admin = await connect(node, token, { url: `${node.url.replace('http', 'ws')}/api/v69/ws/monitor` });
      admin.send({ type: 'set_maintenance', on: true, message: 'payments upgrade', expected_end: '2026-11-24T03:00:00Z' });
      await page.waitForSelector('#maintenance[data-on="true"]');
      assert.match(await page.textContent('#maintenance'), /payments upgrade/);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'health_page.png'), fullPage: true });

      mode = 'ok';
      await page.waitForSelector('#services tr[data-service="payments"][data-state="closed"]', { timeout: 5000 });
      admin.send({ type: 'set_maintenance', on: false });
      await page.waitForSelector('#maintenance[data-on="false"]', { state: 'attached' });
      await admin.close();
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
