// docs/cluster.md, "Membership" and "Partitions": a member killed with
// SIGKILL is dropped within the failure bound, the others lose no event,
// and it rejoins when it comes back; a network partition (blackhole routes
// between network namespaces) splits the cluster into two that each carry
// on, and it heals when the routes come back.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startCluster, startClusterNode, stopAll, stopQuietly, waitMembers, killNode, orderProblems, logsOf,
  startNodeInNetns, makeNetnsLan, netnsUnavailable,
  connect, hs256, ids, publishOk, sleep, uniq, isEvent,
} from './lib/index.mjs';

const NAMES = ['a', 'b', 'c'];
// Defaults of docs/cluster.md: heartbeat 500 ms, failure timeout 2500 ms, retry 1000 ms.
const HEARTBEAT_MS = 500;
const FAILURE_MS = 2500;
const RETRY_MS = 1000;
const SLACK_MS = 2000;

const tokenFor = (customer) => hs256(ids.admin(customer));

async function subscriber(t, node, customer, patterns) {
  const cl = await connect(node, await tokenFor(customer));
  t.after(() => cl.close());
  await cl.subscribe(patterns);
  return cl;
}

/** Asserts that each named subscriber got exactly `sent` (per-topic order, none missing, no duplicates). */
async function expectAll(subs, run, sent, nodes, timeoutMs = 10_000) {
  const out = {};
  for (const [name, s] of Object.entries(subs)) {
    let got;
    try {
      got = await s.events(sent.length, (m) => m.data?.run === run, timeoutMs);
    } catch (e) {
      throw new Error(`subscriber on ${name}: ${e.message}\n${logsOf(nodes, 25)}`);
    }
    await sleep(100);
    got.push(...s.drain((m) => isEvent(m) && m.data?.run === run));
    const problems = orderProblems(got, sent);
    assert.deepEqual(problems, [], `subscriber on ${name}:\n${problems.join('\n')}`);
    out[name] = got;
  }
  return out;
}

/** Asserts that none of `subs` got an event of `run` (after a bounded grace). */
async function expectNone(subs, run, graceMs = 500) {
  await sleep(graceMs);
  for (const [name, s] of Object.entries(subs)) {
    const got = s.peek((m) => isEvent(m) && m.data?.run === run);
    assert.deepEqual(got.map((m) => [m.topic, m.data]), [], `subscriber on ${name} got events it must not`);
  }
}

describe('a member killed with SIGKILL', () => {
  let nodes = [];
  before(async () => { nodes = await startCluster(NAMES); });
  after(async () => { await stopAll(nodes); });

  it('is dropped within the bound, loses nothing for the others, and rejoins on restart', { timeout: 90_000 }, async (t) => {
    let [a, b, c] = nodes;
    const cust = uniq('c');
    const pattern = `customer_id:${cust}:call:*`;
    const topics = [0, 1, 2, 3, 4, 5].map((k) => `customer_id:${cust}:call:k${k}`);
    const sa = await subscriber(t, a, cust, [pattern]);
    const sb = await subscriber(t, b, cust, [pattern]);
    const sc = await subscriber(t, c, cust, [pattern]);
    // warm up: every topic from every node reaches everyone
    const warm = uniq();
    const warmSent = topics.map((topic, i) => ({ topic, i }));
    for (const s of warmSent) await publishOk(nodes[s.i % 3], { topic: s.topic, event_type: 'k.x', data: { run: warm, i: s.i } });
    await expectAll({ a: sa, b: sb, c: sc }, warm, warmSent, nodes);

    const cPort = c.clusterPort;
    const killedAt = Date.now();
    await killNode(c);
    await stopQuietly(c); // removes its directory; it was killed on purpose
    const bound = FAILURE_MS + HEARTBEAT_MS + 1500; // docs: failure_timeout_ms + heartbeat_ms; 5 s with defaults
    const took = await waitMembers([a, b], ['a', 'b'], { timeoutMs: bound, what: 'a and b without c (SIGKILL)' });
    assert.ok(Date.now() - killedAt < 5000, `departure seen after ${Date.now() - killedAt} ms`);
    t.diagnostic(`a and b dropped c ${took} ms after SIGKILL`);
    for (const n of [a, b]) assert.match(n.logs(), /cluster member left: c\b/, `${n.name} logs no departure of c`);

    // every event published on a and b afterwards reaches a and b
    const run = uniq();
    const sent = [];
    for (let i = 0; i < 30; i++) {
      const s = { topic: topics[i % topics.length], i };
      sent.push(s);
      await publishOk(i % 2 ? b : a, { topic: s.topic, event_type: 'k.x', data: { run, i } });
    }
    await expectAll({ a: sa, b: sb }, run, sent, [a, b]);

    // c comes back with the same name and cluster port, and rejoins
    c = await startClusterNode('c', { port: cPort, seeds: [a] });
    nodes[2] = c;
    assert.equal(c.clusterPort, cPort);
    const rejoin = await waitMembers(nodes, NAMES, { timeoutMs: RETRY_MS + 6000, what: 'c rejoined' });
    t.diagnostic(`c back in every member list ${rejoin} ms after its restart`);
    const sc2 = await subscriber(t, c, cust, [pattern]);
    const run2 = uniq();
    const sent2 = [];
    for (let i = 0; i < 12; i++) {
      const s = { topic: topics[i % topics.length], i };
      sent2.push(s);
      await publishOk(a, { topic: s.topic, event_type: 'k.x', data: { run: run2, i } });
    }
    await expectAll({ a: sa, b: sb, c: sc2 }, run2, sent2, nodes);
  });
});

