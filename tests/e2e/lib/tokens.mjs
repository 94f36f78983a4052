// JWTs for the identity rules of PROTOCOL §3, minted with `jose` (and by
// hand for the malformed ones jose refuses to make).

import { createHmac, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { HS256_SECRET } from './node.mjs';

const enc = new TextEncoder();
export const now = () => Math.floor(Date.now() / 1000);

export function b64url(input) {
  return Buffer.from(typeof input === 'string' ? input : JSON.stringify(input))
    .toString('base64url');
}

function builder(claims, opts) {
  const c = { sub: 'u1', ...claims };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  const t = now();
  const jwt = new SignJWT(c).setProtectedHeader({ alg: opts.alg, typ: 'JWT', ...(opts.header ?? {}) })
    .setIssuedAt(t);
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? t + 3600);
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  if (opts.iss !== undefined) jwt.setIssuer(opts.iss);
  if (opts.aud !== undefined) jwt.setAudience(opts.aud);
  return jwt;
}

/**
 * HS256 (or opts.alg: HS384/HS512) token. `claims` default {sub:'u1'}; a
 * claim set to undefined is left out. opts: secret, exp (null: none), nbf,
 * iss, aud, header.
 */
export async function hs256(claims = {}, opts = {}) {
  const alg = opts.alg ?? 'HS256';
  return builder(claims, { ...opts, alg }).sign(enc.encode(opts.secret ?? HS256_SECRET));
}

/** RS256 token signed with a node:crypto private KeyObject. */
export async function rs256(privateKey, claims = {}, opts = {}) {
  return builder(claims, { ...opts, alg: 'RS256' }).sign(privateKey);
}

/** A fresh RSA key pair; `publicPem` is SPKI PEM text. */
export function rsaKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) };
}

/** Writes `pem` to `path` and returns the path. */
export function writePem(path, pem) {
  writeFileSync(path, pem);
  return path;
}

/** A token with an arbitrary header, HMAC-SHA256-signed with `secret`. */
export function withHeader(header, claims = {}, secret = HS256_SECRET) {
  const payload = { sub: 'u1', iat: now(), exp: now() + 3600, ...claims };
  const input = `${b64url(header)}.${b64url(payload)}`;
  const sig = createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/** `alg: none`, empty signature. */
export function algNone(claims = {}) {
  const payload = { sub: 'u1', iat: now(), exp: now() + 3600, ...claims };
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

/** Keeps header and signature of `token` but swaps in other claims. */
export function tamper(token, claims) {
  const [h, , s] = token.split('.');
  return `${h}.${b64url({ sub: 'u1', iat: now(), exp: now() + 3600, ...claims })}.${s}`;
}

/** Common identities of the suites. */
export const ids = {
  admin: (customer = 'c1', extra = {}) => ({ sub: 'u1', customer_id: customer, roles: ['admin'], ...extra }),
  manager: (customer = 'c1', extra = {}) => ({ sub: 'u2', customer_id: customer, roles: ['manager'], ...extra }),
  agent: (agentIds = ['a1'], extra = {}) => ({ sub: 'u3', agent_ids: agentIds, ...extra }),
};
