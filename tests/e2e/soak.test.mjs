// A short soak (issue 10, load and soak): bench/soak/driver.mjs, the driver
// of bench/soak.sh, for about 25 s at a small scale against one node. It
// checks what must hold at any scale: no event lost, duplicated or
// reordered for a subscriber that keeps up, stalled clients closed as slow
// consumers (PROTOCOL §4, §5), descriptors and connection actors back to
// their baseline once the clients have left, and no steady RSS growth.
// Speed is not asserted. bench/README.md ("Soak") has the long version.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startNode, HS256_SECRET, API_KEY, SOURCE_DIR } from './lib/index.mjs';

const { runSoak, markdown } = await import(join(SOURCE_DIR, 'bench/soak/driver.mjs'));
const asan = process.env.HERALD_TEST_SANITIZER === 'asan';

it('holds mixed load for 25 s without losing events or leaking', { timeout: 85_000 }, async (t) => {
  const node = await startNode({
    // A small backlog bound, so that a stalled reader is found within
    // seconds (the kernel's socket buffers take about 4 MiB first); the
    // largest burst a keeper is sent (a batch of 8 bulk events, about
    // 25 KiB, or one 16 KB event) stays far below it.
    limits: { max_backlog_bytes: 131072 },
    // A small history and dedup window, full within seconds, so RSS
    // reaches its plateau early (by default they keep 5 minutes).
    history: { max_events: 2000, max_age_seconds: 30, max_bytes: 8 * 1024 * 1024 },
    dedup: { window_seconds: 10, max_entries: 5000 },
    // Time for a stalled reader, once read again, to get its 1013.
    ws: { close_timeout_ms: 5000 },
    log: { level: 'warn' },
  });
  t.after(() => node.stop());

  const r = await runSoak({
    url: node.url, adminUrl: node.adminUrl, pid: node.proc.pid,
    secret: HS256_SECRET, apiKey: API_KEY,
    seconds: 25, connections: 40, rate: 120, lanes: 3, topics: 9,
    bulkRate: 120, fatRate: 20, sseStreams: 3,
    slowWsEveryMs: 1_000, slowSseEveryMs: 3_000, slowMaxStallMs: 15_000, sseLingerProbeMs: 1_000,
    sampleMs: 1_000, settleMs: 10_000,
    // Generous: the allocator's arenas still grow over a short run.
    // Under ASan RSS says nothing: its quarantine holds freed memory (up
    // to 256 MiB by default) and fills all through a short run, so the
    // bound is lifted there, and LeakSanitizer, at the node's exit, is
    // what checks for leaks (tests/README.md).
    ...(asan
      ? { rssSlopeMaxKiBPerMin: Infinity, rssSecondHalfMaxKiB: Infinity }
      : { rssSlopeMaxKiBPerMin: 64 * 1024, rssSecondHalfMaxKiB: 32 * 1024 }),
    log: (s) => t.diagnostic(s),
  });
  t.diagnostic(`rss ${r.rss.startKiB} -> ${r.rss.afterWarmupKiB} -> ${r.rss.endOfLoadKiB} -> ${r.rss.endKiB} KiB `
    + `(2nd half ${r.rss.secondHalfGrowthKiB} KiB, ${r.rss.secondHalfSlopeKiBPerMin} KiB/min); `
    + `fds ${r.fds.start} -> ${r.fds.max} -> ${r.fds.end}; accepted ${r.publishes.accepted}; `
    + `deliveries checked ${r.delivery.expected}; slow ${JSON.stringify(r.clients.slow.map((s) => [s.kind, s.code ?? s.closedBy, s.stalledMs]))}`);
  const failed = r.checks.filter((c) => !c.ok);
  assert.deepEqual(failed, [], `soak checks failed:\n${markdown({ ...r, samples: r.samples.slice(-5) })}`);

  // The figures the checks rest on, spelled out.
  assert.ok(r.delivery.expected > 1000, `too few deliveries checked: ${r.delivery.expected}`);
  assert.equal(r.delivery.missing, 0);
  assert.equal(r.delivery.duplicates, 0);
  assert.equal(r.delivery.outOfOrder, 0);
  const ws1013 = r.clients.slow.filter((s) => s.kind === 'ws' && s.code === 1013).length;
  assert.ok(ws1013 >= 1, 'no stalled WebSocket was closed with 1013');
  assert.ok(r.fds.end <= r.fds.start + 4, `fds ${r.fds.start} -> ${r.fds.end}`);
  assert.equal(r.actors.end.connection, r.actors.start.connection);
});
