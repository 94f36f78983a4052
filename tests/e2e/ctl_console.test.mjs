// herald-ctl's interactive console (docs/console.md), driven through tmux
// as a person would: a table at the prompt, Tab completion of a command
// and of an actor id, the history on Up, `top` taking the screen and
// giving it back on q, and quit. tmux runs on a socket of its own, killed
// after the suite.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNode, heraldCtlPath, connect, hs256, ids, HS256_SECRET, waitFor } from './lib/index.mjs';

const run = promisify(execFile);
const ctl = heraldCtlPath();
const tmux = ['/usr/bin/tmux', '/bin/tmux', '/usr/local/bin/tmux'].find(existsSync);
const SKIP = (!ctl && 'herald-ctl not found (set HERALD_CTL)')
  || (!tmux && 'tmux is not installed (scripts/deps.sh --test installs it)');

// A server of its own on a socket in a temporary directory: the suite
// never meets another tmux, and leaves nothing behind.
const tmuxDir = mkdtempSync(join(tmpdir(), 'herald-tmux-'));
const socket = join(tmuxDir, 'sock');
const session = 'console';
const PROMPT = 'herald> ';

function tmuxRun(...args) {
  return execFileSync(tmux, ['-S', socket, ...args],
    { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
}
/** The visible screen, trailing blank lines dropped. */
function screen() {
  return tmuxRun('capture-pane', '-p', '-t', session).replace(/\s+$/, '');
}
function lastLine() {
  const lines = screen().split('\n');
  return lines[lines.length - 1];
}
/** Sends keys: strings as typed text, {key: 'Tab'} as named keys. */
function send(...keys) {
  for (const k of keys) {
    if (typeof k === 'string') tmuxRun('send-keys', '-t', session, '-l', k);
    else tmuxRun('send-keys', '-t', session, k.key);
  }
}
const TAB = { key: 'Tab' };
const ENTER = { key: 'Enter' };
const UP = { key: 'Up' };
const CTRL_U = { key: 'C-u' };
async function waitScreen(pred, message, timeoutMs = 5000) {
  let last = '';
  try {
    return await waitFor(() => { last = screen(); return pred(last) && last; },
      { timeoutMs, intervalMs: 100, message });
  } catch (e) {
    e.message += `\n--- screen ---\n${last}`;
    throw e;
  }
}
const atPrompt = (text) => text.split('\n').pop() === PROMPT.trimEnd();

describe('herald-ctl console', { skip: SKIP, timeout: 90_000 }, () => {
  let node;
  let home;
  let clients = [];
  let connId;

  before(async () => {
    node = await startNode();
    assert.ok(node.adminUrl, 'the node prints its admin URL');
    for (const sub of ['u1', 'u2']) {
      const c = await connect(node, await hs256({ ...ids.admin('c1'), sub }));
      await c.subscribe('customer_id:c1:call:*');
      clients.push(c);
    }
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
    const { stdout } = await run(ctl, ['--admin', node.adminUrl, '--secret', HS256_SECRET, '--json',
      'actors', '--kind', 'connection'], { env, timeout: 10_000 });
    connId = JSON.parse(stdout).items[0].id;
    home = mkdtempSync(join(tmpdir(), 'herald-ctl-home-'));
    // `env -i`: the console sees only what is given here (no HERALD_*).
    const command = [
      'env', '-i', `HOME=${home}`, 'TERM=xterm-256color', `PATH=${process.env.PATH}`,
      ctl, '--admin', node.adminUrl, '--secret', HS256_SECRET,
    ].map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');
    tmuxRun('new-session', '-d', '-s', session, '-x', '200', '-y', '50', command);
    await waitScreen(atPrompt, 'the prompt');
  });

  after(async () => {
    try { tmuxRun('kill-server'); } catch { /* already gone with its last session */ }
    for (const c of clients) await c.close();
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
    rmSync(tmuxDir, { recursive: true, force: true });
  });

  it('greets with the node it talks to', () => {
    assert.match(screen(), /herald-ctl console on http:\/\/[\d.]+:\d+ \(node e2e/);
  });

  it('a command prints its table at the prompt', async () => {
    send('actors --kind connection', ENTER);
    const text = await waitScreen((s) => /NODE\s+ID\s+KIND\s+NAME\s+MAILBOX\s+RATE\s+HANDLED\s+AGE\s+STATE/.test(s)
      && atPrompt(s), 'the actors table');
    assert.ok(text.split('\n').filter((l) => /^e2e\s+\d+\s+connection\b/.test(l)).length >= 2, text);
  });

  it('Tab completes a command name', async () => {
    send('clu', TAB);
    await waitScreen(() => lastLine() === `${PROMPT}cluster`, '"clu" completed to "cluster"');
    send(ENTER);
    await waitScreen((s) => /cluster (on|off), node e2e/.test(s) && atPrompt(s), 'the cluster answer');
  });

  it('Tab completes an actor id as NODE/ID', async () => {
    send('actor e2', TAB);
    await waitScreen(() => lastLine() === `${PROMPT}actor e2e/`, '"e2" completed to "e2e/"');
    send(TAB, TAB); // ambiguous: the second Tab lists the candidates
    await waitScreen((s) => new RegExp(`(^|\\s)e2e/${connId}(\\s|$)`, 'm').test(s), `e2e/${connId} offered`);
    send(`${connId}`, ENTER);
    await waitScreen((s) => new RegExp(`actor:\\s+e2e/${connId}`).test(s) && /kind:\s+connection/.test(s)
      && atPrompt(s), 'the actor in depth');
  });

  it('Up recalls the last command, and the history is kept in ~/.herald_ctl_history', async () => {
    send('nodes', ENTER);
    await waitScreen((s) => /NODE\s+VERSION\s+UPTIME/.test(s) && atPrompt(s), 'the nodes table');
    send(UP);
    await waitScreen(() => lastLine() === `${PROMPT}nodes`, 'Up shows "nodes"');
    send(UP);
    await waitScreen(() => lastLine() === `${PROMPT}actor e2e/${connId}`, 'Up again shows the actor command');
    send(CTRL_U);
    await waitScreen(() => lastLine() === PROMPT.trimEnd(), 'the line cleared');
    const history = readFileSync(join(home, '.herald_ctl_history'), 'utf8');
    assert.match(history, /^nodes$/m);
    assert.match(history, /^cluster$/m);
  });

  it('top takes the screen, shows the busiest actors, and q gives the prompt back', async () => {
    send('top --interval 300', ENTER);
    const text = await waitScreen((s) => /BUSIEST BY MAILBOX/.test(s) && /BUSIEST BY RATE/.test(s)
      && /^e2e\s+\d+\s+\w+/m.test(s), 'the top screen');
    assert.match(text, /^herald top/m);
    send('q');
    await waitScreen((s) => !/BUSIEST BY/.test(s) && atPrompt(s), 'the prompt after q');
    // The screen before top is back, and the prompt still works.
    send('node', ENTER);
    await waitScreen((s) => /node:\s+e2e/.test(s) && atPrompt(s), 'node after top');
  });

  it('Ctrl-C drops the line being written and gives a fresh prompt', async () => {
    send('actors --sort');
    await waitScreen(() => lastLine() === `${PROMPT}actors --sort`, 'the half-written line');
    send({ key: 'C-c' });
    await waitScreen((s) => s.split('\n').slice(-2).join('\n') === `${PROMPT}actors --sort^C\n${PROMPT.trimEnd()}`,
      'a fresh prompt under the dropped line');
    send('node', ENTER);
    await waitScreen((s) => /node:\s+e2e/.test(s.split('^C').pop()) && atPrompt(s), 'the prompt still works');
  });

  it('quit leaves the console', async () => {
    send('quit', ENTER);
    await waitFor(() => {
      try { tmuxRun('has-session', '-t', session); return false; } catch { return true; }
    }, { timeoutMs: 5000, message: 'the console to exit' });
  });
});
