/**
 * End-to-end helpers: run `bin/mesh` exactly as a user types it, start daemons as real processes
 * on 127.0.0.x:7575, and clean every one of them up by PID.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestCa, issueCert } from '../../src/transport/https/test-ca.ts';

const run = promisify(execFile);
/** Absolute path of bin/mesh. */
export const MESH = resolve(import.meta.dirname, '../../bin/mesh');

/** Result of one CLI call. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin/mesh --data-dir DIR ...args`; never throws on a non-zero exit. */
export async function mesh(dir: string, ...args: string[]): Promise<CliResult> {
  try {
    const r = await run(MESH, ['--data-dir', dir, ...args], {
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** Runs a CLI command with --json and parses stdout; throws with stderr on failure. */
export async function meshJson<T = Record<string, unknown>>(dir: string, ...args: string[]): Promise<T> {
  const r = await mesh(dir, ...args, '--json');
  if (r.code !== 0) throw new Error(`mesh ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A daemon started as a real process. */
export interface RunningNode {
  dir: string;
  host: string;
  apiPort: number;
  uuid: string;
  proc: ChildProcess;
  log: string[];
  /** Stops it with SIGTERM and waits for exit. */
  stop(): Promise<void>;
}

const started = new Set<RunningNode>();
const dirs: string[] = [];

/** A fresh data dir (removed by cleanup()). */
export function tempDir(prefix = 'mesh-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** `mesh init` in a fresh dir; returns the dir and uuid. */
export async function initNode(name: string): Promise<{ dir: string; uuid: string }> {
  const dir = tempDir(`mesh-${name}-`);
  const r = await meshJson<{ uuid: string }>(dir, 'init', '--name', name);
  return { dir, uuid: r.uuid };
}

/** `mesh start --host HOST --api-port PORT --json` as a background process; resolves once it is running. */
export function startNode(dir: string, host: string, apiPort: number, ...extra: string[]): Promise<RunningNode> {
  return startNodeWithEnv({}, dir, host, apiPort, ...extra);
}

/** Like startNode, with extra environment variables (e.g. NODE_EXTRA_CA_CERTS for a test CA). */
export async function startNodeWithEnv(
  env: Record<string, string>,
  dir: string,
  host: string,
  apiPort: number,
  ...extra: string[]
): Promise<RunningNode> {
  const proc = spawn(
    MESH,
    [
      '--data-dir',
      dir,
      'start',
      '--host',
      host,
      '--api-port',
      String(apiPort),
      '--log-level',
      'warn',
      '--json',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    },
  );
  const log: string[] = [];
  proc.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const first = await new Promise<string>((resolveLine, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`node in ${dir} did not start in 30 s: ${log.join('')}`)), 30_000);
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      try {
        JSON.parse(buf);
        clearTimeout(timer);
        resolveLine(buf);
      } catch {
        /* wait for the whole document */
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mesh start exited with ${code}: ${log.join('')}`));
    });
  });
  const info = JSON.parse(first) as { uuid: string };
  const node: RunningNode = {
    dir,
    host,
    apiPort,
    uuid: info.uuid,
    proc,
    log,
    stop: () =>
      new Promise<void>((done) => {
        started.delete(node);
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
      }),
  };
  started.add(node);
  return node;
}

/** Stops every node still running and removes temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...started].map((n) => n.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Makes two running nodes contacts: invite → add → accept. Returns the auth phrases both saw. */
export async function befriend(a: RunningNode, b: RunningNode): Promise<{ added: string; requested: string }> {
  const inv = await meshJson<{ code: string }>(a.dir, 'invite');
  const add = await meshJson<{ uuid: string; authPhrase: string }>(b.dir, 'add', inv.code);
  const reqs = await meshJson<{ uuid: string; authPhrase: string }[]>(a.dir, 'requests');
  const req = reqs.find((r) => r.uuid === b.uuid);
  if (!req) throw new Error('request did not arrive');
  await meshJson(a.dir, 'accept', b.uuid);
  await waitFor(
    async () => {
      const cs = await meshJson<{ uuid: string; status: string }[]>(b.dir, 'contacts');
      return cs.find((c) => c.uuid === a.uuid && c.status === 'active');
    },
    20_000,
    'the contact to become active',
  );
  return { added: add.authPhrase, requested: req.authPhrase };
}

/**
 * A test CA and a certificate for "localhost" in a temp dir, for a public peer with a domain:
 * `files` for its `--tls-*` options, `env` that makes every node trust the CA.
 */
export async function localhostPki(): Promise<{
  files: { ca: string; cert: string; key: string };
  env: { NODE_EXTRA_CA_CERTS: string };
}> {
  const ca = await createTestCa('Mesh e2e CA');
  const cert = await issueCert(ca, 'localhost');
  const pki = tempDir('mesh-pki-');
  const files = { ca: join(pki, 'ca.pem'), cert: join(pki, 'cert.pem'), key: join(pki, 'key.pem') };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.cert, cert.certPem);
  writeFileSync(files.key, cert.keyPem, { mode: 0o600 });
  return { files, env: { NODE_EXTRA_CA_CERTS: files.ca } };
}
