// docs/endpoints.md "contest", seeds/v69-websocket-endpoints.md §3: the
// contest endpoint (/api/v69/ws/contest, plugin `contest`) on a
// three-node cluster, driven by real WebSocket clients and fed by backends
// through the publish API. Every message of the seed: the public reads
// (get_all_contests, get_contest_state, get_leaderboard, the rooms), the
// ones needing identity (get_participant_status, send_chat_message) and
// the admin one (set_admin_presence); the pushes (contest_state,
// participant_update, leaderboard_update, chat_message, admin_presence,
// spectator_count summed over the cluster); the chat rate limit with its
// userChatRateLimited event; and error frames for bad input.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startCluster, stopAll, killNode, connect, hs256, publishOk, sleep, waitFor, uniq, isEvent,
} from './lib/index.mjs';

const CONTEST = { chat_rate_messages: 3, chat_rate_window_ms: 60000, max_chat_bytes: 200, presence_refresh_ms: 500 };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let nodes = [];
const by = {};

before(async () => {
  nodes = await startCluster(['a', 'b', 'c'], {
    overrides: { plugins: { load: [{ path: 'herald_contest.so', config: CONTEST }] } },
  });
  for (const n of nodes) by[n.name] = n;
});
after(async () => { await stopAll(nodes); });

const url = (n) => `${n.url.replace('http', 'ws')}/api/v69/ws/contest`;
/** A contest client on `n`: anonymous when `claims` is null. */
const open = async (t, n, claims = null) => {
  const c = await connect(n, claims ? await hs256(claims) : null, { url: url(n) });
  t.after(() => c.close());
  return c;
};
const user = (sub, roles = []) => ({ sub, roles });
const admin = (sub) => ({ sub, roles: ['admin'] });
const ofType = (type, pred = () => true) => (m) => m.type === type && pred(m);
const forContest = (type, id, pred = () => true) => ofType(type, (m) => m.data?.contest_id === id && pred(m));

/** Sends `frame` with an id and returns the answer that echoes it. */
let seq = 0;
async function ask(c, frame, timeoutMs = 3000) {
  const id = `q${++seq}`;
  c.send({ ...frame, id });
  const m = await c.next((x) => x.id === id, timeoutMs, `the answer to ${JSON.stringify(frame)}`);
  assert.match(m.timestamp ?? '', /^\d{4}-\d{2}-\d{2}T.*Z$/, JSON.stringify(m));
  return m;
}
/** Asks and insists on an error frame with `code`. */
async function refused(c, frame, code) {
  const m = await ask(c, frame);
  assert.equal(m.type, 'error', `${JSON.stringify(frame)} → ${JSON.stringify(m)}`);
  assert.equal(m.data.code, code, `${JSON.stringify(frame)} → ${JSON.stringify(m)}`);
  assert.equal(typeof m.data.message, 'string');
  return m;
}
async function quiet(c, pred, ms = 300) {
  await sleep(ms);
  assert.deepEqual(c.peek(pred), [], 'nothing more expected');
}
async function join(c, id) {
  const m = await ask(c, { type: 'join_contest_room', contest_id: id });
  assert.equal(m.type, 'spectator_count', JSON.stringify(m));
  assert.equal(m.data.contest_id, id);
  return m;
}
/** Waits (bounded) until `c`'s get_contest_state for `id` answers with a state matching `pred`. */
async function stateKnown(c, id, pred = () => true) {
  return waitFor(async () => {
    const m = await ask(c, { type: 'get_contest_state', contest_id: id });
    return m.type === 'contest_state' && pred(m.data) ? m : null;
  }, { timeoutMs: 5000, message: `contest ${id} state on ${c.ws.url}` });
}
const publish = (n, kind, id, data) => publishOk(n, { topic: `contest:${kind}:${id}`, event_type: `contest.${kind}`, data });

describe('connecting', () => {
  it('is public: no token needed; a bad token is still refused with 401', async (t) => {
    const anon = await open(t, by.a);
    const m = await ask(anon, { type: 'get_all_contests' });
    assert.equal(m.type, 'all_contests');
    assert.ok(Array.isArray(m.data.contests));
    await assert.rejects(connect(by.a, 'not-a-token', { url: url(by.a) }), (e) => e.statusCode === 401);
  });
});

