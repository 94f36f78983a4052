// The example page (examples/web/index.html), served by the node at GET /,
// driven in Debian's Chromium through playwright-core: connect, subscribe,
// see a published event arrive.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, hs256, ids, get, publishOk, SOURCE_DIR } from './lib/index.mjs';
import { launchChromium, skipWithoutChromium } from './lib/browser.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.stop(); });

describe('GET /', () => {
  it('serves the example page', async () => {
    const r = await get(node, '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    for (const id of ['token', 'connect', 'topic', 'subscribe', 'status', 'events']) {
      assert.match(r.text, new RegExp(`id="${id}"`), `#${id} missing`);
    }
  });

  it('is examples/web/index.html as it is in the tree', async () => {
    const file = readFileSync(join(SOURCE_DIR, 'examples', 'web', 'index.html'), 'utf8');
    const r = await get(node, '/');
    assert.equal(r.text, file, 'the embedded page differs from examples/web/index.html (rebuild?)');
  });

  it('loads nothing from elsewhere', () => {
    const file = readFileSync(join(SOURCE_DIR, 'examples', 'web', 'index.html'), 'utf8');
    assert.doesNotMatch(file, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(file, /@import|url\(\s*["']?https?:/i);
  });
});

describe('in Chromium', { skip: skipWithoutChromium }, () => {
  let context;
  let browser;
  before(async () => {
    browser = await launchChromium({ viewport: { width: 1280, height: 860 } });
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
    page.on('request', (req) => {
      const u = req.url();
      if (!u.startsWith(node.url) && !u.startsWith(node.wsUrl) && !u.startsWith('data:')) problems.push(`external request: ${u}`);
    });
    await page.goto(`${node.url}/?token=${encodeURIComponent(token)}`);
    return { page, problems };
  }

  it('connects, subscribes and shows a published event', { timeout: 60_000 }, async () => {
    const token = await hs256(ids.admin('c1'));
    const { page, problems } = await openPage(token);
    try {
      assert.equal(await page.inputValue('#token'), token, 'token not taken from ?token=');
      assert.equal(await page.inputValue('#url'), node.wsUrl, 'default URL is not this node\'s /ws');

      await page.click('#connect');
      await page.waitForSelector('#status[data-state="open"]');

      await page.fill('#topic', 'customer_id:c1:call:*');
      await page.click('#subscribe');
      await page.waitForSelector('#events li.ack');
      assert.match(await page.textContent('#events li.ack'), /customer_id:c1:call:\*/);

      await publishOk(node, {
        topic: 'customer_id:c1:call:web1', event_type: 'call.status', data: { status: 'ringing', from: '+15550100' },
      });
      const first = page.locator('#events li.event[data-topic="customer_id:c1:call:web1"]');
      await first.waitFor();
      const text = await first.textContent();
      assert.match(text, /call\.status/);
      assert.match(text, /ringing/);
      assert.match(text, /\+15550100/);
      assert.match(text, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/, 'timestamp not shown');

      // newest first
      await publishOk(node, { topic: 'customer_id:c1:call:web2', event_type: 'call.hangup', data: { cause: 'normal' } });
      await page.waitForSelector('#events li.event[data-topic="customer_id:c1:call:web2"]');
      assert.equal(await page.getAttribute('#events li.event >> nth=0', 'data-topic'), 'customer_id:c1:call:web2');

      // a refused subscribe shows its error frame
      await page.fill('#topic', 'customer_id:c2:call:*');
      await page.click('#subscribe');
      const err = page.locator('#events li.error[data-code="PERMISSION_DENIED"]');
      await err.waitFor();

      // events are rendered as text, never as markup
      await publishOk(node, { topic: 'customer_id:c1:call:web3', event_type: 'call.status', data: { note: '<img src=x onerror="window.__pwned=1">' } });
      await page.waitForSelector('#events li.event[data-topic="customer_id:c1:call:web3"]');
      assert.equal(await page.evaluate(() => window.__pwned), undefined, 'event data was rendered as HTML');
      assert.equal(await page.locator('#events img').count(), 0);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'example_page.png'), fullPage: true });

      await page.click('#disconnect');
      await page.waitForSelector('#status[data-state="closed"]');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('unsubscribe stops events in the page', { timeout: 30_000 }, async () => {
    const { page, problems } = await openPage(await hs256(ids.admin('c1')));
    try {
      await page.click('#connect');
      await page.waitForSelector('#status[data-state="open"]');
      await page.fill('#topic', 'customer_id:c1:message:*');
      await page.click('#subscribe');
      await page.waitForSelector('#events li.ack');
      await page.click('#unsubscribe');
      await page.waitForFunction(() => document.querySelectorAll('#events li.ack').length === 2);
      await publishOk(node, { topic: 'customer_id:c1:message:m1', event_type: 'message.created' });
      // subscribe something else and wait for its event: the first one must not be there
      await page.fill('#topic', 'customer_id:c1:queue:*');
      await page.click('#subscribe');
      await page.waitForFunction(() => document.querySelectorAll('#events li.ack').length === 3);
      await publishOk(node, { topic: 'customer_id:c1:queue:q1', event_type: 'queue.joined' });
      await page.waitForSelector('#events li.event[data-topic="customer_id:c1:queue:q1"]');
      await page.waitForTimeout(200);
      assert.equal(await page.locator('#events li.event[data-topic="customer_id:c1:message:m1"]').count(), 0);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('says so when the token is refused', { timeout: 30_000 }, async () => {
    const { page } = await openPage('not-a-token');
    try {
      await page.click('#connect');
      await page.waitForSelector('#status[data-state="closed"]');
      assert.match(await page.textContent('#status'), /could not connect|401|refused/i);
      assert.equal(await page.isDisabled('#connect'), false, 'Connect is not offered again');
    } finally {
      await page.close();
    }
  });
});
