/**
 * In-process fuzzing: mutated requests straight into A's real MeshCore (`handle(event, now)`), with
 * A's own outgoing requests answered by the real cores of B and C, by garbage, or by failures, and
 * its timers fired, so relays, searches and response parsing are fuzzed too.
 *
 * Invariants per request: `handle` never throws (in A, B or C); exactly one answer, with a status and
 * error code from docs/PROTOCOL.md §3 and never 500; a rejected request writes nothing — except that
 * one authenticated by a real contact may refresh that contact (address, lastSeen, status) and send
 * what waits for it; a delivered message id is delivered once; an exact replay of an accepted request
 * is refused.
 */
import type { CoreEvent, Effect } from '../../src/protocol/events.ts';
import type { MeshCore } from '../../src/protocol/node.ts';
import type { PersistOp } from '../../src/protocol/types.ts';
import { buildRig, type RequestEvent, type Rig, type SendEffect } from './corpus.ts';
import {
  checkAnswer,
  crashGroup,
  documentedErrors,
  Findings,
  type FuzzSummary,
  finishSummary,
  isAuthentic,
  summaryBase,
} from './invariants.ts';
import { type Mutant, mutate } from './mutate.ts';
import { Rng } from './rng.ts';

/** Options of an in-process run. */
export interface InProcessInit {
  /** Requests to send. */
  n: number;
  seed: number;
  /** Requests per rig (fresh identities, invites, clocks). @default 20000 */
  epoch?: number;
  /** Called every `progressEvery` requests. */
  onProgress?: (done: number, s: InProcessSummary) => void;
  progressEvery?: number;
}

/** Counts of an in-process run. */
export interface InProcessSummary extends FuzzSummary {
  mode: 'in-process';
  /** Requests that were re-proved by their real sender after mutation. */
  reproved: number;
  /** Responses and failures fed back for A's own requests; timers fired. */
  responsesFed: number;
  timersFired: number;
  delivered: number;
  crashes: number;
}

const T0 = 1_767_225_600_000;
type Pending = { m: Mutant; remote: string; ops: PersistOp[]; delivered: string[]; replayOfAccepted: boolean };

/** Runs `n` mutated requests through real cores; never throws for what it finds. */
export function runInProcess(init: InProcessInit): InProcessSummary {
  const rng = new Rng(init.seed);
  const documented = documentedErrors();
  const findings = new Findings();
  const s: InProcessSummary = {
    ...summaryBase(init.seed, findings),
    mode: 'in-process',
    reproved: 0,
    responsesFed: 0,
    timersFired: 0,
    delivered: 0,
    crashes: 0,
  };
  const started = performance.now();
  const epoch = init.epoch ?? 20_000;
  const every = init.progressEvery ?? 50_000;
  let now = T0;
  while (s.requests < init.n) {
    now += 3_600_000; // a new rig an hour later: old seen-ids and timers are irrelevant
    runEpoch(rng, now, Math.min(epoch, init.n - s.requests), s, findings, documented, () => {
      if (init.onProgress && s.requests % every === 0)
        init.onProgress(s.requests, finishSummary(s, findings, started, s.crashes));
    });
  }
  return finishSummary(s, findings, started, s.crashes);
}

