/**
 * Transport benchmark (issue 9). In one run, 10 messages in flight, loopback, 512 B:
 * - `baseline`: bare undici → fastify HTTPS keep-alive POST (no Mesh logic);
 * - `post` and `channel`: two real MeshNodes (HTTPS on 127.0.0.2 / 127.0.0.3, durable SQLite
 *   stores, rate limits AS SHIPPED), `node.send` on A → delivered to the app on B, with the
 *   channel binding off (POST only, like a v1 peer) and on;
 * - `rawTls`: length-prefixed messages echoed over one TLS connection (the physical limit);
 * - `daemons`: two real daemons, local API `POST /api/send` at a steady 1,000 msgs/s → B's
 *   `/api/events` stream; `noStall` = all delivered, the slowest within 1 s;
 * - `daemon`: start-up time and idle RSS of `bin/mesh start` (median of 5).
 * Two threads by default (the far end of each pair in a worker thread, like two real nodes with a
 * core each); `--one-thread` puts both ends of each pair on one thread. The JSON says which (`threads`).
 *
 *   npm run bench:transport -- [--json] [--seconds 5] [--daemon-only] [--one-thread]
 *   npm run bench:transport -- --case channel|post   (one Mesh case alone, e.g. under --cpu-prof)
 * With --json, stdout is ONE JSON document; otherwise a table.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runBaseline } from './transport-baseline.ts';
import { runDaemons } from './transport-daemons.ts';
import { meshRun } from './transport-mesh.ts';
import { runRawTls } from './transport-raw.ts';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;
const DAEMON_ONLY = process.argv.includes('--daemon-only');
const JSON_OUT = process.argv.includes('--json');
const DAEMON_RUNS = 5;
const IN_FLIGHT = 10;
/**
 * Two threads by default: the far end of every pair (fastify server, TLS echo, Mesh node B) runs in
 * a worker thread, so each end has its own event loop and core, as two real nodes do. `--one-thread`
 * runs both ends of every pair on the main thread (how this bench measured before).
 */
const SPLIT = !process.argv.includes('--one-thread');
async function daemonStartupOnce() {
  const mesh = resolve(import.meta.dirname, '../bin/mesh');
  const dir = mkdtempSync(join(tmpdir(), 'mesh-bench-daemon-'));
  await new Promise<void>((r, j) =>
    spawn(mesh, ['--data-dir', dir, 'init', '--json'], { stdio: 'ignore' }).once('exit', (c) =>
      c === 0 ? r() : j(new Error('init failed')),
    ),
  );
  const t0 = performance.now();
  const p = spawn(
    mesh,
    [
      '--data-dir',
      dir,
      'start',
      '--host',
      '127.0.0.4',
      '--port',
      '17576',
      '--api-port',
      '17599',
      '--json',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => p.stdout.once('data', () => r()));
  const startupMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 3000));
  const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  await new Promise<void>((r) => {
    p.once('exit', () => r());
    p.kill('SIGTERM');
  });
  rmSync(dir, { recursive: true, force: true });
  return { startupMs, rssMb };
}

