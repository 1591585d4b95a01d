/**
 * In-process channel fuzzing (docs/PROTOCOL.md §13): mutated frames into the real channel engine
 * (`Channel`, listener side, over a memory link), whose requests go through the real edge into A's
 * real core, the way a node serves them. The dialer is B, a contact, with its real HELLO for the
 * session; a fresh channel is opened after every close.
 *
 * Invariants per frame: the codec and the engine never throw; a decodable frame re-encodes to the
 * same bytes; the node does what §13.5 documents for the frame in its state (close with 4000, 4001
 * or 1009; open; ignore; answer the REQUEST's id with a documented status, never 500); every frame
 * the node sends decodes; a refused request writes nothing but the channel peer's own record and
 * what waits for it; a message id is delivered once.
 */
import type { ChannelPeer, RequestHandler } from '../../src/ports.ts';
import type { CoreEvent, Effect } from '../../src/protocol/events.ts';
import type { PersistOp } from '../../src/protocol/types.ts';
import { buildHello, Channel, type ChannelHooks } from '../../src/transport/channel/channel.ts';
import type { ChannelLink } from '../../src/transport/channel/link.ts';
import { decodeFrame } from '../../src/transport/channel-frames.ts';
import { Edge } from '../../src/transport/edge.ts';
import { buildRig } from './corpus.ts';
import { type Expected, expectedOutcome, type FuzzFrame, nextFrame, roundTrip } from './frames.ts';
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
import { Rng } from './rng.ts';

/** Options of an in-process channel run. */
export interface ChannelInProcessInit {
  n: number;
  seed: number;
  /** Frames per rig. @default 20000 */
  epoch?: number;
  onProgress?: (done: number, s: ChannelInProcessSummary) => void;
  progressEvery?: number;
}

/** Counts of an in-process channel run. */
export interface ChannelInProcessSummary extends FuzzSummary {
  mode: 'channel-in-process';
  /** Channel closes by close code. */
  closes: Record<string, number>;
  /** Channels opened (a HELLO verified). */
  opened: number;
  /** RESPONSE frames ignored (no such request of ours). */
  ignored: number;
  /** Requests whose channel closed before the answer (a close drops them, as documented). */
  droppedByClose: number;
  /** Requests the core left to a relay that never came back (the runtime answers these 504 after 30 s). */
  relaysTimedOut: number;
  delivered: number;
  crashes: number;
}

const T0 = 1_767_225_600_000;
/** Share of frame kinds that close the channel, relative to the mix in frames.ts: each close costs a new HELLO. */
const CLOSING_SHARE = 0.35;

/** A memory link that records what the listener sends and how it closes. */
class MemLink implements ChannelLink {
  readonly remote = '10.7.0.2:40000';
  closeCode: number | null = null;
  sent: Uint8Array[] = [];
  onMessage: (bytes: Uint8Array) => void = () => {};
  onClose: (code: number, reason: string) => void = () => {};
  onPong: () => void = () => {};
  constructor(readonly exporter: Uint8Array) {}
  send(bytes: Uint8Array): void {
    if (this.closeCode === null) this.sent.push(bytes);
  }
  close(code: number): void {
    this.closeCode ??= code;
  }
  terminate(): void {
    this.closeCode ??= 1006;
  }
  ping(): void {}
}

/** Runs `n` mutated frames through the channel engine and A's core. */
export async function runChannelInProcess(init: ChannelInProcessInit): Promise<ChannelInProcessSummary> {
  const rng = new Rng(init.seed ^ 0xc4a7);
  const documented = documentedErrors();
  const findings = new Findings();
  const s: ChannelInProcessSummary = {
    ...summaryBase(init.seed, findings),
    mode: 'channel-in-process',
    closes: {},
    opened: 0,
    ignored: 0,
    droppedByClose: 0,
    relaysTimedOut: 0,
    delivered: 0,
    crashes: 0,
  };
  const started = performance.now();
  const epoch = init.epoch ?? 20_000;
  const every = init.progressEvery ?? 50_000;
  let now = T0;
  while (s.requests < init.n) {
    now += 3_600_000;
    await runEpoch(rng, now, Math.min(epoch, init.n - s.requests), s, findings, documented, () => {
      if (init.onProgress && s.requests % every === 0)
        init.onProgress(s.requests, finishSummary(s, findings, started, s.crashes));
    });
  }
  return finishSummary(s, findings, started, s.crashes);
}

const emptyMutant = { seed: '-', ops: [] as string[], reproved: false, headers: {}, body: new Uint8Array() };
const asMutant = (f: FuzzFrame) => ({ ...(f.mutant ?? emptyMutant), ops: f.ops, body: f.bytes });
const tick = () => new Promise((r) => setImmediate(r));

