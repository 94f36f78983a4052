#!/usr/bin/env node
// ws-peer: the PEER reference of Herald's benchmarks (issue 3). A small
// topic-broadcast server on Node's `ws` package, node:http for the publish
// API; same contract as herald-ceiling (see README.md). Each publish is
// serialized once (JSON.stringify, then one Buffer) and that Buffer is sent
// to every subscriber of exactly its topic.
//
//   node ws-peer.mjs [--port N]      (0 = any free port, the default)

import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

const MAX_BODY = 64 * 1024 * 1024;
const MAX_BACKLOG = 64 * 1024 * 1024; // unsent bytes before a drop
const MAX_CLIENT_FRAME = 64 * 1024;

let port = 0;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--port' && i + 1 < process.argv.length) {
    port = Number(process.argv[++i]);
  } else {
    console.error(`ws-peer: unknown argument ${process.argv[i]}`);
    process.exit(2);
  }
}

/** topic -> Set of WebSocket */
const topics = new Map();
let published = 0;

function subscribe(ws, topic) {
  let subs = topics.get(topic);
  if (!subs) topics.set(topic, (subs = new Set()));
  subs.add(ws);
  ws.topics.add(topic);
}

function unsubscribe(ws, topic) {
  const subs = topics.get(topic);
  if (!subs) return;
  subs.delete(ws);
  ws.topics.delete(topic);
  if (subs.size === 0) topics.delete(topic);
}

function publish(ev) {
  if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) {
    return { status: 400, code: 'INVALID_MESSAGE', message: 'event must be an object' };
  }
  const { topic, event_type: eventType = '', data = {} } = ev;
  if (typeof topic !== 'string' || topic === '') {
    return { status: 400, code: 'INVALID_MESSAGE', message: 'topic must be a non-empty string' };
  }
  if (typeof eventType !== 'string' || data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { status: 400, code: 'INVALID_MESSAGE', message: 'event_type must be a string, data an object' };
  }
  const id = String(++published);
  const subs = topics.get(topic);
  if (subs && subs.size > 0) {
    const frame = Buffer.from(JSON.stringify({ event_type: eventType, topic, data }));
    for (const ws of subs) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > MAX_BACKLOG) {
        ws.terminate();
        continue;
      }
      ws.send(frame, { binary: false });
    }
  }
  return { status: 202, id, topic };
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function onRequest(req, res) {
  const path = req.url.split('?', 1)[0];
  if (req.method === 'GET' && (path === '/healthz' || path === '/')) {
    return reply(res, 200, { status: 'ok' });
  }
  const single = path === '/api/v1/publish';
  const batch = path === '/api/v1/publish/batch';
  if (req.method !== 'POST' || (!single && !batch)) {
    return reply(res, 404, { code: 'NOT_FOUND', message: 'no such route' });
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY) {
      return reply(res, 413, { code: 'PAYLOAD_TOO_LARGE', message: 'body over the limit' });
    }
    let body;
    try {
      body = JSON.parse(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    } catch {
      return reply(res, 400, { code: 'INVALID_MESSAGE', message: 'body is not JSON' });
    }
    if (single) {
      const { status, ...rest } = publish(body);
      return reply(res, status, rest);
    }
    if (body === null || !Array.isArray(body.events)) {
      return reply(res, 400, { code: 'INVALID_MESSAGE', message: 'body must be {"events":[...]}' });
    }
    reply(res, 200, { results: body.events.map(publish) });
  });
}

const server = http.createServer(onRequest);
// Publishers hold their connections for a whole run: no idle cut-offs.
server.keepAliveTimeout = 0;
server.headersTimeout = 0;
server.requestTimeout = 0;

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: MAX_CLIENT_FRAME,
  clientTracking: false,
});

server.on('upgrade', (req, socket, head) => {
  if (req.url.split('?', 1)[0] !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.topics = new Set();
    ws.on('message', (raw, isBinary) => onMessage(ws, raw, isBinary));
    ws.on('close', () => {
      for (const topic of ws.topics) unsubscribe(ws, topic);
    });
    ws.on('error', () => {});
  });
});

function sendError(ws, message) {
  ws.send(JSON.stringify({ type: 'error', code: 'INVALID_MESSAGE', message }));
}

function onMessage(ws, raw, isBinary) {
  if (isBinary) return sendError(ws, 'binary frames are not accepted');
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    return sendError(ws, 'not JSON');
  }
  if (msg?.type === 'ping') return ws.send('{"type":"pong"}');
  const action = msg?.type;
  const list = msg?.topics;
  if ((action !== 'subscribe' && action !== 'unsubscribe') || !Array.isArray(list)
      || !list.every((t) => typeof t === 'string' && t !== '')) {
    return sendError(ws, 'expected subscribe, unsubscribe or ping');
  }
  for (const topic of list) (action === 'subscribe' ? subscribe : unsubscribe)(ws, topic);
  ws.send(JSON.stringify({ type: 'ack', action, topics: list, status: 'success', id: msg.id }));
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
