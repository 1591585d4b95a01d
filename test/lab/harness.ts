/**
 * NAT-lab harness: builds `../shared/netlab` (network namespaces, home NAT routers) under one
 * MLAB_PREFIX per test, runs real `bin/mesh` daemons inside the namespaces and drives them with the
 * CLI exactly as a user would (`ip netns exec NS bin/mesh … --json`: each namespace has its own
 * 127.0.0.1, so every node keeps the default API port). Every process it starts is stopped by PID.
 *
 * Needs root, nftables, conntrack and (for port mapping) miniupnpd-nftables; `.ci/run` installs them.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Absolute path of the lab script (beside the project, in ../shared). */
export const LAB_SH = resolve(import.meta.dirname, '../../../shared/netlab/lab.sh');
/** Absolute path of bin/mesh. */
export const MESH = resolve(import.meta.dirname, '../../bin/mesh');

/** Hosts that can run a node. */
export type LabHost = 'pub1' | 'pub2' | 'home1' | 'home2';
/** Router names. */
export type LabRouter = 'nat1' | 'nat2';
/** NAT mapping behaviour (lab.sh `nat`). */
export type NatMap = 'preserve' | 'random';
/** Inbound filtering (lab.sh `nat`). */
export type NatFilter = 'drop' | 'reject' | 'open';

/** Public addresses of the lab's plan (lab.sh header). */
export const LAB_ADDR = {
  pub1: '198.18.0.11',
  pub2: '198.18.0.12',
  nat1: '198.18.0.21',
  nat2: '198.18.0.22',
  home1: '10.77.1.10',
  home2: '10.77.2.20',
} as const;

/** A home host's LAN address behind a router (lab.sh keeps the host number when it moves: home1 → 10.77.2.10 behind nat2). */
export function lanOf(host: 'home1' | 'home2', router: LabRouter): string {
  return `10.77.${router === 'nat1' ? 1 : 2}.${host === 'home1' ? 10 : 20}`;
}

/** Why the lab cannot run here, or null when it can (root, nft, ip, the lab script, a built dist/). */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces, nftables)';
  for (const tool of ['nft', 'conntrack', 'ip']) {
    if (!['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${tool}`)))
      return `the NAT lab needs ${tool} (apt-get install -y nftables conntrack iproute2)`;
  }
  if (!existsSync(LAB_SH)) return `the NAT lab script is missing: ${LAB_SH}`;
  if (!existsSync(resolve(import.meta.dirname, '../../dist/cli/main.js'))) return 'dist/ is not built (npm run build)';
  return null;
}

/** Result of a command run in the lab; never throws on a non-zero exit. */
export interface LabResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], env: NodeJS.ProcessEnv, timeout = 60_000): Promise<LabResult> {
  try {
    const r = await run(file, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** Options for `Lab.up`. */
export interface LabOptions {
  map?: NatMap;
  filter?: NatFilter;
  /** Runs miniupnpd (UPnP-IGD, NAT-PMP, PCP) on both routers. */
  upnp?: boolean;
}

/** The read-only CLI queries the per-namespace reader answers (their `--json` output is the API's answer). */
const READS: Record<string, { route: string; input?: unknown }> = {
  status: { route: 'status' },
  contacts: { route: 'contacts' },
  requests: { route: 'requests' },
  inbox: { route: 'inbox', input: { limit: 50 } },
};

/** A long-lived `api-reader.mjs` inside one namespace. */
class Reader {
  readonly #proc: ChildProcess;
  readonly #waiting = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  #next = 1;
  #buf = '';

  constructor(ns: string) {
    this.#proc = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, resolve(import.meta.dirname, 'api-reader.mjs'), CLIENT_JS],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    this.#proc.stdout?.on('data', (d: Buffer) => {
      this.#buf += d.toString();
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        const r = JSON.parse(this.#buf.slice(0, i)) as { id: number; ok: boolean; value?: unknown; error?: string };
        this.#buf = this.#buf.slice(i + 1);
        const w = this.#waiting.get(r.id);
        this.#waiting.delete(r.id);
        if (r.ok) w?.ok(r.value);
        else w?.fail(new Error(r.error));
      }
    });
    this.#proc.once('exit', () => {
      for (const w of this.#waiting.values()) w.fail(new Error('the lab reader exited'));
      this.#waiting.clear();
    });
  }

