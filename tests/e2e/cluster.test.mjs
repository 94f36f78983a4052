// docs/cluster.md: three real heraldd on 127.0.0.1 act as one. Node a
// founds the cluster, b and c join through a's cluster port. A publish on
// any node reaches the subscribers of every node in per-topic order; the
// interest a node holds decides what it is sent; presence sums over the
// members; a client recovers on another node with its last `pos`; a node
// whose seed is down is not ready until the seed comes up.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startCluster, startClusterNode, stopAll, waitMembers, readyz, metrics, counter, presence, freePort,
  orderProblems, logsOf, connect, hs256, ids, publishOk, sleep, uniq, isEvent, waitFor,
} from './lib/index.mjs';

const NAMES = ['a', 'b', 'c'];
let nodes = [];
let a;
let b;
let c;
const extra = [];

before(async () => {
  nodes = await startCluster(NAMES);
  [a, b, c] = nodes;
});
after(async () => {
  await stopAll([...extra, ...nodes]);
});

const tokenFor = (customer) => hs256(ids.admin(customer));

/** Connects to `node` and subscribes to `patterns` (the ack comes once every member took the interest). */
async function subscriber(t, node, customer, patterns) {
  const cl = await connect(node, await tokenFor(customer));
  t.after(() => cl.close());
  await cl.subscribe(patterns);
  return cl;
}

describe('membership', () => {
  it('readyz and metrics show the three members on each node', async () => {
    for (const n of nodes) {
      const r = await readyz(n);
      assert.equal(r.status, 200, `${n.name} /readyz: ${r.text}`);
      assert.equal(r.json?.status, 'ready', `${n.name} /readyz: ${r.text}`);
      assert.equal(r.json?.cluster?.node, n.name, `${n.name} /readyz: ${r.text}`);
      assert.deepEqual(r.json?.cluster?.members, NAMES, `${n.name} /readyz: ${r.text}`);
      const m = await metrics(n);
      assert.equal(m.herald_cluster_members, 3, `${n.name} herald_cluster_members`);
      for (const name of NAMES) {
        assert.equal(m[`herald_cluster_member{node="${name}"}`], 1, `${n.name}: herald_cluster_member{node="${name}"}`);
      }
      const listed = Object.keys(m).filter((k) => k.startsWith('herald_cluster_member{'));
      assert.equal(listed.length, 3, `${n.name} lists members ${listed}`);
    }
  });

  it('the join is in the logs', () => {
    for (const n of nodes) {
      for (const other of NAMES.filter((x) => x !== n.name)) {
        assert.match(n.logs(), new RegExp(`cluster member joined: ${other}\\b`), `${n.name} logs no join of ${other}\n${logsOf([n])}`);
      }
    }
  });
});

