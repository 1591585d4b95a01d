/**
 * Where the built web chat page lives and how to build it.
 *
 *   import { buildWeb, webRoot } from './web/serve.ts';
 *   if (!existsSync(join(webRoot(), 'index.html'))) await buildWeb();
 *   app.register(fastifyStatic, { root: webRoot() });
 */
import { fileURLToPath } from 'node:url';

// This file runs as src/web/serve.ts (tests, via tsx) and as dist/web/serve.js (the built package):
// both sit two folders below the package root, so one relative path reaches the root from either.
const fromRoot = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Absolute path of the built page (dist/page at the package root), which the daemon serves as static files. */
export function webRoot(): string {
  return fromRoot('dist/page/');
}

/** Builds the page into webRoot() with Vite (a dev dependency, so it is loaded only when called). */
export async function buildWeb(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: fromRoot('src/web/vite.config.ts'), logLevel: 'warn' });
}