describe('state from backends', () => {
  it('get_contest_state and get_leaderboard answer NOT_FOUND until a backend publishes, then from any node', async (t) => {
    const id = uniq('cup-');
    const ca = await open(t, by.a);
    const cc = await open(t, by.c, user(uniq('u-')));
    await refused(ca, { type: 'get_contest_state', contest_id: id }, 'NOT_FOUND');
    await refused(ca, { type: 'get_leaderboard', contest_id: id }, 'NOT_FOUND');

    await publish(by.b, 'state', id, { status: 'live', round: 1, title: 'Spring cup' });
    await publish(by.c, 'leaderboard', id, { entries: [{ user_id: 'p1', score: 10 }, { user_id: 'p2', score: 7 }] });
    for (const c of [ca, cc]) {
      const s = await stateKnown(c, id);
      assert.deepEqual(s.data, { status: 'live', round: 1, title: 'Spring cup', contest_id: id });
      const lb = await waitFor(async () => {
        const m = await ask(c, { type: 'get_leaderboard', contest_id: id });
        return m.type === 'leaderboard_update' ? m : null;
      }, { timeoutMs: 5000, message: 'the leaderboard' });
      assert.deepEqual(lb.data, { entries: [{ user_id: 'p1', score: 10 }, { user_id: 'p2', score: 7 }], contest_id: id });
    }
    // The latest publish wins; a contest_id in the payload is the topic's.
    await publish(by.a, 'state', id, { status: 'finished', round: 3, contest_id: 'someone-else' });
    const s = await stateKnown(cc, id, (d) => d.status === 'finished');
    assert.deepEqual(s.data, { status: 'finished', round: 3, contest_id: id });
  });

  it('get_all_contests lists every contest with a state, cluster-wide', async (t) => {
    const ids = [uniq('all-'), uniq('all-')];
    const onlyBoard = uniq('board-');
    await publish(by.a, 'state', ids[0], { status: 'open' });
    await publish(by.c, 'state', ids[1], { status: 'live' });
    await publish(by.b, 'leaderboard', onlyBoard, { entries: [] });
    const cb = await open(t, by.b);
    const all = await waitFor(async () => {
      const m = await ask(cb, { type: 'get_all_contests' });
      assert.equal(m.type, 'all_contests');
      const mine = m.data.contests.filter((x) => ids.includes(x.contest_id));
      return mine.length === 2 ? m : null;
    }, { timeoutMs: 5000, message: 'both contests listed on b' });
    const mine = all.data.contests.filter((x) => ids.includes(x.contest_id));
    assert.deepEqual(mine.sort((x, y) => ids.indexOf(x.contest_id) - ids.indexOf(y.contest_id)),
      [{ status: 'open', contest_id: ids[0] }, { status: 'live', contest_id: ids[1] }]);
    assert.ok(!all.data.contests.some((x) => x.contest_id === onlyBoard), 'a contest known only by its leaderboard has no state to list');
  });
});

