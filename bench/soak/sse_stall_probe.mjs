// A stalled WebSocket and a stalled SSE stream side by side (bench/README.md,
// "Soak"): both are counted as slow consumers and, since neither lets the
// end of its stream out, released after ws.close_timeout_ms. Before the fix
// in net/sse_session.cpp the SSE stream kept its actor, its socket and
// herald_sse_connections for as long as the client did not read.
//
//   HERALDD=build/apps/heraldd node bench/soak/sse_stall_probe.mjs [seconds]
//
// Prints, every 5 s for `seconds` (default 30) after the close was
// counted, the connection actors the admin API lists, the gauges and the
// node's open descriptors; then reads again and prints what is left.

import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const lib = await import(pathToFileURL(join(ROOT, 'tests/e2e/lib/index.mjs')).href);
const { startNode, hs256, metrics, connect, publishBatch, sleep } = lib;

const seconds = Number(process.argv[2] ?? 30);
const node = await startNode({ log: { level: 'info' }, limits: { max_backlog_bytes: 131072 } });
try {
  const tok = await hs256({ sub: 'stalled', customer_id: 'c1', roles: ['admin'], tenant_id: 'T' });
  const admin = await hs256({ sub: 'ops', roles: ['admin'] });
  const ws = await connect(node, tok);
  await ws.subscribe('customer_id:c1:call:*');
  ws.ws._socket.pause();
  const req = http.get({ host: node.address, port: node.port, path: '/api/events/stream',
    headers: { authorization: `Bearer ${tok}` } });
  let res;
  let sseEnded = false;
  await new Promise((r) => req.on('response', (x) => { res = x; x.pause(); x.on('close', () => { sseEnded = true; }); r(); }));
  const rows = async () => (await (await fetch(`${node.adminUrl}/admin/v1/actors?kind=connection`,
    { headers: { authorization: `Bearer ${admin}` } })).json()).items.map((i) => `${i.id} ${i.endpoint}`);
  // ~4 MiB of 3 KB broadcast events fill both clients' socket buffers.
  let sent = 0;
  for (let i = 0; i < 4000; i++) {
    const evs = Array.from({ length: 5 }, () => ({ topic: 'customer_id:c1:call:x', event_type: 'call.x',
      broadcast: true, audience: { tenant_id: 'T' }, data: { p: 'x'.repeat(3000) } }));
    await publishBatch(node, evs);
    sent += 5 * 3000;
    if (i % 10 === 0 && (await metrics(node)).herald_slow_consumer_closes_total >= 2) break;
    await sleep(5);
  }
  console.log(`both counted as slow consumers after ${(sent / 1048576).toFixed(1)} MiB`);
  for (let t = 0; t <= seconds; t += 5) {
    const m = await metrics(node);
    console.log(`+${t}s connection actors [${(await rows()).join(', ')}] herald_connections ${m.herald_connections} `
      + `herald_sse_connections ${m.herald_sse_connections} herald_tcp_connections ${m.herald_tcp_connections} `
      + `fds ${readdirSync(`/proc/${node.proc.pid}/fd`).length}`);
    if (t < seconds) await sleep(5000);
  }
  ws.ws._socket.resume();
  res.resume();
  await sleep(2000);
  console.log(`after reading again: actors [${(await rows()).join(', ')}], ws close ${JSON.stringify(ws.closeInfo)}, sse ended ${sseEnded}`);
  console.log(node.logs().split('\n').filter((l) => /slow consumer/.test(l)).join('\n'));
} finally {
  await node.stop();
}