describe('fan-out across nodes', () => {
  it('a publish on each node reaches subscribers on all three nodes, in publish order per topic', { timeout: 60_000 }, async (t) => {
    const cust = uniq('c');
    const run = uniq();
    const topics = [0, 1, 2, 3].map((k) => `customer_id:${cust}:call:k${k}`);
    const subs = {
      a: await subscriber(t, a, cust, [`customer_id:${cust}:call:*`]),
      b: await subscriber(t, b, cust, [`customer_id:${cust}:call:>`]),
      // two patterns matching the same events: each event still once
      c: await subscriber(t, c, cust, [`customer_id:${cust}:call:*`, `customer_id:${cust}:call:>`]),
    };
    const sent = [];
    for (let i = 0; i < 50; i++) {
      const topic = topics[i % topics.length];
      const via = nodes[i % 3];
      sent.push({ topic, i, via: via.name });
      await publishOk(via, { topic, event_type: 'call.status', data: { run, i } });
    }
    for (const [name, s] of Object.entries(subs)) {
      let got;
      try {
        got = await s.events(50, (m) => m.data?.run === run, 10_000);
      } catch (e) {
        throw new Error(`subscriber on ${name}: ${e.message}\n${logsOf(nodes, 20)}`);
      }
      await sleep(200);
      got.push(...s.drain((m) => isEvent(m) && m.data?.run === run));
      const problems = orderProblems(got, sent);
      assert.deepEqual(problems, [], `subscriber on ${name}:\n${problems.join('\n')}\n`
        + `published via: ${sent.map((x) => `${x.i}@${x.via}`).join(' ')}`);
    }
  });

  it('a node is sent only what its subscribers hold: interest is withdrawn with the last subscriber', { timeout: 60_000 }, async (t) => {
    const cust = uniq('c');
    const run = uniq();
    const RECEIVED = 'herald_cluster_events_received_total';
    await counter(c, RECEIVED); // exported at all
    // c's counter counts events it gets from owners: pick a topic that c
    // does not own (the first one whose publish on a raises it).
    const sc1 = await connect(c, await tokenFor(cust));
    t.after(() => sc1.close());
    let topic = null;
    for (let k = 0; k < 8 && !topic; k++) {
      const candidate = `customer_id:${cust}:call:w${k}`;
      await sc1.subscribe(candidate);
      const before = await counter(c, RECEIVED);
      await publishOk(a, { topic: candidate, event_type: 'w.x', data: { run, phase: 'probe', k } });
      await sc1.events(1, (m) => m.data?.run === run && m.data.k === k, 5000);
      const rose = await waitFor(async () => (await counter(c, RECEIVED)) > before, { timeoutMs: 1000 }).catch(() => false);
      if (rose) topic = candidate;
      else await sc1.unsubscribe(candidate); // c owns it; try another
    }
    t.diagnostic(`c does not own ${topic}`);
    assert.ok(topic, `no topic among 8 raised c's ${RECEIVED} when published on a with a subscriber on c\n${logsOf(nodes, 20)}`);

    // A second subscriber on c; the first leaves: c still holds the interest.
    const sc2 = await subscriber(t, c, cust, [topic]);
    await sc1.close();
    await sleep(500);
    let r0 = await counter(c, RECEIVED);
    await publishOk(b, { topic, event_type: 'w.x', data: { run, phase: 'one-left', n: 0 } });
    await sc2.events(1, (m) => m.data?.run === run && m.data.phase === 'one-left', 5000);
    await waitFor(async () => (await counter(c, RECEIVED)) > r0, {
      timeoutMs: 2000, message: `c's ${RECEIVED} to rise while one subscriber on c remains`,
    });

    // Witnesses on a and b tell when the owner has dealt with a publish.
    const wa = await subscriber(t, a, cust, [topic]);
    const wb = await subscriber(t, b, cust, [topic]);
    // The last subscriber on c leaves.
    await sc2.unsubscribe(topic);
    await sleep(500);
    r0 = await counter(c, RECEIVED);
    for (let n = 0; n < 6; n++) {
      await publishOk(n % 2 ? b : a, { topic, event_type: 'w.x', data: { run, phase: 'none-left', n } });
    }
    await wa.events(6, (m) => m.data?.run === run && m.data.phase === 'none-left', 5000);
    await wb.events(6, (m) => m.data?.run === run && m.data.phase === 'none-left', 5000);
    await sleep(300);
    const r1 = await counter(c, RECEIVED);
    assert.equal(r1, r0, `c's ${RECEIVED} rose by ${r1 - r0} for a topic no subscriber on c holds any more\n${logsOf([c], 30)}`);
    await sleep(100);
    assert.deepEqual(sc2.peek((m) => isEvent(m) && m.data?.phase === 'none-left'), [], 'c delivered after unsubscribe');
  });
});

describe('presence', () => {
  it('sums the matching connections of every member, asked on any node', { timeout: 30_000 }, async (t) => {
    const cust = uniq('c');
    const topic = `customer_id:${cust}:call:p1`;
    const call = `customer_id:${cust}:call:*`;
    const all = `customer_id:${cust}:call:>`;
    await subscriber(t, a, cust, [call]);
    await subscriber(t, a, cust, [all]);
    await subscriber(t, b, cust, [topic]);
    await subscriber(t, b, cust, [`customer_id:${cust}:message:*`]); // does not match
    await subscriber(t, c, cust, [call]);
    await subscriber(t, c, cust, [all]);
    await subscriber(t, c, cust, [call, topic]); // one connection, two matching patterns
    for (const n of nodes) {
      let last;
      try {
        await waitFor(async () => {
          last = await presence(n, topic);
          return last.status === 200 && last.json?.connections === 6;
        }, { timeoutMs: 3000, message: `presence on ${n.name} to say 6` });
      } catch (e) {
        throw new Error(`${e.message}: last HTTP ${last?.status} ${last?.text}`);
      }
      assert.deepEqual(last.json, { topic, connections: 6, nodes: { a: 2, b: 1, c: 3 }, complete: true },
        `presence asked on ${n.name}: ${last.text}`);
    }
    const none = await presence(b, `customer_id:${cust}:queue:q0`);
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.json, { topic: `customer_id:${cust}:queue:q0`, connections: 0, nodes: { a: 0, b: 0, c: 0 }, complete: true });
    const noKey = await presence(c, topic, null);
    assert.equal(noKey.status, 401, `presence without an API key: ${noKey.status} ${noKey.text}`);
  });
});

