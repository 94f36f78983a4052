// examples/cluster/cluster.sh as the README runs it: one command starts a
// three-node cluster on this machine, another stops it. Runs it with the
// binary under test, in a temporary run directory, on free ports.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import net from 'node:net';
import { SOURCE_DIR, heralddPath, hs256, ids } from './lib/index.mjs';

const exec = promisify(execFile);
const script = join(SOURCE_DIR, 'examples', 'cluster', 'cluster.sh');
const runDir = mkdtempSync(join(tmpdir(), 'herald-cluster-example-'));

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.on('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// Three consecutive free ports from a random base (retried if taken).
async function freeBase() {
  for (let tries = 0; tries < 20; tries++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const ok = await Promise.all([0, 1, 2].map((k) => portFree(base + k)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no three free consecutive ports');
}

let env;
async function cluster(cmd, allowFail = false) {
  try {
    const r = await exec('bash', [script, cmd], { env, timeout: 40_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    if (!allowFail) throw new Error(`cluster.sh ${cmd}: ${e.message}\n${e.stdout}\n${e.stderr}`);
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

after(async () => {
  if (env) await cluster('stop', true);
  rmSync(runDir, { recursive: true, force: true });
});

describe('examples/cluster/cluster.sh', () => {
  it('starts three nodes that form one cluster, and stops them', { timeout: 120_000 }, async () => {
    const http = await freeBase();
    const clusterBase = await freeBase();
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
    env = {
      ...clean,
      HERALDD: heralddPath(),
      HERALD_CLUSTER_RUN_DIR: runDir,
      HERALD_CLUSTER_BASE_HTTP: String(http),
      HERALD_CLUSTER_BASE_CLUSTER: String(clusterBase),
    };
    await cluster('start');
    for (const [k, name] of ['a', 'b', 'c'].entries()) {
      const res = await fetch(`http://127.0.0.1:${http + k}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready', cluster: { node: name, members: ['a', 'b', 'c'] } });
    }
    assert.equal((await cluster('status')).code, 0);

    // A subscriber on b gets what is published on a (development credentials).
    const token = await hs256(ids.admin('c1'), { secret: 'herald-dev-secret-change-me' });
    const ws = new WebSocket(`ws://127.0.0.1:${http + 1}/ws?token=${token}`);
    const got = [];
    ws.on('message', (d) => got.push(JSON.parse(d)));
    await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['customer_id:c1:call:*'], id: 's1' }));
    const deadline = Date.now() + 5000;
    while (!got.some((m) => m.id === 's1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(got.some((m) => m.type === 'ack' && m.id === 's1'), JSON.stringify(got));
    const pub = await fetch(`http://127.0.0.1:${http}/api/v1/publish`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-api-key', 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'customer_id:c1:call:x1', event_type: 'call.status', data: { via: 'a' } }),
    });
    assert.equal(pub.status, 202);
    while (!got.some((m) => m.event_type) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    assert.deepEqual(got.filter((m) => m.event_type).map((m) => m.data), [{ via: 'a' }]);

    await cluster('stop');
    const after = await cluster('status', true);
    assert.notEqual(after.code, 0, after.out);
    await assert.rejects(fetch(`http://127.0.0.1:${http}/readyz`));
  });
});
