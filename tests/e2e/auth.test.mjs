// PROTOCOL §3: identity on GET /ws. Every refusal is HTTP 401 before the
// upgrade; a good token opens the socket, by header or by `?token=`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  startNode, connect, upgradeStatus, metrics, hs256, rs256, rsaKeyPair, withHeader, algNone,
  tamper, now, HS256_SECRET, b64url,
} from './lib/index.mjs';

async function assertRefused(node, token, opts = {}) {
  const status = await upgradeStatus(node, token, opts);
  assert.equal(status, 401, `expected HTTP 401 before upgrade, got ${status}`);
}

async function assertAccepted(node, token, opts = {}) {
  const c = await connect(node, token, opts);
  try {
    const pong = await c.ping();
    assert.equal(pong.type, 'pong');
  } finally {
    await c.close();
  }
}

describe('HS256 node', () => {
  let node;
  before(async () => { node = await startNode(); });
  after(async () => { await node?.stop(); });

  it('accepts a valid token in the Authorization header', async () => {
    await assertAccepted(node, await hs256({ sub: 'u1' }), { via: 'header' });
  });

  it('accepts a valid token in ?token=', async () => {
    await assertAccepted(node, await hs256({ sub: 'u1' }), { via: 'query' });
  });

  it('refuses a missing token with 401', async () => {
    await assertRefused(node, null);
  });

  it('refuses an empty bearer and a non-bearer scheme', async () => {
    await assertRefused(node, null, { headers: { Authorization: 'Bearer ' } });
    await assertRefused(node, null, { headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    await assertRefused(node, '', { via: 'query' });
  });

  it('refuses garbage that is not a JWT', async () => {
    for (const t of ['x', 'a.b', 'a.b.c', '...', `${b64url('{')}.${b64url('}')}.x`, 'ü.ü.ü']) {
      await assertRefused(node, t, { via: 'query' });
    }
  });

  it('refuses a bad signature (claims swapped under the old signature)', async () => {
    const good = await hs256({ sub: 'u1', roles: ['user'] });
    await assertRefused(node, tamper(good, { sub: 'u1', roles: ['admin'] }));
  });

  it('refuses a token signed with the wrong key', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }, { secret: 'not-the-secret-0123456789abcdef' }));
  });

  it('refuses alg: none (with and without a signature)', async () => {
    await assertRefused(node, algNone());
    await assertRefused(node, `${algNone()}x`);
    // alg none spelled differently
    await assertRefused(node, withHeader({ alg: 'None', typ: 'JWT' }));
    await assertRefused(node, withHeader({ alg: 'NONE', typ: 'JWT' }));
  });

  it('refuses algorithms that are not configured or unknown', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }, { alg: 'HS512' }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { alg: 'HS384' }));
    await assertRefused(node, withHeader({ alg: 'XY999', typ: 'JWT' }));
    await assertRefused(node, withHeader({ typ: 'JWT' }));
    await assertRefused(node, withHeader({ alg: 'ES256', typ: 'JWT' }));
  });

  it('refuses an RS256 token when only HS256 is configured', async () => {
    const { privateKey } = rsaKeyPair();
    await assertRefused(node, await rs256(privateKey, { sub: 'u1' }));
  });

  it('refuses an expired token, accepts one inside the leeway', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }, { exp: now() - 3600 }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { exp: now() - 60 }));
    // leeway_seconds is 10 in the base configuration
    await assertAccepted(node, await hs256({ sub: 'u1' }, { exp: now() - 2 }));
  });

  it('refuses a token whose nbf is in the future', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }, { nbf: now() + 3600 }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { nbf: now() + 120 }));
    await assertAccepted(node, await hs256({ sub: 'u1' }, { nbf: now() - 5 }));
  });

  it('refuses a token without sub', async () => {
    await assertRefused(node, await hs256({ sub: undefined, roles: ['admin'] }));
    await assertRefused(node, await hs256({ sub: '' }));
  });

  it('counts 401s in herald_auth_failures_total', async () => {
    const before_ = (await metrics(node)).herald_auth_failures_total;
    assert.equal(typeof before_, 'number', 'herald_auth_failures_total is exported');
    await assertRefused(node, null);
    await assertRefused(node, 'garbage');
    const after_ = (await metrics(node)).herald_auth_failures_total;
    assert.ok(after_ >= before_ + 2, `auth failures ${before_} -> ${after_}`);
  });

  it('never echoes the token in the 401 answer', async () => {
    const token = await hs256({ sub: 'u1' }, { exp: now() - 3600 });
    try {
      await connect(node, token, { via: 'query' });
      assert.fail('connected with an expired token');
    } catch (e) {
      assert.equal(e.statusCode, 401);
      assert.ok(!String(e.body).includes(token), '401 body contains the token');
    }
  });
});