describe('recovery across nodes', () => {
  it('a client that reconnects to another node with its last pos gets exactly what it missed, then live events', { timeout: 60_000 }, async (t) => {
    const cust = uniq('c');
    const run = uniq();
    const pattern = `customer_id:${cust}:call:*`;
    const topics = [0, 1, 2].map((k) => `customer_id:${cust}:call:r${k}`);
    const ev = (n) => ({ topic: topics[n % 3], event_type: 'call.status', data: { run, n } });

    const first = await connect(a, await tokenFor(cust));
    await first.subscribe(pattern);
    for (let n = 0; n < 3; n++) await publishOk(nodes[n], ev(n));
    // PROTOCOL §1 orders events per topic; these are three topics, with
    // three owners: any interleaving is right.
    const perTopic = (got) => {
      const out = {};
      for (const m of got) (out[m.topic] ??= []).push(m.data.n);
      return out;
    };
    const wantPerTopic = (ns) => perTopic(ns.map((n) => ({ topic: topics[n % 3], data: { n } })));
    const seen = await first.events(3, (m) => m.data?.run === run, 5000);
    assert.deepEqual(perTopic(seen), wantPerTopic([0, 1, 2]));
    const last = seen[2].pos;
    assert.ok(typeof last === 'string' && last.length > 0, `pos ${JSON.stringify(last)}`);
    t.diagnostic(`resuming from pos ${last}`);
    await first.close();

    // missed while away, published on b and c
    for (let n = 3; n < 9; n++) await publishOk(n % 2 ? b : c, ev(n));

    const second = await connect(b, await tokenFor(cust));
    t.after(() => second.close());
    const id = uniq('s-');
    second.send({ type: 'subscribe', topics: [pattern], since: last, id });
    const ack = await second.next((m) => m.id === id && (m.type === 'ack' || m.type === 'error'), 5000, 'the ack of a subscribe with since');
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.recovered, true, `ack ${JSON.stringify(ack)} (since ${last})\n${logsOf(nodes, 20)}`);
    const replayed = await second.events(6, (m) => m.data?.run === run, 5000);
    assert.deepEqual(perTopic(replayed), wantPerTopic([3, 4, 5, 6, 7, 8]), `replayed ${JSON.stringify(replayed.map((m) => [m.data.n, m.topic, m.pos]))}`);

    // live again, no duplicates between replay and live
    await publishOk(c, ev(9));
    await publishOk(a, ev(10));
    const live = await second.events(2, (m) => m.data?.run === run, 5000);
    assert.deepEqual(perTopic(live), wantPerTopic([9, 10]));
    await sleep(300);
    assert.deepEqual(second.peek((m) => isEvent(m) && m.data?.run === run).map((m) => m.data.n), [], 'duplicates after going live');
  });
});

describe('joining through a seed that is down', () => {
  it('is not ready while its seed is unreachable and becomes ready once the seed comes up', { timeout: 60_000 }, async (t) => {
    const port = await freePort();
    const d = await startClusterNode('d', { seeds: [`127.0.0.1:${port}`] });
    extra.push(d);
    // Not ready, and stays so across more than one retry (retry_ms 1000).
    const until = Date.now() + 1500;
    let checks = 0;
    while (Date.now() < until) {
      const r = await readyz(d);
      assert.equal(r.status, 503, `d /readyz with its seed down: ${r.status} ${r.text}\n${logsOf([d])}`);
      assert.equal(r.json?.status, 'not ready', r.text);
      assert.deepEqual(r.json?.cluster?.members, ['d'], r.text);
      checks += 1;
      await sleep(250);
    }
    assert.ok(checks >= 3);
    const e = await startClusterNode('e', { seeds: [], port });
    extra.push(e);
    assert.equal(e.clusterPort, port, 'e bound the port d dials');
    // the seed is dialled again every retry_ms: 1 s, plus slack
    const took = await waitMembers([d, e], ['d', 'e'], { timeoutMs: 6000, what: 'd joined e' });
    t.diagnostic(`d ready ${took} ms after e came up`);
    // and it is a cluster: a publish on e reaches d
    const cust = uniq('c');
    const sub = await connect(d, await tokenFor(cust));
    try {
      await sub.subscribe(`customer_id:${cust}:call:*`);
      await publishOk(e, { topic: `customer_id:${cust}:call:j`, event_type: 'j.x', data: { k: 1 } });
      await sub.events(1, (m) => m.data?.k === 1, 5000);
    } finally {
      await sub.close();
    }
    // d and e are a cluster of their own: a, b, c are not disturbed
    await waitMembers(nodes, NAMES, { timeoutMs: 1000, what: 'a, b, c unchanged' });
  });
});

describe('bad cluster configuration', () => {
  it('a cluster port already taken stops the node at start with a line naming the key', { timeout: 30_000 }, async () => {
    await assert.rejects(
      startClusterNode('x', { port: a.clusterPort }),
      (e) => {
        assert.match(e.message, /exited before ready: \{"code":2/);
        assert.match(e.message, /cluster\.port: cannot listen on 127\.0\.0\.1:\d+/);
        return true;
      },
    );
  });

  it('a seed that is not host:port is refused naming the key', { timeout: 30_000 }, async () => {
    await assert.rejects(
      startClusterNode('y', { seeds: ['not-an-address'] }),
      (e) => {
        assert.match(e.message, /cluster\.seeds\[0\]: must be host:port/);
        return true;
      },
    );
  });
});
