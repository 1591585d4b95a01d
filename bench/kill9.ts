/**
 * Kill -9 (issue 12 item 4): two real daemons (`bin/mesh start`, HTTPS on 127.0.0.x:7575, SQLite),
 * made contacts through the CLI; A sends B numbered messages through its local API while each node is
 * killed with SIGKILL at random moments and started again. At the end every message A accepted is
 * in B's inbox exactly once (0 lost, 0 duplicated) and A's outbox is drained.
 *
 * A send whose API call died with A gets checked against A's own stored conversation once A is back:
 * stored → it counts as accepted; not stored → sent again. So the test demands exactly-once delivery
 * of what the node said it accepted, which is what a user of the API can rely on.
 *
 *   flock /tmp/mesh-e2e.lock node --import tsx bench/kill9.ts --messages 5000 --kills 5 --seed 1 [--rate 8]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { befriend, cleanup, initNode, type RunningNode, startNode } from '../test/e2e/cli-helpers.ts';
import { Rng } from '../test/fuzz/rng.ts';

/** Options of a kill -9 run. */
export interface Kill9Init {
  messages: number;
  /** SIGKILLs per node. */
  killsPerNode: number;
  seed: number;
  hosts?: [string, string];
  apiPorts?: [number, number];
  /**
   * Messages per second A is given. @default 8 — under the receiver's per-IP rate limit (600/min =
   * 10/s, which counts every request from A: messages, announces, retries). Faster, B answers 429
   * and A's outbox backs off for up to 5 minutes: that measures the rate limit, not kill -9.
   */
  sendRatePerSec?: number;
  /** Mean time between kills, ms. @default the send time spread over all kills */
  meanGapMs?: number;
  /** Longest wait for the outboxes to drain after the last kill, ms. @default 600000 */
  drainTimeoutMs?: number;
  onProgress?: (text: string) => void;
}

/** What a kill -9 run found. */
export interface Kill9Summary {
  bench: 'kill9';
  seed: number;
  messages: number;
  kills: { A: number; B: number };
  /** Kills that happened while A was still being given messages. */
  killsDuringSend: number;
  /** Sends whose API call failed because A died; resolved by looking at A's stored conversation. */
  ambiguousSends: number;
  /** Of those, sent again because A had not stored them. */
  resent: number;
  accepted: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** Inbox messages B holds that A never accepted (must be 0). */
  unexpected: number;
  /** A's messages to B not in state delivered at the end, and A's status.outbox. */
  undeliveredInOutbox: number;
  outboxQueued: number;
  sendSeconds: number;
  drainSeconds: number;
  seconds: number;
}

type Api = { call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> };

/** A tiny client of one daemon's local API (bearer token from its data dir). */
function api(dir: string, port: number): Api {
  const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
  return {
    async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      const json = (await res.json()) as T & { error?: string; message?: string };
      if (!res.ok)
        throw Object.assign(new Error(`${res.status} ${json.error}: ${json.message}`), { status: res.status });
      return json;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `f` until it completes without a network error (the node may die again meanwhile). */
async function untilAnswered<T>(f: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if ((e as { status?: number }).status) throw e;
      await sleep(100);
    }
  }
}

