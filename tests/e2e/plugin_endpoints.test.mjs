// docs/endpoints.md: the four endpoints the stock plugins serve
// (market-data, token-data, system-settings, notifications), loaded by a
// real node from plugins.load, driven by real WebSocket clients and fed by
// the publish API; every message of the seed, the admin-only refusals and
// the error frames for bad input.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, connect, hs256, ids, publishOk, publishBatch, sleep, stockPlugins } from './lib/index.mjs';


let node;
const url = (name) => `${node.url.replace('http', 'ws')}/api/v69/ws/${name}`;
const open = async (name, claims) => connect(node, claims ? await hs256(claims) : null, { url: url(name) });
const ofType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const quiet = async (c, pred, ms = 300) => {
  await sleep(ms);
  assert.deepEqual(c.peek(pred), [], 'nothing more expected');
};
const user = (sub, roles = []) => ({ sub, roles });

before(async () => {
  node = await startNode({ plugins: { load: stockPlugins() } });
});
after(async () => { await node?.stop(); });

describe('market-data and token-data', () => {
  it('are public: no token needed, a bad one still refused', async () => {
    const c = await open('market-data');
    await c.close();
    await assert.rejects(connect(node, 'not-a-token', { url: url('token-data') }),
      (e) => e.statusCode === 401);
  });

  it('push MARKET_PRICE, MARKET_VOLUME, MARKET_SENTIMENT and token_update for held symbols only', async (t) => {
    const a = await open('market-data');
    const b = await open('token-data', user('u7'));
    t.after(() => { a.close(); b.close(); });
    a.send({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['SOL', 'BTC'], id: 's1' });
    const ack = await a.next(ofType('SUBSCRIBED'));
    assert.equal(ack.id, 's1');
    assert.deepEqual(ack.data.symbols, ['BTC', 'SOL']);
    b.send({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['SOL'] });
    await b.next(ofType('SUBSCRIBED'));
    await sleep(100); // the subscriptions reach the router

    await publishOk(node, { topic: 'market:price:SOL', event_type: 'market.price', data: { price: 142.5, change_24h: -1.2 } });
    await publishOk(node, { topic: 'market:volume:BTC', event_type: 'market.volume', data: { volume_24h: 1e9 } });
    await publishOk(node, { topic: 'market:sentiment:SOL', event_type: 'market.sentiment', data: { score: 0.7 } });
    await publishOk(node, { topic: 'token:update:SOL', event_type: 'token.update', data: { name: 'Solana', decimals: 9 } });
    await publishOk(node, { topic: 'market:price:ETH', event_type: 'market.price', data: { price: 3000 } });

    const price = await a.next(ofType('MARKET_PRICE'));
    assert.deepEqual(price.data, { price: 142.5, change_24h: -1.2, symbol: 'SOL' });
    assert.match(price.timestamp, /Z$/);
    assert.equal((await a.next(ofType('MARKET_VOLUME'))).data.symbol, 'BTC');
    assert.equal((await a.next(ofType('MARKET_SENTIMENT'))).data.score, 0.7);
    assert.equal((await a.next(ofType('token_update'))).data.name, 'Solana');
    assert.equal((await b.next(ofType('MARKET_PRICE'))).data.price, 142.5);
    assert.equal((await b.next(ofType('token_update'))).data.decimals, 9);
    await quiet(a, (m) => m.data?.symbol === 'ETH');
    await quiet(b, ofType('MARKET_VOLUME'));

    // A new holder gets the last known values at once.
    const late = await open('market-data');
    t.after(() => late.close());
    late.send({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['SOL'] });
    await late.next(ofType('SUBSCRIBED'));
    assert.equal((await late.next(ofType('MARKET_PRICE'))).data.price, 142.5);

    a.send({ type: 'UNSUBSCRIBE_SYMBOLS', symbols: ['SOL'], id: 'u1' });
    const un = await a.next(ofType('UNSUBSCRIBED'));
    assert.deepEqual(un.data, { symbols: ['BTC'], changed: ['SOL'] });
    await publishOk(node, { topic: 'market:price:SOL', event_type: 'market.price', data: { price: 150 } });
    assert.equal((await b.next(ofType('MARKET_PRICE'))).data.price, 150);
    await quiet(a, ofType('MARKET_PRICE'));
  });

  it('answer ERROR frames for bad requests and keep the connection', async (t) => {
    const c = await open('market-data');
    t.after(() => c.close());
    const err = async (frame, code, re) => {
      c.send(frame);
      const m = await c.next(ofType('ERROR'));
      assert.equal(m.data.code, code, JSON.stringify(m));
      if (re) assert.match(m.data.message, re);
      return m;
    };
    await err({ type: 'BUY_EVERYTHING', id: 'x1' }, 'INVALID_MESSAGE', /unknown message type/);
    await err({ type: 'SUBSCRIBE_SYMBOLS' }, 'INVALID_MESSAGE', /symbols/);
    await err({ type: 'SUBSCRIBE_SYMBOLS', symbols: [] }, 'INVALID_MESSAGE');
    await err({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['SO L'] }, 'INVALID_MESSAGE', /bad symbol/);
    await err({ type: 'SUBSCRIBE_SYMBOLS', symbols: [7] }, 'INVALID_MESSAGE');
    await err({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['A', 'B', 'C', 'D'] }, 'LIMIT_EXCEEDED', /at most 3/);
    c.send('{not json');
    assert.equal((await c.next(ofType('ERROR'))).data.code, 'INVALID_MESSAGE');
    c.send({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['A', 'B', 'C'] });
    assert.equal((await c.next(ofType('SUBSCRIBED'))).data.symbols.length, 3);
    await err({ type: 'SUBSCRIBE_SYMBOLS', symbols: ['D'] }, 'LIMIT_EXCEEDED');
  });
});

