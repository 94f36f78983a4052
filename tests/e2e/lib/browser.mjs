// Debian's Chromium, headless, for the page suites: the flags this
// sandbox requires and a fresh user-data dir, removed on close.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
/** A describe() skip option: the reason when Chromium is missing. */
export const skipWithoutChromium = !haveChromium
  && `${CHROMIUM} is not installed: skipping the browser tests`;

/**
 * Launches a persistent context (viewport default 1280x900). Returns
 * {context, close()}; close() is safe to call when launching failed.
 */
export async function launchChromium({ viewport = { width: 1280, height: 900 } } = {}) {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-chromium-'));
  let context = null;
  const close = async () => {
    await context?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, timeout: 30_000, viewport,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    await close();
    throw e;
  }
  return { context, close };
}