describe('rooms', () => {
  it('join_contest_room answers spectator_count, then the contest_state when known', async (t) => {
    const id = uniq('room-');
    await publish(by.a, 'state', id, { status: 'live' });
    const c = await open(t, by.b);
    await stateKnown(c, id);
    c.send({ type: 'join_contest_room', contest_id: id, id: 'j1' });
    const count = await c.next((m) => m.id === 'j1');
    assert.equal(count.type, 'spectator_count');
    assert.deepEqual(count.data, { contest_id: id, count: 1 });
    const state = await c.next(ofType('contest_state'));
    assert.deepEqual(state.data, { status: 'live', contest_id: id });
    // The joiner hears its count once, in the answer; the room gets a push.
    await quiet(c, ofType('spectator_count'), 200);
    const other = await open(t, by.b);
    assert.equal((await join(other, id)).data.count, 2);
    assert.deepEqual((await c.next(forContest('spectator_count', id))).data, { contest_id: id, count: 2 });
    await quiet(other, ofType('spectator_count'), 200);
    // A room with no state yet: the count alone.
    const bare = uniq('bare-');
    const m = await join(c, bare);
    assert.equal(m.data.count, 1);
    await quiet(c, forContest('contest_state', bare));
  });

  it('pushes contest_state, participant_update and leaderboard_update to the room on every node, and stops after leave', async (t) => {
    const id = uniq('push-');
    const ra = await open(t, by.a);
    const rb = await open(t, by.b, user(uniq('fan-')));
    const rc = await open(t, by.c);
    const outsider = await open(t, by.c);
    for (const c of [ra, rb, rc]) await join(c, id);
    await sleep(200);

    await publish(by.b, 'state', id, { status: 'live', round: 2 });
    await publish(by.c, 'participant', id, { user_id: 'p9', score: 40, rank: 1 });
    await publish(by.a, 'leaderboard', id, { entries: [{ user_id: 'p9', score: 40 }] });
    for (const c of [ra, rb, rc]) {
      assert.deepEqual((await c.next(forContest('contest_state', id), 5000)).data, { status: 'live', round: 2, contest_id: id });
      const p = await c.next(forContest('participant_update', id), 5000);
      assert.deepEqual(p.data, { user_id: 'p9', score: 40, rank: 1, contest_id: id });
      assert.equal(p.id, undefined, 'a push answers no request');
      assert.deepEqual((await c.next(forContest('leaderboard_update', id), 5000)).data,
        { entries: [{ user_id: 'p9', score: 40 }], contest_id: id });
    }
    await quiet(outsider, (m) => m.data?.contest_id === id);

    const left = await ask(rc, { type: 'leave_contest_room', contest_id: id });
    assert.equal(left.type, 'spectator_count');
    assert.equal(left.data.contest_id, id);
    await publish(by.b, 'state', id, { status: 'paused', round: 2 });
    assert.equal((await ra.next(forContest('contest_state', id), 5000)).data.status, 'paused');
    assert.equal((await rb.next(forContest('contest_state', id), 5000)).data.status, 'paused');
    await quiet(rc, forContest('contest_state', id));
    // A participant event without user_id is no status: ignored.
    await publish(by.a, 'participant', id, { score: 1 });
    await quiet(ra, forContest('participant_update', id));
  });

  it('spectator_count is the sum over the cluster, pushed to the room on every change', { timeout: 30_000 }, async (t) => {
    const id = uniq('count-');
    const counted = (n) => forContest('spectator_count', id, (m) => m.data.count === n && m.id === undefined);
    const x = await open(t, by.a);
    const y = await open(t, by.b, user(uniq('y-')));
    const z = await open(t, by.c);
    const z2 = await open(t, by.c);
    assert.equal((await join(x, id)).data.count, 1);

    const yj = await join(y, id);
    assert.ok([1, 2].includes(yj.data.count), `b may not have heard of a yet: ${yj.data.count}`);
    await x.next(counted(2), 5000, 'x told of 2');
    if (yj.data.count === 1) await y.next(counted(2), 5000, 'y told of 2');

    await join(z, id);
    await join(z2, id);
    for (const c of [x, y]) await c.next(counted(4), 5000, 'told of 4');
    await z.next(counted(4), 5000, 'z told of 4');

    // Leaving and closing both lower it, everywhere.
    const zl = await ask(z, { type: 'leave_contest_room', contest_id: id });
    assert.equal(zl.type, 'spectator_count');
    for (const c of [x, y, z2]) await c.next(counted(3), 5000, 'told of 3');
    await z2.close();
    for (const c of [x, y]) await c.next(counted(2), 5000, 'told of 2 after a close');
    await y.close();
    await x.next(counted(1), 5000, 'told of 1 after a close on b');
    await quiet(z, counted(1), 200);

    // The count is refreshed while non-zero: no change, no push.
    x.drain();
    await sleep(3 * CONTEST.presence_refresh_ms + 300);
    assert.deepEqual(x.peek(ofType('spectator_count')), [], 'no push while the sum stands');
    const again = await ask(x, { type: 'join_contest_room', contest_id: id });
    assert.equal(again.data.count, 1, 'joining twice counts once');
  });
});

