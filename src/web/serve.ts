/**
 * Where the built web chat page lives and how to build it.
 *
 *   import { buildWeb, webRoot } from './web/serve.ts';
 *   if (!existsSync(join(webRoot(), 'index.html'))) await buildWeb();
 *   app.register(fastifyStatic, { root: webRoot() });
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the built page (src/web/dist), which the daemon serves as static files. */
export function webRoot(): string {
  return fileURLToPath(new URL('./dist/', import.meta.url));
}

/** Builds the page into webRoot() with Vite (a dev dependency, so it is loaded only when called). */
export async function buildWeb(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)), logLevel: 'warn' });
}