const NETNS_SKIP = netnsUnavailable();

describe('a network partition', () => {
  let lan = null;
  const nodes = [];
  let setupError = null;

  before(async () => {
    if (NETNS_SKIP) return;
    try {
      lan = makeNetnsLan(NAMES);
      const seedOf = `${lan.addrOf('a')}:7400`;
      for (const name of NAMES) {
        const addr = lan.addrOf(name);
        nodes.push(await startNodeInNetns(lan.nsOf(name), name, {
          listen: { address: addr, port: 0 },
          cluster: {
            enabled: true, listen_address: addr, port: 7400, seeds: name === 'a' ? [] : [seedOf],
          },
        }));
      }
      await waitMembers(nodes, NAMES, { timeoutMs: 15_000, what: 'at start (namespaces)' });
    } catch (e) {
      setupError = e;
    }
  });

  after(async () => {
    try {
      await stopAll(nodes);
    } finally {
      lan?.cleanup();
    }
  });

  it('splits the cluster in two that carry on, and heals when the network comes back', { timeout: 120_000 }, async (t) => {
    if (NETNS_SKIP) { t.skip(`network namespaces unavailable: ${NETNS_SKIP}`); return; }
    if (setupError) throw setupError;
    const [a, b, c] = nodes;
    const cust = uniq('c');
    const pattern = `customer_id:${cust}:call:*`;
    const topics = [0, 1, 2, 3, 4].map((k) => `customer_id:${cust}:call:p${k}`);
    const sa = await subscriber(t, a, cust, [pattern]);
    const sb = await subscriber(t, b, cust, [pattern]);
    const sc = await subscriber(t, c, cust, [pattern]);

    const warm = uniq();
    const warmSent = topics.map((topic, i) => ({ topic, i }));
    for (const s of warmSent) await publishOk(nodes[s.i % 3], { topic: s.topic, event_type: 'p.x', data: { run: warm, i: s.i } });
    await expectAll({ a: sa, b: sb, c: sc }, warm, warmSent, nodes);

    // cut c off from a and b, both ways; the root namespace still reaches all
    lan.blackhole('a', 'c');
    lan.blackhole('b', 'c');
    lan.blackhole('c', 'a');
    lan.blackhole('c', 'b');
    const split = await waitMembers(nodes, (n) => (n.name === 'c' ? ['c'] : ['a', 'b']), {
      timeoutMs: FAILURE_MS + HEARTBEAT_MS + SLACK_MS, what: 'partition {a,b} | {c}',
    });
    t.diagnostic(`partition seen everywhere ${split} ms after the routes went`);

    // a publish on a reaches a and b, not c
    const onA = uniq();
    const sentA = [];
    for (let i = 0; i < 10; i++) {
      const s = { topic: topics[i % topics.length], i };
      sentA.push(s);
      await publishOk(i % 2 ? b : a, { topic: s.topic, event_type: 'p.x', data: { run: onA, i } });
    }
    await expectAll({ a: sa, b: sb }, onA, sentA, nodes);
    await expectNone({ c: sc }, onA);

    // a publish on c reaches c only
    const onC = uniq();
    const sentC = [];
    for (let i = 0; i < 10; i++) {
      const s = { topic: topics[i % topics.length], i };
      sentC.push(s);
      await publishOk(c, { topic: s.topic, event_type: 'p.x', data: { run: onC, i } });
    }
    const gotC = await expectAll({ c: sc }, onC, sentC, nodes);
    await expectNone({ a: sa, b: sb }, onC);

    // a client resuming on a with a pos that names c (cut off) is told
    // that recovery failed
    const lastC = gotC.c[gotC.c.length - 1].pos;
    const resumer = await connect(a, await tokenFor(cust));
    t.after(() => resumer.close());
    const rid = uniq('s-');
    resumer.send({ type: 'subscribe', topics: [pattern], since: lastC, id: rid });
    const ack = await resumer.next((m) => m.id === rid && (m.type === 'ack' || m.type === 'error'), 5000, 'the ack of a subscribe with since');
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.recovered, false, `resume on a with c's pos ${lastC} during the partition: ${JSON.stringify(ack)}`);
    await resumer.close();

    // heal
    lan.unblackhole('a', 'c');
    lan.unblackhole('b', 'c');
    lan.unblackhole('c', 'a');
    lan.unblackhole('c', 'b');
    const healed = await waitMembers(nodes, NAMES, {
      timeoutMs: FAILURE_MS + HEARTBEAT_MS + RETRY_MS + SLACK_MS + 1000, what: 'healed',
    });
    t.diagnostic(`healed everywhere ${healed} ms after the routes came back`);

    // events flow across again, both ways
    const afterC = uniq();
    const sentAfterC = topics.map((topic, i) => ({ topic, i }));
    for (const s of sentAfterC) await publishOk(c, { topic: s.topic, event_type: 'p.x', data: { run: afterC, i: s.i } });
    await expectAll({ a: sa, b: sb, c: sc }, afterC, sentAfterC, nodes);
    const afterA = uniq();
    const sentAfterA = topics.map((topic, i) => ({ topic, i }));
    for (const s of sentAfterA) await publishOk(a, { topic: s.topic, event_type: 'p.x', data: { run: afterA, i: s.i } });
    await expectAll({ a: sa, b: sb, c: sc }, afterA, sentAfterA, nodes);

    // what one side published during the partition never reaches the other
    await expectNone({ c: sc }, onA, 0);
    await expectNone({ a: sa, b: sb }, onC, 0);
  });
});
