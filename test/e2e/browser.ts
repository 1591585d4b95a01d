/** Launching Debian's Chromium for the page tests (playwright cannot download browsers here). */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian's chromium package installs the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** True when the browser is installed (`.ci/run` installs it; the suites skip otherwise). */
export const hasChromium = existsSync(CHROMIUM);

/** Headless Chromium with the flags this closed network needs (no background networking). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Where the page tests save screenshots: an ignored folder, so a test run leaves the checkout clean;
 * `UPDATE_SCREENSHOTS=1` writes the documentation's copies in docs/screenshots/ instead.
 */
export function screenshotDir(): string {
  const dir = fileURLToPath(
    new URL(
      process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/screenshots/' : '../../test-results/screenshots/',
      import.meta.url,
    ),
  );
  mkdirSync(dir, { recursive: true });
  return dir;
}
