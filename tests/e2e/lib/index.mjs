// One import for the suites.
export * from './node.mjs';
export * from './tokens.mjs';
export * from './client.mjs';
export * from './http.mjs';
export * from './cluster.mjs';
export * from './plugins.mjs';

import { randomUUID } from 'node:crypto';
/** A short unique suffix, so events and ids never collide across tests. */
export const uniq = (p = 'x') => `${p}${randomUUID().slice(0, 8)}`;