describe('get_participant_status', () => {
  it('needs identity; answers the caller\'s own status; another user\'s for admins only', async (t) => {
    const id = uniq('part-');
    const me = uniq('me-');
    const other = uniq('other-');
    await publish(by.a, 'participant', id, { user_id: me, score: 12, rank: 3 });
    await publish(by.a, 'participant', id, { user_id: other, score: 30, rank: 1 });
    const anon = await open(t, by.b);
    const mine = await open(t, by.b, user(me));
    const boss = await open(t, by.c, admin(uniq('boss-')));

    const u = await refused(anon, { type: 'get_participant_status', contest_id: id }, 'UNAUTHORIZED');
    assert.equal(u.data.request, 'get_participant_status');
    const got = await waitFor(async () => {
      const m = await ask(mine, { type: 'get_participant_status', contest_id: id });
      return m.type === 'participant_update' ? m : null;
    }, { timeoutMs: 5000, message: 'my status on b' });
    assert.deepEqual(got.data, { user_id: me, score: 12, rank: 3, contest_id: id });
    assert.equal((await ask(mine, { type: 'get_participant_status', contest_id: id, user_id: me })).data.score, 12);
    await refused(mine, { type: 'get_participant_status', contest_id: id, user_id: other }, 'PERMISSION_DENIED');
    await refused(mine, { type: 'get_participant_status', contest_id: uniq('none-') }, 'NOT_FOUND');

    const theirs = await waitFor(async () => {
      const m = await ask(boss, { type: 'get_participant_status', contest_id: id, user_id: other });
      return m.type === 'participant_update' ? m : null;
    }, { timeoutMs: 5000, message: 'the admin reads another user\'s status on c' });
    assert.deepEqual(theirs.data, { user_id: other, score: 30, rank: 1, contest_id: id });
    await refused(boss, { type: 'get_participant_status', contest_id: id }, 'NOT_FOUND'); // the admin is no participant
  });
});

