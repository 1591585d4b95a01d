/** Launching Debian's Chromium for the page tests (playwright cannot download browsers here). */
import { existsSync } from 'node:fs';
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