  call(dir: string, route: string, input: unknown): Promise<unknown> {
    const id = this.#next++;
    return new Promise((ok, fail) => {
      this.#waiting.set(id, { ok, fail });
      this.#proc.stdin?.write(`${JSON.stringify({ id, dir, route, input })}\n`);
    });
  }

  /** Stops the reader by its PID. */
  stop(): void {
    this.#proc.stdin?.end();
    this.#proc.kill();
  }
}

/** The built CLI's API client (what `mesh status` etc. call). */
const CLIENT_JS = resolve(import.meta.dirname, '../../dist/cli/client.js');

/** One emulated internet: `new Lab('nat_x_1')`, `await lab.up()`, …, `await lab.down()`. */
export class Lab {
  readonly nodes = new Set<LabNode>();
  readonly #dir: string;
  readonly #readers = new Map<string, Reader>();

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_]{1,32}$/.test(prefix)) throw new Error(`bad MLAB_PREFIX ${prefix}: letters, digits, _ (≤ 32)`);
    this.#dir = mkdtempSync(join(tmpdir(), `mesh-lab-${prefix}-`));
  }

  get #env(): NodeJS.ProcessEnv {
    return { ...process.env, MLAB_PREFIX: this.prefix, NO_COLOR: '1' };
  }

  /** Runs `lab.sh ARGS…` for this prefix; throws with its stderr on failure. */
  async sh(...args: string[]): Promise<string> {
    const r = await exec(LAB_SH, args, this.#env);
    if (r.code !== 0) throw new Error(`lab.sh ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** (Re)builds the lab. */
  async up(opts: LabOptions = {}): Promise<void> {
    const r = await exec(LAB_SH, ['up'], {
      ...this.#env,
      MLAB_MAP: opts.map ?? 'preserve',
      MLAB_FILTER: opts.filter ?? 'drop',
      MLAB_UPNP: opts.upnp ? 'on' : 'off',
    });
    if (r.code !== 0) throw new Error(`lab.sh up failed (${r.code}): ${r.stderr}${r.stdout}`);
  }

  /** Namespace name of a lab node. */
  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  /** Runs a command inside a host's namespace. */
  exec(host: string, file: string, args: string[], timeout?: number): Promise<LabResult> {
    return exec('ip', ['netns', 'exec', this.ns(host), file, ...args], this.#env, timeout);
  }

  /**
   * Answers a read-only query (`status`, `contacts`, `requests`, `inbox`) for the node with data dir
   * `dir` in `host`'s namespace through the namespace's reader (MLAB_CLI_ONLY=1: null, use the CLI).
   */
  read(host: string, dir: string, command: string): Promise<unknown> | null {
    const q = READS[command];
    if (!q || process.env.MLAB_CLI_ONLY === '1') return null;
    const ns = this.ns(host);
    let r = this.#readers.get(ns);
    if (!r) {
      r = new Reader(ns);
      this.#readers.set(ns, r);
    }
    return r.call(dir, q.route, q.input);
  }

  /** Creates an identity (`mesh init`) for a node that will run on `host`. */
  async node(host: LabHost, name: string): Promise<LabNode> {
    const node = new LabNode(this, host, name, join(this.#dir, name));
    const init = await node.json<{ uuid: string }>('init', '--name', name);
    node.uuid = init.uuid;
    this.nodes.add(node);
    return node;
  }

  /** Stops every node (SIGTERM, then SIGKILL after 5 s), tears the lab down and removes the data dirs. */
  async down(): Promise<void> {
    await Promise.all([...this.nodes].map((n) => n.stop()));
    for (const r of this.#readers.values()) r.stop();
    this.#readers.clear();
    await exec(LAB_SH, ['down'], this.#env);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A Mesh node living in one lab host's namespace. */
export class LabNode {
  uuid = '';
  proc: ChildProcess | null = null;
  /** Everything the daemon wrote (stdout and stderr), for failure messages. */
  readonly log: string[] = [];
  #startArgs: string[] = [];

  constructor(
    readonly lab: Lab,
    public host: LabHost,
    readonly name: string,
    readonly dir: string,
  ) {}

  /** Runs `bin/mesh --data-dir DIR ARGS…` inside the namespace; never throws. */
  cli(...args: string[]): Promise<LabResult> {
    return this.lab.exec(this.host, MESH, ['--data-dir', this.dir, ...args]);
  }

  /**
   * Runs a CLI command with --json and parses stdout; throws with stderr on failure. The read-only
   * queries (status, contacts, requests, inbox) go through the lab's reader: the same API call and
   * JSON as the CLI prints, without a Node start-up per look.
   */
  async json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const read = args.length === 1 ? this.lab.read(this.host, this.dir, args[0]) : null;
    if (read) {
      try {
        return (await read) as T;
      } catch (e) {
        throw new Error(`${this.name}: mesh ${args[0]} failed: ${(e as Error).message}`);
      }
    }
    const r = await this.cli(...args, '--json');
    if (r.code !== 0) throw new Error(`${this.name}: mesh ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Starts the daemon (`mesh start ARGS…`) and resolves once its start-up JSON was printed. */
  async start(...args: string[]): Promise<void> {
    if (this.proc) throw new Error(`${this.name} is already running`);
    this.#startArgs = args;
    const proc = spawn(
      'ip',
      ['netns', 'exec', this.lab.ns(this.host), MESH, '--data-dir', this.dir, 'start', '--json', ...args],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    let out = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${this.name} did not start in 20 s:\n${this.log.join('')}`)),
        20_000,
      );
      proc.stdout?.on('data', (d: Buffer) => {
        this.log.push(d.toString());
        out += d.toString();
        // The start-up summary is one pretty-printed JSON document ending in "}\n" at column 0.
        if (/\n}\s*$/.test(out) && out.includes('"api"')) {
          clearTimeout(timer);
          ok();
        }
      });
      proc.stderr?.on('data', (d: Buffer) => this.log.push(d.toString()));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        this.proc = null;
        fail(new Error(`${this.name} exited (${code}) during start-up:\n${this.log.join('')}`));
      });
    });
    proc.removeAllListeners('exit');
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
  }

  /** Stops the daemon gracefully (SIGTERM; SIGKILL after 5 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
    this.proc = null;
  }

  /** Restarts with the same `start` arguments. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start(...this.#startArgs);
  }

  /** Re-plugs this home host behind another router (`lab.sh move`); the daemon keeps running. */
  async move(router: LabRouter): Promise<void> {
    await this.lab.sh('move', this.host, router);
  }
}

/** Polls `check` every 100 ms until it returns a truthy value or `ms` pass; returns the value or throws `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Contact entry as `mesh contacts --json` prints it (the fields the lab tests read). */
export interface LabContact {
  uuid: string;
  name: string;
  address: string | null;
  online: boolean;
  status: string;
  channel?: boolean;
  path?: 'direct' | 'relay' | 'none';
  via?: string | null;
}

/** `a` invites `b`, `b` adds, `a` accepts; resolves when both list each other as active. */
export async function befriend(a: LabNode, b: LabNode, ms = 15_000): Promise<void> {
  const { code } = await a.json<{ code: string }>('invite');
  await b.json('add', code, '--name', a.name);
  await waitFor(
    `${a.name} to receive ${b.name}'s request`,
    async () => {
      const reqs = await a.json<{ uuid: string }[]>('requests');
      return reqs.some((r) => r.uuid === b.uuid);
    },
    ms,
  );
  await a.json('accept', b.uuid);
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    await waitFor(
      `${x.name} to see ${y.name} as an active contact`,
      async () => {
        const cs = await x.json<LabContact[]>('contacts');
        return cs.some((c) => c.uuid === y.uuid && c.status === 'active');
      },
      ms,
    );
  }
}

/** Sends `text` from `a` to `b` and waits until it is in `b`'s inbox exactly once; returns the time it took (ms). */
export async function deliver(a: LabNode, b: LabNode, text: string, ms = 15_000): Promise<number> {
  const t0 = Date.now();
  await a.json('send', b.uuid, text);
  await waitFor(
    `"${text}" from ${a.name} in ${b.name}'s inbox`,
    async () => {
      const inbox = await b.json<{ from: string; text: string }[]>('inbox');
      const n = inbox.filter((m) => m.text === text && m.from === a.uuid).length;
      if (n > 1) throw new Error(`"${text}" arrived ${n} times`);
      return n === 1;
    },
    ms,
  );
  return Date.now() - t0;
}