/** Runs the kill -9 scenario; resolves with the counts (the caller judges them). */
export async function runKill9(init: Kill9Init): Promise<Kill9Summary> {
  const rng = new Rng(init.seed);
  const [hostA, hostB] = init.hosts ?? ['127.0.0.53', '127.0.0.54'];
  const [portA, portB] = init.apiPorts ?? [17753, 17754];
  const log = init.onProgress ?? (() => {});
  const t0 = performance.now();
  const a = await initNode('k9a');
  const b = await initNode('k9b');
  const nodes: { A: RunningNode; B: RunningNode } = {
    A: await startNode(a.dir, hostA, portA),
    B: await startNode(b.dir, hostB, portB),
  };
  const up = { A: true, B: true };
  const where = { A: [a.dir, hostA, portA], B: [b.dir, hostB, portB] } as const;
  const s: Kill9Summary = {
    bench: 'kill9',
    seed: init.seed,
    messages: init.messages,
    kills: { A: 0, B: 0 },
    killsDuringSend: 0,
    ambiguousSends: 0,
    resent: 0,
    accepted: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    undeliveredInOutbox: 0,
    outboxQueued: 0,
    sendSeconds: 0,
    drainSeconds: 0,
    seconds: 0,
  };
  try {
    await befriend(nodes.A, nodes.B);
    const apiA = api(a.dir, portA);
    const apiB = api(b.dir, portB);
    const tag = `k9-${init.seed}-${Date.now().toString(36)}`;
    const accepted = new Map<string, string>(); // text → id A answered with

    // The killer: SIGKILL each node `killsPerNode` times, in a shuffled order, at random moments.
    const order = (['A', 'B'] as const).flatMap((n) => Array<'A' | 'B'>(init.killsPerNode).fill(n));
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const paceMs = 1000 / (init.sendRatePerSec ?? 8);
    // Spread the kills over the send time (less ~2.5 s per restart), so they land while messages are in flight.
    const mean = init.meanGapMs ?? Math.max(500, (init.messages * paceMs) / order.length - 2500);
    let sending = true;
    const killer = (async () => {
      for (const who of order) {
        await sleep(rng.range(Math.round(mean / 3), Math.round((mean * 5) / 3)));
        const n = nodes[who];
        up[who] = false;
        const exited = new Promise((r) => n.proc.once('exit', r));
        process.kill(n.proc.pid as number, 'SIGKILL');
        await exited;
        s.kills[who]++;
        if (sending) s.killsDuringSend++;
        log(`kill -9 ${who} (#${s.kills[who]}), ${accepted.size} accepted`);
        await sleep(rng.range(0, 1000));
        const [dir, host, port] = where[who];
        nodes[who] = await startNode(dir, host, port);
        up[who] = true;
      }
    })();

    /** Waits until A's API answers again. */
    const aBack = async () => {
      for (;;) {
        if (up.A) {
          try {
            await apiA.call('GET', '/api/status');
            return;
          } catch {
            /* starting */
          }
        }
        await sleep(100);
      }
    };
    const storedTexts = async () => {
      const conv = await apiA.call<{ id: string; text: string; direction: string }[]>(
        'GET',
        `/api/messages?with=${nodes.B.uuid}`,
      );
      return new Map(conv.filter((m) => m.direction === 'out').map((m) => [m.text, m.id]));
    };

    const sendStart = performance.now();
    for (let i = 0; i < init.messages; i++) {
      const text = `${tag} #${i}`;
      for (;;) {
        if (!up.A) await aBack();
        try {
          const r = await apiA.call<{ id: string }>('POST', '/api/send', { to: nodes.B.uuid, text });
          accepted.set(text, r.id);
          break;
        } catch (e) {
          if ((e as { status?: number }).status) throw e; // the API refused it: a real error
          // A died during the call: did it store the message before it went?
          s.ambiguousSends++;
          const id = await untilAnswered(async () => {
            await aBack();
            return (await storedTexts()).get(text);
          });
          if (id) {
            accepted.set(text, id);
            break;
          }
          s.resent++;
        }
      }
      if (i % 500 === 499) log(`${i + 1}/${init.messages} sent`);
      if (paceMs >= 1) await sleep(paceMs);
    }
    sending = false;
    s.sendSeconds = (performance.now() - sendStart) / 1000;
    await killer;
    s.accepted = accepted.size;

    // Drain: every accepted message in B's inbox, A's outbox empty.
    const drainStart = performance.now();
    const deadline = Date.now() + (init.drainTimeoutMs ?? 600_000);
    let inbox: { id: string; text: string; from: string }[] = [];
    let queued = -1;
    while (Date.now() < deadline) {
      try {
        inbox = (await apiB.call<{ id: string; text: string; from: string }[]>('GET', '/api/inbox')).filter((m) =>
          m.text.startsWith(tag),
        );
        queued = (await apiA.call<{ outbox: number }>('GET', '/api/status')).outbox;
        if (queued === 0 && new Set(inbox.map((m) => m.text)).size >= accepted.size) break;
      } catch {
        /* a node is still starting */
      }
      await sleep(500);
    }
    s.drainSeconds = (performance.now() - drainStart) / 1000;
    const seen = new Map<string, number>();
    for (const m of inbox) seen.set(m.text, (seen.get(m.text) ?? 0) + 1);
    for (const [text, id] of accepted) {
      const n = seen.get(text) ?? 0;
      if (n === 0) s.lost++;
      if (n > 1) s.duplicated += n - 1;
      if (n > 0 && !inbox.some((m) => m.text === text && m.id === id)) s.unexpected++; // another id than A's
    }
    for (const text of seen.keys()) if (!accepted.has(text)) s.unexpected++;
    s.delivered = seen.size;
    const conv = await apiA.call<{ direction: string; state: string }[]>('GET', `/api/messages?with=${nodes.B.uuid}`);
    s.undeliveredInOutbox = conv.filter((m) => m.direction === 'out' && m.state !== 'delivered').length;
    s.outboxQueued = queued;
  } finally {
    await cleanup();
  }
  s.seconds = (performance.now() - t0) / 1000;
  return s;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const s = await runKill9({
    messages: flag('messages', 5000),
    killsPerNode: flag('kills', 5),
    seed: flag('seed', 1),
    sendRatePerSec: flag('rate', 8),
    onProgress: (t) => process.stderr.write(`${t}\n`),
  });
  console.log(JSON.stringify(s));
  process.exitCode = s.lost === 0 && s.duplicated === 0 && s.unexpected === 0 && s.outboxQueued === 0 ? 0 : 1;
}