function runEpoch(
  rng: Rng,
  start: number,
  budget: number,
  s: InProcessSummary,
  findings: Findings,
  documented: Map<string, number>,
  tick: () => void,
): void {
  let now = start;
  const rig: Rig = buildRig(rng, now);
  const A = rig.A.core;
  const peers = new Map<string, MeshCore>([
    [rig.B.address, rig.B.core],
    [rig.C.address, rig.C.core],
  ]);
  const uuids = [rig.A.self.uuid, rig.B.self.uuid, rig.C.self.uuid, rig.S.self.uuid, rig.D.self.uuid];
  const pending = new Map<number, Pending>();
  const accepted: Mutant[] = [];
  const deliveredIds = new Set<string>();
  const timers = new Map<string, { event: CoreEvent; at: number }>();
  let sendQueue: SendEffect[] = [];
  let nextRequestId = 1;
  let peerRequestId = 1_000_000;
  let current: Pending | null = null;

  const crash = (e: unknown, m: Mutant | null, where: string) => {
    s.crashes++;
    const group = crashGroup(e);
    findings.add(
      `${group} (${where})`,
      m ?? { seed: '-', ops: [], reproved: false, headers: {}, body: new Uint8Array() },
      String((e as Error)?.stack ?? e),
    );
  };

  /** Feeds A one event; carries out what it asks in the harness's little world. */
  const feed = (event: CoreEvent, m: Mutant | null): void => {
    let fx: Effect[];
    try {
      fx = A.handle(event, now);
    } catch (e) {
      crash(e, m, `A.handle ${event.type}`);
      // The request that crashed will never be answered; do not report it again as unanswered.
      if (event.type === 'request') pending.delete(event.requestId);
      return;
    }
    for (const e of fx) {
      switch (e.type) {
        case 'respond':
          answered(e.requestId, e.status, e.body);
          break;
        case 'send':
          sendQueue.push(e);
          break;
        case 'persist':
          current?.ops.push(...e.ops);
          break;
        case 'deliver':
          s.delivered++;
          if (deliveredIds.has(e.message.id))
            findings.add('message delivered twice', current?.m ?? emptyMutant, e.message.id);
          deliveredIds.add(e.message.id);
          current?.delivered.push(e.message.id);
          break;
        case 'set-timer': {
          const { type: _t, at, ...id } = e as Effect & { at: number };
          timers.set(JSON.stringify(id), { event: { type: 'timer', ...id } as unknown as CoreEvent, at });
          break;
        }
        case 'clear-timer': {
          const { type: _t, ...id } = e as Effect;
          timers.delete(JSON.stringify(id));
          break;
        }
      }
    }
  };

  const answered = (requestId: number, status: number, body: Uint8Array) => {
    const p = pending.get(requestId);
    if (!p) {
      findings.add('answer to an unknown or already answered request', emptyMutant, String(requestId));
      return;
    }
    pending.delete(requestId);
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
    const bad = checkAnswer(status, body, documented);
    if (bad) findings.add(bad, p.m, new TextDecoder().decode(body).slice(0, 200));
    if (status !== 200) {
      try {
        const code = String(JSON.parse(new TextDecoder().decode(body)).error);
        s.codes[code] = (s.codes[code] ?? 0) + 1;
      } catch {
        /* counted by checkAnswer */
      }
      checkRejectedWrites(p, findings);
      if (p.delivered.length) findings.add('message delivered but the request was refused', p.m, p.delivered.join(','));
    } else {
      if (p.replayOfAccepted) findings.add('exact replay of an accepted request accepted again', p.m, '');
      accepted.push(p.m);
      if (accepted.length > 64) accepted.shift();
    }
  };

  /** Answers A's outgoing requests: a real peer core, garbage, or a failure. */
  const resolveSends = () => {
    for (let round = 0; round < 4 && sendQueue.length; round++) {
      const batch = sendQueue;
      sendQueue = [];
      for (const e of batch) {
        s.responsesFed++;
        const r = rng.next();
        const peer = peers.get(e.address);
        if (r < 0.45 && peer) {
          let answer: Effect | undefined;
          try {
            const event: RequestEvent = {
              type: 'request',
              requestId: peerRequestId++,
              remote: `${rig.A.address.split(':')[0]}:${rng.range(30000, 60000)}`,
              headers: e.headers,
              body: e.body,
            };
            answer = peer.handle(event, now).find((x) => x.type === 'respond');
          } catch (err) {
            crash(err, null, 'peer.handle request');
          }
          if (answer && answer.type === 'respond') {
            const body = rng.chance(0.2) ? mutateResponse(rng, answer.body) : answer.body;
            feed({ type: 'response', requestId: e.requestId, status: answer.status, body }, null);
            continue;
          }
        }
        if (r < 0.75) {
          const base = rig.responses.length ? rng.pick(rig.responses).body : new Uint8Array();
          const status = rng.pick([200, 200, 200, 400, 401, 409, 413, 429, 500, 503, 504, 302, 0]);
          feed({ type: 'response', requestId: e.requestId, status, body: mutateResponse(rng, base) }, null);
        } else {
          const reason = rng.pick(['CONNECT_FAILED', 'TIMEOUT', 'TLS_PIN', 'ABORTED'] as const);
          feed({ type: 'send-failed', requestId: e.requestId, reason }, null);
        }
      }
    }
  };

  const fireTimers = (upTo: number) => {
    const due = [...timers].filter(([, t]) => t.at <= upTo).sort((a, b) => a[1].at - b[1].at);
    for (const [key, t] of due) {
      timers.delete(key);
      now = Math.max(now, t.at);
      s.timersFired++;
      feed(t.event, null);
      resolveSends();
    }
  };

  const ctx = { now, uuids, https: false };
  for (let i = 0; i < budget; i++) {
    now += rng.int(3);
    if (i % 500 === 499) {
      now += rng.range(500, 4000);
      fireTimers(now);
    }
    ctx.now = now;
    let m: Mutant;
    let replayOfAccepted = false;
    if (accepted.length && rng.chance(0.03)) {
      m = rng.pick(accepted);
      replayOfAccepted = true;
    } else {
      m = mutate(rng, rng.pick(rig.seeds), ctx);
    }
    if (m.reproved) s.reproved++;
    const requestId = nextRequestId++;
    const host = rng.chance(0.9) ? `10.7.9.${rng.range(1, 250)}` : m.host;
    const remote = `${host}:${rng.range(1024, 65535)}`;
    const p: Pending = { m, remote, ops: [], delivered: [], replayOfAccepted };
    pending.set(requestId, p);
    current = p;
    s.requests++;
    feed({ type: 'request', requestId, remote, headers: m.headers, body: m.body }, m);
    current = null;
    resolveSends();
    tick();
  }
  // Let relays and searches finish: their timers answer whatever is still open.
  for (let round = 0; round < 20 && pending.size; round++) fireTimers(now + 30_000);
  for (const p of pending.values()) findings.add('request never answered', p.m, '');
}