/** Median (and range) over DAEMON_RUNS starts: one start is at the mercy of whatever else the machine does. */
async function daemonStartup() {
  const runs = [];
  for (let i = 0; i < DAEMON_RUNS; i++) runs.push(await daemonStartupOnce());
  const med = (xs: number[]) => Math.round(xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  const range = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
  const ms = runs.map((r) => r.startupMs);
  const mb = runs.map((r) => r.rssMb);
  return {
    startupMs: med(ms),
    startupRangeMs: range(ms),
    idleRssMb: med(mb),
    idleRssRangeMb: range(mb),
    runs: DAEMON_RUNS,
  };
}

if (!existsSync(resolve(import.meta.dirname, '../dist/cli/main.js'))) {
  console.error('bench/transport: bin/mesh runs the built package — run `npm run build` first');
  process.exit(2);
}
if (DAEMON_ONLY) {
  const daemon = await daemonStartup();
  console.log(
    `daemon: start-up ${daemon.startupMs} ms (${daemon.startupRangeMs}), idle RSS ${daemon.idleRssMb} MB (${daemon.idleRssRangeMb}), median of ${daemon.runs}`,
  );
  process.exit(0);
}
const ONLY = process.argv.includes('--case') ? process.argv[process.argv.indexOf('--case') + 1] : null;
if (ONLY === 'channel' || ONLY === 'post') {
  // One case alone (for profiling): node --cpu-prof --import tsx bench/transport.ts --case channel
  console.log(JSON.stringify(await meshRun(SECONDS, ONLY === 'channel', IN_FLIGHT, SPLIT)));
  process.exit(0);
}
const log = (m: string) => (JSON_OUT ? console.error(m) : console.log(m));
const THREADS = SPLIT
  ? 'two threads: each pair has its far end (server, echo, node B) in a worker thread'
  : 'one thread: both ends of each pair on the main thread';
log(`bench/transport  ${SECONDS}s per case, ${IN_FLIGHT} in flight, loopback, ${process.version}, ${THREADS}`);
const loadBefore = loadavg();
const baseline = await runBaseline({ durationMs: SECONDS * 1000, connections: IN_FLIGHT, split: SPLIT });
const rawTls = await runRawTls({ durationMs: SECONDS * 1000, inFlight: IN_FLIGHT, split: SPLIT });
const post = await meshRun(SECONDS, false, IN_FLIGHT, SPLIT);
const channel = await meshRun(SECONDS, true, IN_FLIGHT, SPLIT);
const daemons = await runDaemons({ seconds: SECONDS, rate: 1000 });
const daemon = await daemonStartup();
const r2 = (x: number) => Math.round(x * 100) / 100;
const trim = (r: { msgsPerSec: number; p50Ms: number; p99Ms: number }) => ({
  msgsPerSec: r.msgsPerSec,
  p50Ms: r2(r.p50Ms),
  p99Ms: r2(r.p99Ms),
});
const result = {
  bench: 'transport',
  seconds: SECONDS,
  inFlight: IN_FLIGHT,
  node: process.version,
  cpus: cpus().length,
  threads: SPLIT ? 2 : 1,
  loadavg: { before: loadBefore.map(r2), after: loadavg().map(r2) },
  baseline: trim(baseline),
  // Beside the rates: SQLite commits per message at each end, and process CPU per message (both
  // steadier than msgs/s when other processes load the machine).
  post: { ...trim(post), commitsPerMsg: post.commitsPerMsg, cpuUsPerMsg: post.cpuUsPerMsg },
  channel: { ...trim(channel), commitsPerMsg: channel.commitsPerMsg, cpuUsPerMsg: channel.cpuUsPerMsg },
  rawTls: trim(rawTls),
  ratio: {
    post: r2(post.msgsPerSec / baseline.msgsPerSec),
    channel: r2(channel.msgsPerSec / baseline.msgsPerSec),
    channelOfRaw: r2(channel.msgsPerSec / rawTls.msgsPerSec),
  },
  daemons: { ...daemons, p50Ms: r2(daemons.p50Ms), p99Ms: r2(daemons.p99Ms), maxMs: r2(daemons.maxMs) },
  daemon: { startupMs: daemon.startupMs, idleRssMb: daemon.idleRssMb },
};
if (JSON_OUT) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const fmt = (x: number) => x.toFixed(2);
  const row = (name: string, r: { msgsPerSec: number; p50Ms: number; p99Ms: number }) => ({
    case: name,
    msgsPerSec: r.msgsPerSec,
    p50Ms: fmt(r.p50Ms),
    p99Ms: fmt(r.p99Ms),
    ratio: fmt(r.msgsPerSec / baseline.msgsPerSec),
  });
  console.table([
    row('baseline: undici → fastify HTTPS POST 512 B', baseline),
    row('raw TLS: framed echo over one connection', rawTls),
    row('mesh POST: node.send → delivered (SQLite, rate limits on)', post),
    row('mesh channel: node.send → delivered (SQLite, rate limits on)', channel),
  ]);
  console.log(
    `daemons: ${daemons.delivered}/${daemons.sent} at ${daemons.rate}/s via local API → events (channel ${daemons.channel}): p50 ${fmt(daemons.p50Ms)} ms, p99 ${fmt(daemons.p99Ms)} ms, max ${fmt(daemons.maxMs)} ms, no stall: ${daemons.noStall}`,
  );
  console.log(
    `daemon: start-up ${daemon.startupMs} ms (${daemon.startupRangeMs}; bin/mesh start → running), idle RSS ${daemon.idleRssMb} MB (${daemon.idleRssRangeMb}), median of ${daemon.runs}`,
  );
  for (const [name, r] of [
    ['POST', post],
    ['channel', channel],
  ] as const)
    console.log(
      `mesh ${name}: SQLite commits per message: sender ${r.commitsPerMsg.sender}, receiver ${r.commitsPerMsg.receiver}; process CPU ${r.cpuUsPerMsg} µs per message`,
    );
  console.log(`load average before ${result.loadavg.before.join(' ')}, after ${result.loadavg.after.join(' ')}`);
}