async function runEpoch(
  rng: Rng,
  now: number,
  budget: number,
  s: ChannelInProcessSummary,
  findings: Findings,
  documented: Map<string, number>,
  progress: () => void,
): Promise<void> {
  const rig = buildRig(rng, now);
  const A = rig.A.core;
  const a = rig.A.self;
  const contacts = new Set([rig.B.self.uuid, rig.C.self.uuid]);
  const exporter = rng.bytes(32);
  const helloB = buildHello(rig.B.self, 0, exporter);
  const others = [
    buildHello(rig.S.self, 0, exporter), // a stranger: authenticates, but untrusted
    buildHello(rig.B.self, 1, exporter), // the listener's role
    buildHello(a, 0, exporter), // our own key
    buildHello(rig.B.self, 0, rng.bytes(32)), // another session's exporter (a replayed HELLO)
  ];
  const deliveredIds = new Set<string>();
  let nextRequestId = 1;
  let current: FuzzFrame | null = null;

  /** A's handler, as the runtime gives it to the edge: one request event, sends failed at once. */
  const handler: RequestHandler = async (req) => {
    const requestId = nextRequestId++;
    const ops: PersistOp[] = [];
    let answer: { status: number; body: Uint8Array } | null = null;
    const queue: CoreEvent[] = [
      {
        type: 'request',
        requestId,
        remote: req.remote,
        headers: req.headers,
        body: req.body,
        channel: req.channel?.uuid ?? null,
      },
    ];
    for (let round = 0; round < 6 && queue.length && !answer; round++) {
      const event = queue.shift() as CoreEvent;
      let fx: Effect[];
      try {
        fx = A.handle(event, now);
      } catch (e) {
        s.crashes++;
        findings.add(crashGroup(e), current ? asMutant(current) : emptyMutant, String((e as Error)?.stack ?? e));
        throw e; // the edge answers 500, which the check below reports too
      }
      for (const e of fx) {
        if (e.type === 'respond' && e.requestId === requestId) answer = { status: e.status, body: e.body };
        // Writes of the request itself; those after our own failed sends (a contact marked offline) are ours.
        else if (e.type === 'persist' && round === 0) ops.push(...e.ops);
        else if (e.type === 'send')
          queue.push({ type: 'send-failed', requestId: e.requestId, reason: 'CONNECT_FAILED' });
        else if (e.type === 'deliver') {
          s.delivered++;
          if (deliveredIds.has(e.message.id))
            findings.add('message delivered twice', asMutant(current ?? ({} as FuzzFrame)), e.message.id);
          deliveredIds.add(e.message.id);
        }
      }
    }
    if (!answer) {
      s.relaysTimedOut++;
      answer = { status: 504, body: new TextEncoder().encode('{"error":"UNREACHABLE","message":"no answer in time"}') };
    }
    if (answer.status !== 200 && ops.length) {
      // Allowed on a refusal: the authenticated sender's own record and what waits for it. A request
      // is the sender's when the channel's HELLO proved it, or its own proof does (a relayed one).
      const from = req.headers['mesh-from'];
      const m = current?.mutant;
      const own = req.channel?.uuid === from || (!!m && m.signer.kind === 'contact' && isAuthentic(m));
      const bad = ops.filter(
        (op) =>
          !(
            own &&
            contacts.has(from) &&
            ((op.op === 'contact:put' && op.contact.uuid === from) ||
              (op.op === 'outbox:put' && op.message.to === from))
          ),
      );
      if (bad.length)
        findings.add(
          'refused request changed stored state',
          current ? asMutant(current) : emptyMutant,
          JSON.stringify(bad.map((o) => (o.op === 'contact:put' ? `${o.op} ${o.contact.uuid}` : o.op))) +
            ` channel ${req.channel?.uuid}`,
        );
    }
    return answer;
  };

  const edge = new Edge({ now: () => now });
  edge.trustSenders((uuid) => contacts.has(uuid));
  /** Requests sent on the channel, by frame id, waiting for their answer. */
  let waiting = new Map<number, FuzzFrame[]>();
  const hooks: ChannelHooks = {
    identity: { signPriv: a.signPriv, signPub: a.signPub, boxPub: a.boxPub },
    helloTimeoutMs: 600_000,
    pingMs: 600_000,
    onAuthenticated: () => true,
    onOpened: () => {
      s.opened++;
    },
    isTrusted: (ch) => ch.peer !== null && contacts.has(ch.peer.uuid),
    onRequest: (ch, f, trusted) =>
      edge.serve(
        handler,
        { remote: ch.remote, headers: f.headers, body: f.body, channel: ch.peer as ChannelPeer },
        trusted,
      ),
    onClosed: () => {},
  };

  let link = new MemLink(exporter);
  let ch = new Channel(link, false, hooks, null);
  /** Reads what the listener sent: every frame must decode; RESPONSEs are checked against their request. */
  const drainSent = (expectHello: boolean) => {
    let sawHello = false;
    for (const bytes of link.sent.splice(0)) {
      const d = decodeFrame(bytes);
      if (!d.ok) {
        findings.add('node sent an undecodable frame', emptyMutant, d.reason);
        continue;
      }
      if (d.frame.kind === 'hello') {
        sawHello = true;
        continue;
      }
      if (d.frame.kind !== 'response') {
        findings.add(`node sent an unexpected ${d.frame.kind}`, emptyMutant, '');
        continue;
      }
      const list = waiting.get(d.frame.id);
      const fr = list?.shift();
      if (!fr) {
        findings.add('answer to a request nobody sent', emptyMutant, String(d.frame.id));
        continue;
      }
      if (list && !list.length) waiting.delete(d.frame.id);
      s.statuses[d.frame.status] = (s.statuses[d.frame.status] ?? 0) + 1;
      const bad = checkAnswer(d.frame.status, d.frame.body, documented);
      if (bad) findings.add(bad, asMutant(fr), new TextDecoder().decode(d.frame.body).slice(0, 200));
      else if (d.frame.status !== 200) {
        try {
          const code = String(JSON.parse(new TextDecoder().decode(d.frame.body)).error);
          s.codes[code] = (s.codes[code] ?? 0) + 1;
        } catch {}
      }
    }
    if (expectHello && !sawHello) findings.add('channel opened without the listener HELLO', emptyMutant, '');
  };
  const reopen = (withHello: boolean) => {
    for (const list of waiting.values()) s.droppedByClose += list.length;
    waiting = new Map();
    link = new MemLink(exporter);
    ch = new Channel(link, false, hooks, null);
    if (!withHello) return;
    link.onMessage(helloB);
    if (ch.state !== 'open')
      findings.add('a valid HELLO did not open the channel', emptyMutant, String(link.closeCode));
    drainSent(true);
  };
  reopen(true);

  let id = 1;
  for (let i = 0; i < budget; i++) {
    now += rng.int(3);
    if (ch.state === 'open' && rng.chance(0.02)) reopen(false); // fuzz the handshake too
    const state = ch.state === 'open' ? 'open' : 'hello';
    const fr = nextFrame(
      rng,
      {
        seeds: rig.seeds,
        hello: () => helloB,
        otherHellos: () => others,
        ctx: { now, uuids: [a.uuid, ...contacts, rig.S.self.uuid], https: false },
        peerUuid: rig.B.self.uuid,
      },
      id++ >>> 0,
      CLOSING_SHARE,
    );
    s.requests++;
    current = fr;
    let exp: Expected;
    try {
      const rt = roundTrip(fr.bytes);
      if (rt) findings.add(`codec: ${rt}`, asMutant(fr), '');
      exp = expectedOutcome(fr.bytes, state, exporter, a.signPub);
    } catch (e) {
      s.crashes++;
      findings.add(crashGroup(e), asMutant(fr), String((e as Error)?.stack ?? e));
      continue;
    }
    if (exp.kind === 'answer') {
      const list = waiting.get(exp.id) ?? [];
      list.push(fr);
      waiting.set(exp.id, list);
    }
    try {
      link.onMessage(fr.bytes);
    } catch (e) {
      s.crashes++;
      findings.add(crashGroup(e), asMutant(fr), String((e as Error)?.stack ?? e));
    }
    await tick();
    current = null;
    if (exp.kind === 'close') {
      s.closes[link.closeCode ?? 'none'] = (s.closes[link.closeCode ?? 'none'] ?? 0) + 1;
      if (link.closeCode !== exp.code || ch.state !== 'closed')
        findings.add(`expected close ${exp.code}, got ${link.closeCode ?? 'none'}`, asMutant(fr), '');
      drainSent(false);
      reopen(true);
    } else if (exp.kind === 'open') {
      if (ch.state !== 'open') findings.add('a valid HELLO did not open the channel', asMutant(fr), '');
      drainSent(true);
    } else {
      if (exp.kind === 'ignore') s.ignored++;
      if (ch.state !== 'open')
        findings.add(`channel closed (${link.closeCode}) on a frame it must ${exp.kind}`, asMutant(fr), '');
      drainSent(false);
    }
    progress();
  }
  // Answers held back by the contact's budget come within a second.
  for (let t = 0; t < 200 && waiting.size && ch.state === 'open'; t++) {
    await new Promise((r) => setTimeout(r, 10));
    drainSent(false);
  }
  for (const list of waiting.values()) s.droppedByClose += ch.state === 'open' ? 0 : list.length;
  if (ch.state === 'open' && waiting.size) findings.add('request never answered', emptyMutant, String(waiting.size));
  ch.close(1000, 'done');
}