const emptyMutant = { seed: '-', ops: [], reproved: false, headers: {}, body: new Uint8Array() };

/** Writes a refused request may cause: only a real contact's own record and what waits for it. */
function checkRejectedWrites(p: Pending, findings: Findings): void {
  if (!p.ops.length) return;
  const from = p.m.headers['mesh-from'];
  const authentic = p.m.signer.kind === 'contact' && isAuthentic(p.m);
  const allowed = (op: PersistOp) =>
    authentic &&
    ((op.op === 'contact:put' && op.contact.uuid === from) || (op.op === 'outbox:put' && op.message.to === from));
  const bad = p.ops.filter((op) => !allowed(op));
  if (!bad.length) return;
  findings.add('refused request changed stored state', p.m, JSON.stringify(bad.map((o) => o.op)));
}

const enc = new TextEncoder();

/** Damages a response body: fields of the wrong type, bad base64url, truncation. */
function mutateResponse(rng: Rng, body: Uint8Array): Uint8Array {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(new TextDecoder().decode(body));
    if (o === null || typeof o !== 'object') return body;
  } catch {
    return body;
  }
  switch (rng.int(7)) {
    case 0:
      return body.slice(0, rng.int(body.length));
    case 1:
      o[rng.pick(['observed', 'secret', 'signature', 'data', 'error'])] = rng.pick([
        null,
        1,
        [],
        {},
        '',
        'AAAAA',
        'x'.repeat(20_000),
      ]);
      break;
    case 2:
      o.data = rng.pick(['AAAAA', 'A', 'AAAAAAAAA', '!!!!', 'A'.repeat(16_385), 'A'.repeat(4 * rng.range(1, 40) + 1)]);
      break;
    case 3:
      o.observed = rng.pick(['', ':', '[::1]', 'a:b:c', '999.1.1.1:99999', '[x]:1', '10.0.0.1:0', 'x'.repeat(301)]);
      break;
    case 4:
      o.secret = `${'A'.repeat(42)}${rng.pick(['A', '!', ''])}`;
      break;
    case 5:
      o.signature = 'A'.repeat(86);
      break;
    default:
      return enc.encode(rng.pick(['', 'null', '[]', '"x"', '{"error":1}', '{"error":"X","message":2}']));
  }
  return enc.encode(JSON.stringify(o));
}
