/**
 * The built web page for the browser tests: `npm test` builds it first (pretest); a test run on its
 * own builds it here when it is missing, with Vite (a dev dependency).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webRoot } from '../../src/daemon/web-files.ts';

/** Builds the page into webRoot() unless it is already there. */
export async function ensureWebBuilt(): Promise<void> {
  if (existsSync(join(webRoot(), 'index.html'))) return;
  const { build } = await import('vite');
  await build({
    configFile: fileURLToPath(new URL('../../src/web/vite.config.ts', import.meta.url)),
    logLevel: 'warn',
  });
}