describe('send_chat_message', () => {
  it('needs identity and the room; chat_message reaches the room on every node', async (t) => {
    const id = uniq('chat-');
    const alice = uniq('alice-');
    const anon = await open(t, by.a);
    const sender = await open(t, by.a, user(alice));
    const rb = await open(t, by.b);
    const rc = await open(t, by.c, user(uniq('carl-')));
    const outsider = await open(t, by.b, user(uniq('out-')));

    await join(anon, id);
    const u = await refused(anon, { type: 'send_chat_message', contest_id: id, message: 'hi' }, 'UNAUTHORIZED');
    assert.equal(u.data.request, 'send_chat_message');
    await refused(sender, { type: 'send_chat_message', contest_id: id, message: 'not yet in' }, 'PERMISSION_DENIED');
    for (const c of [sender, rb, rc]) await join(c, id);
    await sleep(200);

    sender.send({ type: 'send_chat_message', contest_id: id, message: 'good luck all' });
    const msgs = [];
    for (const c of [sender, anon, rb, rc]) msgs.push(await c.next(forContest('chat_message', id), 5000));
    for (const m of msgs) {
      assert.deepEqual(Object.keys(m.data).sort(), ['contest_id', 'message', 'message_id', 'sent_at', 'user_id']);
      assert.equal(m.data.user_id, alice);
      assert.equal(m.data.message, 'good luck all');
      assert.match(m.data.message_id, UUID_V4);
      assert.equal(m.data.message_id, msgs[0].data.message_id, 'one message, the same everywhere');
      assert.ok(Math.abs(Date.parse(m.data.sent_at) - Date.now()) < 60_000);
    }
    await quiet(outsider, ofType('chat_message'));

    // After leaving, no chat, and none sent.
    await ask(rc, { type: 'leave_contest_room', contest_id: id });
    await refused(rc, { type: 'send_chat_message', contest_id: id, message: 'gone' }, 'PERMISSION_DENIED');
    sender.send({ type: 'send_chat_message', contest_id: id, message: 'second' });
    await rb.next(forContest('chat_message', id, (m) => m.data.message === 'second'), 5000);
    await quiet(rc, ofType('chat_message'));
  });

  it('refuses bad messages: empty, not a string, over max_chat_bytes', async (t) => {
    const id = uniq('badchat-');
    const c = await open(t, by.b, user(uniq('b-')));
    await join(c, id);
    await refused(c, { type: 'send_chat_message', contest_id: id }, 'INVALID_MESSAGE');
    await refused(c, { type: 'send_chat_message', contest_id: id, message: '' }, 'INVALID_MESSAGE');
    await refused(c, { type: 'send_chat_message', contest_id: id, message: 42 }, 'INVALID_MESSAGE');
    await refused(c, { type: 'send_chat_message', contest_id: id, message: { text: 'x' } }, 'INVALID_MESSAGE');
    const tooLong = 'y'.repeat(CONTEST.max_chat_bytes + 1);
    const big = await refused(c, { type: 'send_chat_message', contest_id: id, message: tooLong }, 'LIMIT_EXCEEDED');
    assert.match(big.data.message, new RegExp(String(CONTEST.max_chat_bytes)));
    await quiet(c, ofType('chat_message'));
    // Exactly the limit is fine.
    c.send({ type: 'send_chat_message', contest_id: id, message: 'z'.repeat(CONTEST.max_chat_bytes) });
    await c.next(forContest('chat_message', id), 5000);
  });

  it('is rate limited per user: RATE_LIMITED, and userChatRateLimited for backends', { timeout: 30_000 }, async (t) => {
    const id = uniq('rate-');
    const fast = uniq('fast-');
    const backend = await connect(by.c, await hs256({ sub: uniq('backend-'), roles: ['admin'] }));
    t.after(() => backend.close());
    await backend.subscribe('system:chat:event:userChatRateLimited');
    const s1 = await open(t, by.a, { sub: fast, client_id: 'arena-ui' });
    const s2 = await open(t, by.a, { sub: fast, client_id: 'arena-ui' });
    const watcher = await open(t, by.b);
    for (const c of [s1, s2, watcher]) await join(c, id);
    await sleep(200);

    for (let i = 0; i < CONTEST.chat_rate_messages; i++) {
      (i % 2 ? s2 : s1).send({ type: 'send_chat_message', contest_id: id, message: `m${i}` });
      await watcher.next(forContest('chat_message', id, (m) => m.data.message === `m${i}`), 5000);
    }
    const over = await refused(s2, { type: 'send_chat_message', contest_id: id, message: 'too many' }, 'RATE_LIMITED');
    assert.equal(over.data.request, 'send_chat_message');
    await quiet(watcher, forContest('chat_message', id, (m) => m.data.message === 'too many'));
    assert.ok(s1.isOpen && s2.isOpen, 'the connections stay');

    const frame = await backend.next((m) => isEvent(m) && m.data?.userId === fast, 5000, 'userChatRateLimited');
    assert.equal(frame.topic, 'system:chat:event:userChatRateLimited');
    assert.equal(frame.event_type, 'chat.userChatRateLimited');
    const env = frame.data;
    for (const k of ['id', 'version', 'name', 'namespace', 'parentNamespace', 'timestamp', 'clientId', 'userId',
      'traceId', 'sessionId', 'spanContext', 'payload']) assert.ok(k in env, `envelope lacks ${k}: ${JSON.stringify(env)}`);
    assert.match(env.id, UUID_V4);
    assert.equal(env.version, 1);
    assert.equal(env.name, 'userChatRateLimited');
    assert.equal(env.namespace, 'herald.chat');
    assert.equal(env.parentNamespace, 'herald');
    assert.match(env.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    assert.equal(env.clientId, 'arena-ui');
    assert.match(env.traceId, /^[0-9a-f]{32}$/);
    assert.match(env.spanContext, new RegExp(`^00-${env.traceId}-[0-9a-f]{16}-01$`));
    assert.match(env.sessionId, /^a\/\d+$/);
    assert.equal(env.node, 'a');
    assert.deepEqual(env.payload, {
      userChatRateLimited: {
        reason: env.payload.userChatRateLimited.reason, code: 429, forced: false, endpoint: 'contest',
        limit: CONTEST.chat_rate_messages, window_ms: CONTEST.chat_rate_window_ms,
      },
    });
    assert.ok(env.payload.userChatRateLimited.reason.length > 0);

    // The limit is the user's on a node: the same user elsewhere still chats.
    const s3 = await open(t, by.b, { sub: fast });
    await join(s3, id);
    s3.send({ type: 'send_chat_message', contest_id: id, message: 'from b' });
    await watcher.next(forContest('chat_message', id, (m) => m.data.message === 'from b'), 5000);
  });
});

describe('set_admin_presence', () => {
  it('is admin only; admin_presence reaches the room on every node', async (t) => {
    const id = uniq('adm-');
    const bossId = uniq('boss-');
    const anon = await open(t, by.b);
    const fan = await open(t, by.b, user(uniq('fan-'), ['manager']));
    const boss = await open(t, by.a, admin(bossId));
    const rc = await open(t, by.c);
    const outsider = await open(t, by.c);
    for (const c of [anon, fan, rc]) await join(c, id);
    await sleep(200);

    await refused(anon, { type: 'set_admin_presence', contest_id: id, present: true }, 'UNAUTHORIZED');
    const denied = await refused(fan, { type: 'set_admin_presence', contest_id: id, present: true }, 'PERMISSION_DENIED');
    assert.equal(denied.data.request, 'set_admin_presence');
    assert.ok(fan.isOpen, 'a refusal, not a disconnect');
    await quiet(rc, ofType('admin_presence'));

    // The admin need not be in the room to announce itself there.
    boss.send({ type: 'set_admin_presence', contest_id: id, present: true });
    for (const c of [anon, fan, rc]) {
      assert.deepEqual((await c.next(forContest('admin_presence', id), 5000)).data, { contest_id: id, user_id: bossId, present: true });
    }
    boss.send({ type: 'set_admin_presence', contest_id: id, present: false });
    for (const c of [anon, fan, rc]) {
      assert.equal((await c.next(forContest('admin_presence', id), 5000)).data.present, false);
    }
    await refused(boss, { type: 'set_admin_presence', contest_id: id, present: 'yes' }, 'INVALID_MESSAGE');
    await quiet(outsider, ofType('admin_presence'));
  });
});

describe('bad input', () => {
  it('answers error frames (with the request\'s id) and keeps the connection', async (t) => {
    const c = await open(t, by.a, user(uniq('x-')));
    const unknown = await refused(c, { type: 'steal_the_cup' }, 'INVALID_MESSAGE');
    assert.match(unknown.data.message, /unknown message type/);
    for (const frame of [
      { type: 'get_contest_state' },
      { type: 'get_contest_state', contest_id: 7 },
      { type: 'get_contest_state', contest_id: '' },
      { type: 'get_leaderboard', contest_id: 'with space' },
      { type: 'get_leaderboard', contest_id: 'x'.repeat(129) },
      { type: 'join_contest_room' },
      { type: 'join_contest_room', contest_id: ['a'] },
      { type: 'leave_contest_room', contest_id: null },
      { type: 'get_participant_status', contest_id: { id: 'a' } },
      { type: 'send_chat_message', message: 'hi' },
    ]) {
      const m = await refused(c, frame, 'INVALID_MESSAGE');
      assert.equal(m.data.request, frame.type);
    }
    for (const raw of ['{not json', '[]', '"text"', JSON.stringify({ id: 'no-type' }), JSON.stringify({ type: 5 })]) {
      c.send(raw);
      const m = await c.next(ofType('error'), 3000, `the error for ${raw}`);
      assert.equal(m.data.code, 'INVALID_MESSAGE', raw);
    }
    assert.ok(c.isOpen);
    assert.equal((await ask(c, { type: 'get_all_contests' })).type, 'all_contests');
  });
});

// Last: it kills node c.
describe('a node that dies', () => {
  it('its spectators drop out of the sum once its count goes stale (three refresh periods)', { timeout: 30_000 }, async (t) => {
    const id = uniq('dead-');
    const x = await open(t, by.a);
    const gone = [await open(t, by.c), await open(t, by.c)];
    await join(x, id);
    for (const c of gone) await join(c, id);
    await x.next(forContest('spectator_count', id, (m) => m.data.count === 3), 5000, 'x told of 3');
    const killedAt = Date.now();
    await killNode(by.c);
    const m = await x.next(forContest('spectator_count', id, (f) => f.data.count === 1), 3 * CONTEST.presence_refresh_ms + 4000,
      'x told of 1 once c is gone');
    const took = Date.now() - killedAt;
    // c said nothing as it died: the drop comes from staleness, a good
    // two periods after its last refresh at the earliest.
    assert.ok(took >= 1.6 * CONTEST.presence_refresh_ms, `not before the count is stale (${took} ms)`);
    assert.equal(m.data.contest_id, id);
  });
});