describe('system-settings', () => {
  it('needs a token', async () => {
    await assert.rejects(open('system-settings'), (e) => e.statusCode === 401);
  });

  it('reads all settings, one, and a category; NOT_FOUND for a missing key', async (t) => {
    const c = await open('system-settings', user('reader'));
    t.after(() => c.close());
    c.send({ type: 'get_all_settings', id: 'g1' });
    const all = await c.next(ofType('all_settings'));
    assert.equal(all.id, 'g1');
    assert.deepEqual(all.data.settings.map((s) => s.key), ['limits.max_upload_mb', 'ui.banner', 'ui.theme']);
    const theme = all.data.settings.find((s) => s.key === 'ui.theme');
    assert.equal(theme.value, 'dark');
    assert.equal(theme.category, 'ui');
    assert.equal(theme.description, 'colour scheme');
    c.send({ type: 'get_setting', key: 'limits.max_upload_mb' });
    assert.equal((await c.next(ofType('setting'))).data.value, 25);
    c.send({ type: 'get_category_settings', category: 'ui' });
    const ui = await c.next(ofType('category_settings'));
    assert.equal(ui.data.category, 'ui');
    assert.deepEqual(ui.data.settings.map((s) => s.key), ['ui.banner', 'ui.theme']);
    c.send({ type: 'get_setting', key: 'no.such', id: 'n1' });
    const nf = await c.next(ofType('error'));
    assert.equal(nf.data.code, 'NOT_FOUND');
    assert.equal(nf.id, 'n1');
  });

  it('lets admins alone update, and pushes setting_update by key and by category', async (t) => {
    const byKey = await open('system-settings', user('k'));
    const byCat = await open('system-settings', user('g'));
    const neither = await open('system-settings', user('n'));
    const admin = await open('system-settings', ids.admin('c1'));
    t.after(() => { for (const c of [byKey, byCat, neither, admin]) c.close(); });
    byKey.send({ type: 'subscribe_setting', key: 'ui.theme', id: 'k1' });
    assert.deepEqual((await byKey.next(ofType('subscribed'))).data, { key: 'ui.theme' });
    byCat.send({ type: 'subscribe_category', category: 'ui' });
    assert.deepEqual((await byCat.next(ofType('subscribed'))).data, { category: 'ui' });
    neither.send({ type: 'subscribe_setting', key: 'limits.max_upload_mb' });
    await neither.next(ofType('subscribed'));

    byKey.send({ type: 'update_setting', key: 'ui.theme', value: 'light', id: 'no' });
    const denied = await byKey.next(ofType('error'));
    assert.equal(denied.data.code, 'PERMISSION_DENIED');
    assert.equal(denied.data.request, 'update_setting');

    admin.send({ type: 'update_setting', key: 'ui.theme', value: 'light', id: 'up1' });
    const done = await admin.next(ofType('setting'));
    assert.equal(done.id, 'up1');
    assert.equal(done.data.value, 'light');
    assert.equal(done.data.category, 'ui');
    assert.equal(done.data.description, 'colour scheme');
    assert.equal(done.data.updated_by, 'u1');
    assert.equal((await byKey.next(ofType('setting_update'))).data.value, 'light');
    assert.equal((await byCat.next(ofType('setting_update'))).data.key, 'ui.theme');
    await quiet(neither, ofType('setting_update'));

    // A new key, in a new category, with any JSON value.
    admin.send({ type: 'update_setting', key: 'feature.flags', category: 'features', value: { beta: true } });
    assert.deepEqual((await admin.next(ofType('setting'))).data.value, { beta: true });
    neither.send({ type: 'get_setting', key: 'feature.flags' });
    assert.equal((await neither.next(ofType('setting'))).data.category, 'features');

    byCat.send({ type: 'unsubscribe_category', category: 'ui' });
    await byCat.next(ofType('unsubscribed'));
    byKey.send({ type: 'unsubscribe_setting', key: 'ui.theme' });
    await byKey.next(ofType('unsubscribed'));
    admin.send({ type: 'update_setting', key: 'ui.theme', value: 'dark' });
    await admin.next(ofType('setting'));
    await quiet(byKey, ofType('setting_update'));
    await quiet(byCat, ofType('setting_update'), 50);
  });

  it('answers error frames for bad input', async (t) => {
    const admin = await open('system-settings', ids.admin('c1'));
    t.after(() => admin.close());
    const bad = async (frame, code = 'INVALID_MESSAGE') => {
      admin.send(frame);
      const m = await admin.next(ofType('error'));
      assert.equal(m.data.code, code, JSON.stringify(frame));
    };
    await bad({ type: 'get_setting' });
    await bad({ type: 'get_setting', key: 'bad key!' });
    await bad({ type: 'get_category_settings', category: '' });
    await bad({ type: 'update_setting', key: 'x' });
    await bad({ type: 'update_setting', key: 'x', value: 'y'.repeat(20_000) }, 'LIMIT_EXCEEDED');
    await bad({ type: 'subscribe_category' });
    await bad({ type: 'who_knows' });
    admin.send('[]');
    assert.equal((await admin.next(ofType('error'))).data.code, 'INVALID_MESSAGE');
  });
});

