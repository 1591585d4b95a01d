/**
 * Two real daemons (`bin/mesh start`, the built dist/, as a user runs them) on 127.0.0.7/.8, made
 * contacts through the CLI (invite → add → accept); then a steady `rate` msgs/s through A's local
 * API (`POST /api/send`) for `seconds`, each message timed until it appears on B's `/api/events`
 * stream. "No stall" = every message delivered, the slowest within 1 s of its send.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';

const MESH = resolve(import.meta.dirname, '../bin/mesh');
const run = promisify(execFile);

async function cli<T>(dir: string, ...args: string[]): Promise<T> {
  const { stdout } = await run(MESH, ['--data-dir', dir, ...args, '--json']);
  return JSON.parse(stdout) as T;
}

async function start(dir: string, host: string, apiPort: number) {
  const p = spawn(
    MESH,
    ['--data-dir', dir, 'start', '--host', host, '--api-port', String(apiPort), '--json', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r, j) => {
    p.stdout.once('data', () => r());
    p.once('exit', (c) => j(new Error(`mesh start exited ${c}`)));
  });
  return p;
}

/** Result of the two-daemon run. */
export interface DaemonsResult {
  rate: number;
  sent: number;
  delivered: number;
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  noStall: boolean;
  channel: boolean;
}

/** Runs the two-daemon steady-rate test. */
export async function runDaemons({ seconds = 5, rate = 1000 } = {}): Promise<DaemonsResult> {
  const dirs = ['a', 'b'].map((n) => mkdtempSync(join(tmpdir(), `mesh-bench-${n}-`)));
  const procs: ReturnType<typeof spawn>[] = [];
  try {
    const ids: { uuid: string }[] = [];
    for (const [i, d] of dirs.entries()) ids.push(await cli<{ uuid: string }>(d, 'init', '--name', `d${i}`));
    procs.push(await start(dirs[0], '127.0.0.7', 17611));
    procs.push(await start(dirs[1], '127.0.0.8', 17612));
    const inv = await cli<{ code: string }>(dirs[0], 'invite');
    await cli(dirs[1], 'add', inv.code);
    await cli(dirs[0], 'accept', ids[1].uuid);
    const token = (d: string) => readFileSync(join(d, 'api-token'), 'utf8').trim();
    // Wait for the contact to be active on both ends and the channel to open.
    let channel = false;
    for (let i = 0; i < 100 && !channel; i++) {
      const cs = await cli<{ uuid: string; status: string; channel?: boolean }[]>(dirs[0], 'contacts');
      channel = cs.some((c) => c.uuid === ids[1].uuid && c.status === 'active' && c.channel === true);
      if (!channel) await new Promise((r) => setTimeout(r, 100));
    }
    const sentAt = new Map<string, number>();
    const lat: number[] = [];
    const ac = new AbortController();
    const events = await fetch('http://127.0.0.1:17612/api/events', {
      headers: { authorization: `Bearer ${token(dirs[1])}` },
      signal: ac.signal,
    });
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    void (async () => {
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let k = buf.indexOf('\n\n');
        while (k >= 0) {
          const block = buf.slice(0, k);
          buf = buf.slice(k + 2);
          k = buf.indexOf('\n\n');
          if (!block.startsWith('event: message\n')) continue;
          const m = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { text: string };
          const t0 = sentAt.get(m.text);
          if (t0 !== undefined) lat.push(performance.now() - t0);
        }
      }
    })();
    const api = new Pool('http://127.0.0.1:17611', { connections: 16, pipelining: 1 });
    const auth = { authorization: `Bearer ${token(dirs[0])}`, 'content-type': 'application/json' };
    let sent = 0;
    const total = seconds * rate;
    const t0 = performance.now();
    const posts: Promise<unknown>[] = [];
    // Steady rate: every ms, send what is due by now (no bursts beyond the schedule).
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        const text = `s${sent++}`;
        sentAt.set(text, performance.now());
        posts.push(
          api
            .request({
              path: '/api/send',
              method: 'POST',
              headers: auth,
              body: JSON.stringify({ to: ids[1].uuid, text }),
            })
            .then((r) => r.body.dump()),
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(posts);
    const deadline = performance.now() + 5000;
    while (lat.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const elapsed = (performance.now() - t0) / 1000;
    ac.abort();
    await api.close();
    lat.sort((x, y) => x - y);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
    const maxMs = lat.length ? lat[lat.length - 1] : 0;
    return {
      rate,
      sent: total,
      delivered: lat.length,
      msgsPerSec: Math.round(lat.length / elapsed),
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs,
      noStall: lat.length === total && maxMs <= 1000,
      channel,
    };
  } finally {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null) return r();
            p.once('exit', () => r());
            p.kill('SIGTERM');
          }),
      ),
    );
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