describe('RS256 node', () => {
  let node;
  let dir;
  const keys = rsaKeyPair();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-e2e-keys-'));
    const pemFile = join(dir, 'public.pem');
    writeFileSync(pemFile, keys.publicPem);
    // RS256 only: no shared secret configured.
    node = await startNode({ auth: { jwt: { hs256_secret: null, rs256_public_key_file: pemFile } } });
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a valid RS256 token (header and query)', async () => {
    const t = await rs256(keys.privateKey, { sub: 'u1', roles: ['admin'] });
    await assertAccepted(node, t);
    await assertAccepted(node, t, { via: 'query' });
  });

  it('refuses an RS256 token signed by another key', async () => {
    const other = rsaKeyPair();
    await assertRefused(node, await rs256(other.privateKey, { sub: 'u1' }));
  });

  it('refuses HS256 when no secret is configured, and the HS256-with-public-key confusion', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { secret: keys.publicPem }));
    await assertRefused(node, withHeader({ alg: 'HS256', typ: 'JWT' }, {}, keys.publicPem));
  });

  it('refuses alg none and expired RS256 tokens', async () => {
    await assertRefused(node, algNone());
    await assertRefused(node, await rs256(keys.privateKey, { sub: 'u1' }, { exp: now() - 3600 }));
    await assertRefused(node, await rs256(keys.privateKey, { sub: 'u1' }, { nbf: now() + 3600 }));
  });
});

describe('issuer and audience', () => {
  let node;
  before(async () => {
    node = await startNode({ auth: { jwt: { issuer: 'https://issuer.test', audience: 'herald' } } });
  });
  after(async () => { await node?.stop(); });

  it('accepts matching iss and aud', async () => {
    await assertAccepted(node, await hs256({ sub: 'u1' }, { iss: 'https://issuer.test', aud: 'herald' }));
  });

  it('accepts aud given as an array containing the audience (RFC 7519 §4.1.3)', async () => {
    await assertAccepted(node, await hs256({ sub: 'u1' }, { iss: 'https://issuer.test', aud: ['other', 'herald'] }));
  });

  it('refuses a wrong or missing iss', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }, { iss: 'https://evil.test', aud: 'herald' }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { aud: 'herald' }));
  });

  it('refuses a wrong or missing aud', async () => {
    await assertRefused(node, await hs256({ sub: 'u1' }, { iss: 'https://issuer.test', aud: 'heraldx' }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { iss: 'https://issuer.test', aud: ['a', 'b'] }));
    await assertRefused(node, await hs256({ sub: 'u1' }, { iss: 'https://issuer.test' }));
  });
});

describe('HS256 secret', () => {
  it('is the configured one, not the base one', async (t) => {
    const node = await startNode({ auth: { jwt: { hs256_secret: 'another-secret-for-this-node-only' } } });
    t.after(() => node.stop());
    await assertRefused(node, await hs256({ sub: 'u1' }, { secret: HS256_SECRET }));
    await assertAccepted(node, await hs256({ sub: 'u1' }, { secret: 'another-secret-for-this-node-only' }));
  });
});