describe('notifications', () => {
  const notify = (userId, extra = {}) => ({
    topic: 'notifications:user', event_type: 'notification.created',
    data: { user_id: userId, title: 'Hello', message: 'hi', ...extra },
  });

  it('needs a token', async () => {
    await assert.rejects(open('notifications'), (e) => e.statusCode === 401);
  });

  it('pushes a notification, a batch, and unread_count to the user alone', async (t) => {
    const me = await open('notifications', user('alice'));
    const other = await open('notifications', user('bob'));
    t.after(() => { me.close(); other.close(); });
    assert.equal((await me.next(ofType('unread_count'))).data.count, 0);
    await other.next(ofType('unread_count'));
    await sleep(100);

    await publishOk(node, notify('alice', { type: 'achievement', data: { badge: 'first-win' } }));
    const one = await me.next(ofType('notification'));
    assert.equal(one.data.title, 'Hello');
    assert.equal(one.data.type, 'achievement');
    assert.deepEqual(one.data.data, { badge: 'first-win' });
    assert.equal(one.data.read, false);
    assert.ok(one.data.id && one.data.created_at);
    assert.equal(one.data.user_id, undefined);
    assert.equal((await me.next(ofType('unread_count'))).data.count, 1);

    const r = await publishBatch(node, [notify('alice', { title: 'a' }), notify('alice', { title: 'b' }),
      { topic: 'notifications:user', event_type: 'notification.created', data: { user_ids: ['alice', 'bob'], title: 'c' } }]);
    assert.equal(r.status, 200);
    const batch = await me.next(ofType('notification_batch'));
    assert.equal(batch.data.count, 3);
    assert.deepEqual(batch.data.notifications.map((n) => n.title).sort(), ['a', 'b', 'c']);
    await me.next(ofType('unread_count', (m) => m.data.count === 4));
    assert.equal((await other.next(ofType('notification'))).data.title, 'c');
    await quiet(other, (m) => ['notification', 'notification_batch'].includes(m.type) && m.data.title !== 'c');
  });

  it('reads pages, unread, and marks read one and all', async (t) => {
    const c = await open('notifications', user('carol'));
    t.after(() => c.close());
    await c.next(ofType('unread_count'));
    await sleep(100);
    await publishBatch(node, Array.from({ length: 5 }, (_, i) => notify('carol', { title: `n${i}` })));
    await c.next(ofType('unread_count', (m) => m.data.count === 5), 3000, 'five unread');

    c.send({ type: 'get_notifications', limit: 2, id: 'p1' });
    const p1 = await c.next(ofType('notifications'));
    assert.equal(p1.id, 'p1');
    assert.equal(p1.data.notifications.length, 2);
    assert.ok(p1.data.next_before);
    c.send({ type: 'get_notifications', limit: 2, before: p1.data.next_before });
    const p2 = await c.next(ofType('notifications'));
    c.send({ type: 'get_notifications', limit: 2, before: p2.data.next_before });
    const p3 = await c.next(ofType('notifications'));
    const seen = [...p1.data.notifications, ...p2.data.notifications, ...p3.data.notifications];
    assert.equal(new Set(seen.map((n) => n.id)).size, 5);
    assert.equal(p3.data.next_before, null);

    c.send({ type: 'mark_read', id: seen[0].id, id2: 'x' });
    const conf = await c.next(ofType('read_confirmed'));
    assert.deepEqual(conf.data.ids, [seen[0].id]);
    assert.equal(conf.data.all, false);
    await c.next(ofType('unread_count', (m) => m.data.count === 4));
    c.send({ type: 'mark_read', ids: [seen[1].id, seen[2].id, 'not-mine'] });
    assert.equal((await c.next(ofType('read_confirmed'))).data.count, 2);
    await c.next(ofType('unread_count', (m) => m.data.count === 2));
    c.send({ type: 'get_unread', id: 'u' });
    const unread = await c.next(ofType('unread_notifications'));
    assert.equal(unread.data.notifications.length, 2);
    assert.ok(unread.data.notifications.every((n) => n.read === false));
    c.send({ type: 'mark_all_read' });
    const all = await c.next(ofType('read_confirmed'));
    assert.equal(all.data.all, true);
    assert.equal(all.data.count, 2);
    await c.next(ofType('unread_count', (m) => m.data.count === 0));
    c.send({ type: 'get_notifications' });
    const after = await c.next(ofType('notifications'));
    assert.ok(after.data.notifications.every((n) => n.read === true));
  });

  it('keeps what arrives while a user is away for the next connect', async () => {
    await publishOk(node, notify('dave', { title: 'while away' }));
    await sleep(300);
    const c = await open('notifications', user('dave'));
    assert.equal((await c.next(ofType('unread_count'))).data.count, 1);
    const b = await c.next(ofType('notification_batch'));
    assert.equal(b.data.notifications[0].title, 'while away');
    assert.equal(b.data.unread, true);
    await c.close();
  });

  it('answers error frames for bad input', async (t) => {
    const c = await open('notifications', user('erin'));
    t.after(() => c.close());
    await c.next(ofType('unread_count'));
    for (const frame of [{ type: 'mark_read' }, { type: 'mark_read', ids: [] }, { type: 'get_notifications', limit: 0 },
      { type: 'get_notifications', limit: 'x' }, { type: 'get_unread', before: -1 }, { type: 'delete_everything' }]) {
      c.send(frame);
      const m = await c.next(ofType('error'));
      assert.equal(m.data.code, 'INVALID_MESSAGE', JSON.stringify(frame));
    }
  });
});
