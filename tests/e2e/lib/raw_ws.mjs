// A raw RFC 6455 client over node:net, for the conformance suite: it writes
// whatever frame it is told to (unmasked, reserved bits, bad lengths, ...)
// and reports exactly what the server sent back, byte for byte. No ws
// library is involved in the frames under test.

import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { within } from './node.mjs';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept a server must answer for `key` (RFC 6455 §4.2.2). */
export const acceptFor = (key) => createHash('sha1').update(key + WS_GUID).digest('base64');

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64. */
export const newKey = () => randomBytes(16).toString('base64');

export const OP = { cont: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xA };

const toBuf = (p) => (Buffer.isBuffer(p) ? p : Buffer.from(p ?? '', typeof p === 'string' ? 'utf8' : undefined));

/**
 * One client frame. opts: fin (true), rsv (0..7, the RSV1-3 bits), mask
 * (true), maskKey (4 bytes), length (the announced length, a BigInt or a
 * number, instead of the payload's), form ('7', '16' or '64': force a
 * length form).
 */
export function frame(opcode, payload = '', opts = {}) {
  const body = toBuf(payload);
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const len = BigInt(opts.length ?? body.length);
  const form = opts.form ?? (len < 126n ? '7' : len <= 0xFFFFn ? '16' : '64');
  const head = [((fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode) & 0xFF];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (form === '7') head.push(m | Number(len));
  else if (form === '16') { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(Number(len)); }
  else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(len); }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, body]);
  const key = opts.maskKey ?? randomBytes(4);
  const masked = Buffer.alloc(body.length);
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/** A close frame's payload: the code (2 bytes) and a reason. */
export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, toBuf(reason)]);
}

/** A whole text frame with `obj` as JSON (or a string as it is). */
export const textFrame = (obj, opts) => frame(OP.text, typeof obj === 'string' ? obj : JSON.stringify(obj), opts);

/**
 * Parses server frames from the front of `buf`. Returns {frames, rest};
 * each frame {fin, rsv, opcode, masked, payload, bytes}.
 */
export function parseFrames(buf) {
  const frames = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const b0 = buf[at];
    const b1 = buf[at + 1];
    let len = b1 & 0x7F;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) break;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) break;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) head += 4;
    if (buf.length - at < head + len) break;
    let payload = Buffer.from(buf.subarray(at + head, at + head + len));
    if (masked) {
      const key = buf.subarray(at + head - 4, at + head);
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    }
    frames.push({
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 7,
      opcode: b0 & 0x0F,
      masked,
      payload,
      bytes: head + len,
      // RFC 6455 §5.2: the minimal number of bytes encodes the length.
      minimalLength: (head - (masked ? 4 : 0)) === (len < 126 ? 2 : len <= 0xFFFF ? 4 : 10),
    });
    at += head + len;
  }
  return { frames, rest: buf.subarray(at) };
}

