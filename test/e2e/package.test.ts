/**
 * The built package as a user gets it: `dist/` loads in plain `node` (no TypeScript loader) as
 * 'mesh-p2p', the README's library example runs as written, and `bin/mesh` runs the built
 * JavaScript. `npm test` builds dist first (pretest), so this never checks a stale build.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Plain node: no NODE_OPTIONS that could smuggle a loader in from the test runner's environment. */
function plainEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return { ...env, NO_COLOR: '1' };
}

/** Runs `node file` in `cwd` with plain node; returns stdout, throws with stderr on failure. */
async function node(cwd: string, file: string): Promise<string> {
  const r = await run(process.execPath, [file], { cwd, env: plainEnv(), timeout: 30_000 });
  return r.stdout;
}

/** The ```js block of README.md's "Use it as a library" section. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it as a library'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README.md has a ```js block under "Use it as a library"');
  return m[1];
}

/** Replaces `from` (which must occur) with `to`, so a changed README fails here rather than silently. */
function swap(code: string, from: string, to: string): string {
  assert.ok(code.includes(from), `the README example contains ${from}`);
  return code.replaceAll(from, to);
}

describe('the built package', { timeout: 120_000 }, () => {
  let app: string;

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist/index.js')), 'dist/ is built (npm run build)');
    // A consumer project: node_modules/mesh-p2p → this repository, as `npm install` would link it.
    app = mkdtempSync(join(tmpdir(), 'mesh-consumer-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'mesh-p2p'), 'dir');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  });
  after(() => rmSync(app, { recursive: true, force: true }));

  test('package.json points exports, types and bin at built files', () => {
    const entry = pkg.exports['.'];
    for (const file of [entry.default, entry.types, pkg.types])
      assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
    assert.match(entry.default, /^\.\/dist\/.*\.js$/);
    assert.match(entry.types, /^\.\/dist\/.*\.d\.ts$/);
    assert.ok(!JSON.stringify(pkg.exports).includes('src/'), 'nothing exported from src/');
  });

  test("import 'mesh-p2p' in plain node exports MeshNode and the adapters", async () => {
    writeFileSync(
      join(app, 'load.mjs'),
      `import * as mesh from 'mesh-p2p';
       console.log(JSON.stringify({ keys: Object.keys(mesh), MeshNode: typeof mesh.MeshNode,
         loaders: process.execArgv, resolved: import.meta.resolve('mesh-p2p') }));`,
    );
    const out = JSON.parse(await node(app, 'load.mjs'));
    assert.equal(out.MeshNode, 'function');
    for (const name of ['MeshNode', 'SqliteStore', 'MemoryStore', 'HttpsTransport', 'MemoryNetwork', 'createIdentity'])
      assert.ok(out.keys.includes(name), name);
    assert.deepEqual(out.loaders, []);
    assert.match(out.resolved, /\/dist\/index\.js$/);
  });

  test("the README's library example runs under plain node", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-readme-'));
    try {
      // Substituted so the example binds loopback on a free port and keeps its database in a temp dir.
      let code = readmeExample();
      code = swap(code, "'/var/lib/myapp/mesh.db'", JSON.stringify(join(dir, 'mesh.db')));
      code = swap(code, "host: '0.0.0.0', port: 7575", "host: '127.0.0.1', port: 0");
      writeFileSync(join(app, 'readme-example.mjs'), code);
      const out = await node(app, 'readme-example.mjs');
      assert.match(out, /invite code: mesh1-\S+/);
      assert.match(out, /listen: \[ '127\.0\.0\.1:\d+' \]/);
      assert.ok(existsSync(join(dir, 'mesh.db')), 'the store was created where the example said');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bin/mesh runs dist/cli/main.js with plain node (no TypeScript loader)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-bin-'));
    const mesh = join(ROOT, 'bin/mesh');
    try {
      await run(mesh, ['--data-dir', dir, 'init', '--name', 'pkg'], { env: plainEnv() });
      // Port 0 for both: this test must not take the fixed ports the other e2e tests use.
      const p = spawn(
        mesh,
        ['--data-dir', dir, 'start', '--host', '127.0.0.1', '--port', '0', '--api-port', '0', '--json'],
        { stdio: ['ignore', 'pipe', 'ignore'], env: plainEnv() },
      );
      try {
        let buf = '';
        const info = await new Promise<{ pid: number }>((ok, fail) => {
          p.stdout.on('data', (d: Buffer) => {
            buf += d.toString();
            try {
              ok(JSON.parse(buf));
            } catch {
              /* wait for the whole document */
            }
          });
          p.once('exit', (c) => fail(new Error(`mesh start exited with ${c}`)));
        });
        // bin/mesh execs node, so the daemon's pid is the wrapper's and its command line is the real one.
        assert.equal(info.pid, p.pid);
        const argv = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0');
        assert.equal(argv[0], 'node');
        const script = argv.findIndex((a) => a.endsWith('/dist/cli/main.js'));
        assert.ok(script > 0, `runs dist/cli/main.js: ${argv.join(' ')}`);
        assert.ok(!argv.slice(1, script).some((a) => /^--(import|loader|require|experimental-loader)\b|tsx/.test(a)));
      } finally {
        await new Promise<void>((done) => {
          if (p.exitCode !== null) return done();
          p.once('exit', () => done());
          p.kill('SIGTERM');
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
