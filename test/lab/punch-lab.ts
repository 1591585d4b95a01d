/**
 * Drives the transport's hole punch (docs/PROTOCOL.md §17) between two real HttpsTransports in the
 * lab's homes, with the rendezvous done here: an observer on pub1 tells each home the endpoint of its
 * punch port after its NAT (as a contact would), this process swaps the two endpoints and a start
 * time, both sides punch. Used by test/lab/lab-punch.test.ts and bench/punch-lab.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { LAB_ADDR, type Lab } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const OBSERVER_PORT = 3479;

/** One side's view of one round. */
export interface PunchSide {
  ok: boolean;
  ms?: number;
  attempts?: number;
  remote?: string;
  answer?: string;
  code?: string;
  error?: string;
}

/** One punch round between home1 (a, TLS client) and home2 (b, TLS server). */
export interface PunchRound {
  /** Both ends have an open channel and each got the other's answer over it. */
  ok: boolean;
  /** Endpoints the observer saw for the punch ports. */
  observed: { a: string | null; b: string | null };
  a: PunchSide;
  b: PunchSide;
  /** Wall time from the agreed start to both results, ms. */
  ms: number;
}

class Proc {
  readonly lines: Record<string, unknown>[] = [];
  readonly log: string[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly p: ChildProcess) {
    createInterface({ input: p.stdout! }).on('line', (l) => {
      this.log.push(l);
      try {
        this.lines.push(JSON.parse(l));
      } catch {
        return;
      }
      for (const w of this.waiters.splice(0)) w();
    });
    p.stderr?.on('data', (d: Buffer) => this.log.push(d.toString()));
  }
  send(o: Record<string, unknown>): void {
    this.p.stdin?.write(`${JSON.stringify(o)}\n`);
  }
  /** Resolves with the next line whose op is `op` (consumed), or throws after `ms`. */
  async next(op: string, ms = 30_000): Promise<Record<string, unknown>> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.lines.findIndex((l) => l.op === op);
      if (i >= 0) return this.lines.splice(i, 1)[0];
      if (Date.now() > end) throw new Error(`no "${op}" in ${ms} ms; log:\n${this.log.join('\n')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  async stop(): Promise<void> {
    if (this.p.exitCode !== null || this.p.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.p.once('exit', () => r()));
    this.p.kill('SIGTERM');
    const t = setTimeout(() => this.p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

/** The observer on pub1 and one punch peer per home; every process stopped by PID in `stop`. */
export class PunchRig {
  private procs: Proc[] = [];
  private a!: Proc;
  private b!: Proc;
  private nextPort = 40_000;

  constructor(private readonly lab: Lab) {}

  private spawnIn(host: string, args: string[], stdin: boolean): Proc {
    const p = spawn('ip', ['netns', 'exec', this.lab.ns(host), process.execPath, '--import', 'tsx', ...args], {
      cwd: ROOT,
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const proc = new Proc(p);
    this.procs.push(proc);
    return proc;
  }

  /** Starts the observer and both peers; resolves once the peers listen. */
  async start(): Promise<void> {
    const obs = this.spawnIn('pub1', ['test/lab/punch-observer.ts', String(OBSERVER_PORT)], false);
    this.a = this.spawnIn('home1', ['test/lab/punch-peer.ts', 'a'], true);
    this.b = this.spawnIn('home2', ['test/lab/punch-peer.ts', 'b'], true);
    await Promise.all([this.a.next('ready'), this.b.next('ready')]);
    for (let i = 0; !obs.log.some((l) => l.startsWith('observer on')); i++) {
      if (i > 100) throw new Error(`observer did not start: ${obs.log.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * One round on fresh punch ports (a new NAT mapping each round): observe, swap, punch with the
   * start `leadMs` ahead (b starts `skewMs` after a: a clock or round-trip estimate that is off), then
   * close the channel.
   */
  async round(leadMs = 300, timeoutMs = 6_000, skewMs = 0): Promise<PunchRound> {
    const pa = this.nextPort++;
    const pb = this.nextPort++;
    const observer = `${LAB_ADDR.pub1}:${OBSERVER_PORT}`;
    this.a.send({ op: 'observe', port: pa, observer });
    this.b.send({ op: 'observe', port: pb, observer });
    const [oa, ob] = await Promise.all([this.a.next('observed'), this.b.next('observed')]);
    const observed = { a: (oa.endpoint as string) ?? null, b: (ob.endpoint as string) ?? null };
    if (!observed.a || !observed.b) {
      const fail = { ok: false, code: 'NO_OBSERVATION' };
      return { ok: false, observed, a: fail, b: fail, ms: 0 };
    }
    const startAt = Date.now() + leadMs;
    this.a.send({ op: 'punch', port: pa, remote: observed.b, role: 'client', startAt, timeoutMs });
    this.b.send({ op: 'punch', port: pb, remote: observed.a, role: 'server', startAt: startAt + skewMs, timeoutMs });
    const [ra, rb] = (await Promise.all([
      this.a.next('punched', timeoutMs + 10_000),
      this.b.next('punched', timeoutMs + 10_000),
    ])) as unknown as [PunchSide, PunchSide];
    const ms = Date.now() - startAt;
    this.a.send({ op: 'release' });
    this.b.send({ op: 'release' });
    await Promise.all([this.a.next('released'), this.b.next('released')]);
    const ok = ra.ok && rb.ok && ra.answer === '{"from":"b"}' && rb.answer === '{"from":"a"}';
    return { ok, observed, a: ra, b: rb, ms };
  }

  /** Stops every process this rig started (by PID). */
  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    this.procs = [];
  }
}