function buildRequest({ path, host, key, version, token, headers, method, httpVersion }) {
  const h = new Map([
    ['Host', host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', version],
  ]);
  if (token) h.set('Authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(headers ?? {})) {
    const existing = [...h.keys()].find((x) => x.toLowerCase() === k.toLowerCase());
    if (existing) h.delete(existing);
    if (v !== null && v !== undefined) h.set(k, v);
  }
  let text = `${method} ${path} HTTP/${httpVersion}\r\n`;
  for (const [k, v] of h) text += `${k}: ${v}\r\n`;
  return `${text}\r\n`;
}

/**
 * A raw connection: the HTTP answer to its upgrade request, then the
 * frames the server sends. Everything the socket does is recorded, so a
 * test can say exactly what came back and when the TCP connection ended.
 */
export class RawWs {
  constructor(socket) {
    this.socket = socket;
    this.raw = Buffer.alloc(0); // bytes not yet parsed
    this.status = null;
    this.headers = {}; // lower-cased names
    this.body = '';
    this.frames = []; // every server frame, in order
    this.unread = 0; // index in frames of the next one next() returns
    this.closeFrame = null; // the server's close frame, once seen
    this.afterClose = 0; // bytes the server sent after its close frame
    this.endedAt = null; // Date.now() when the server's FIN (or a reset) arrived
    this.endedBy = null; // 'fin' | 'reset' | 'close'
    this.closeAt = null; // Date.now() when the close frame arrived
    this.waiters = [];
    this.headDone = null;
    this.head = new Promise((res) => { this.headDone = res; });
    this.ended = new Promise((res) => { this.endDone = res; });
    socket.on('data', (d) => this.onData(d));
    socket.on('end', () => this.onEnd('fin'));
    socket.on('error', (e) => { this.error = e; this.onEnd(e.code === 'ECONNRESET' ? 'reset' : 'close'); });
    socket.on('close', () => this.onEnd('close'));
  }

  onData(d) {
    if (this.closeFrame) { this.afterClose += d.length; return; }
    this.raw = Buffer.concat([this.raw, d]);
    if (this.status === null) {
      const i = this.raw.indexOf('\r\n\r\n');
      if (i < 0) return;
      const lines = this.raw.subarray(0, i).toString('latin1').split('\r\n');
      this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
      this.statusLine = lines[0];
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) this.headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      this.raw = this.raw.subarray(i + 4);
      if (this.status !== 101) {
        this.body = this.raw.toString('utf8');
        this.raw = Buffer.alloc(0);
        this.inBody = true;
      }
      this.headDone();
    }
    if (this.inBody) {
      if (this.raw.length) { this.body += this.raw.toString('utf8'); this.raw = Buffer.alloc(0); }
      return;
    }
    const { frames, rest } = parseFrames(this.raw);
    this.raw = Buffer.from(rest);
    for (const f of frames) {
      if (this.closeFrame) { this.afterClose += f.bytes; continue; }
      this.frames.push(f);
      if (f.opcode === OP.close) {
        this.closeFrame = f;
        this.closeAt = Date.now();
        this.afterClose += this.raw.length;
        this.raw = Buffer.alloc(0);
      }
    }
    this.wake();
  }

  onEnd(how) {
    if (this.endedAt === null) {
      this.endedAt = Date.now();
      this.endedBy = how;
      this.endDone(how);
    }
    this.headDone();
    this.wake();
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  changed(ms) {
    return within(new Promise((r) => this.waiters.push(r)), ms, 'timeout');
  }

  /** Writes frames (Buffers) in one TCP write. */
  send(...bufs) {
    this.socket.write(Buffer.concat(bufs));
  }

  /** The next server frame, or null after `ms` or when the connection ended. */
  async next(ms = 3000) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.unread < this.frames.length) return this.frames[this.unread++];
      if (this.endedAt !== null) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await this.changed(left);
    }
  }

  /** The next data frame's JSON (control frames before it are returned in `controls`). */
  async nextJson(ms = 3000) {
    const controls = [];
    for (;;) {
      const f = await this.next(ms);
      if (!f) return { json: null, controls };
      if (f.opcode === OP.text) return { json: JSON.parse(f.payload.toString('utf8')), controls, frame: f };
      controls.push(f);
      if (f.opcode === OP.close) return { json: null, controls };
    }
  }

  /** Resolves how the TCP connection ended ('fin', 'reset', 'close'), or null after `ms`. */
  waitEnd(ms) {
    return within(this.ended, ms);
  }

  /** Frames received and not yet taken with next(). */
  pending() {
    return this.frames.slice(this.unread);
  }

  destroy() {
    this.socket.destroy();
  }
}

/**
 * Opens a TCP connection to `node` and writes an upgrade request. opts:
 * path ('/ws'), token, key (a fresh one), version ('13'), headers (extra or
 * replacing ones; null removes), method ('GET'), httpVersion ('1.1'),
 * request (the whole request text instead), timeoutMs. Resolves a RawWs
 * once the answer's head arrived (status 0 when none came).
 */
export async function rawConnect(node, opts = {}) {
  const key = opts.key === undefined ? newKey() : opts.key;
  const socket = net.connect(node.port, '127.0.0.1');
  socket.setNoDelay(true);
  const ws = new RawWs(socket);
  ws.key = key;
  const request = opts.request ?? buildRequest({
    path: opts.path ?? '/ws',
    host: `127.0.0.1:${node.port}`,
    key: key ?? null,
    version: opts.version === undefined ? '13' : opts.version,
    token: opts.token,
    headers: { ...(key === null ? { 'Sec-WebSocket-Key': null } : {}), ...(opts.version === null ? { 'Sec-WebSocket-Version': null } : {}), ...(opts.headers ?? {}) },
    method: opts.method ?? 'GET',
    httpVersion: opts.httpVersion ?? '1.1',
  });
  socket.on('connect', () => socket.write(request));
  await within(ws.head, opts.timeoutMs ?? 3000);
  if (ws.status === null) ws.status = 0;
  return ws;
}
