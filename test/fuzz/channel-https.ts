/**
 * Channel fuzzing through a real node (docs/PROTOCOL.md §13): a MeshNode on HttpsTransport (channel
 * binding on, shipped defaults, SQLite) takes WebSocket channels on /mesh from the rig's identities,
 * each dialled with the real TLS pin and HELLO, from a new loopback source per channel (127.2.x.y)
 * so the per-source handshake budget is not what answers. Over each open channel go mutated frames
 * (frames.ts); after a close, the lane dials again.
 *
 * Phase 1: a channel of stranger D, frames whose request no real key vouches for: the Store must be
 * exactly what it was. Phase 2: channels of contacts B and C and stranger S, any frame: only what
 * they may change changes. Every frame must get the outcome §13.5 documents (close 4000 / 4001 /
 * 1009, an answer with a documented status and never 500, or nothing for a stray RESPONSE), and at
 * the end the node still serves a valid request.
 */
import { rmSync } from 'node:fs';
import type { SelfRecord } from '../../src/protocol/types.ts';
import { buildHello } from '../../src/transport/channel/channel.ts';
import type { ChannelLink } from '../../src/transport/channel/link.ts';
import { decodeFrame, encodeFrame } from '../../src/transport/channel-frames.ts';
import { dialWs } from '../../src/transport/https/channel-ws.ts';
import { type Expected, expectedOutcome, type FuzzFrame, nextFrame } from './frames.ts';
import { disallowedChanges, refresh, startRigNode, storeSnapshot } from './https.ts';
import {
  checkAnswer,
  documentedErrors,
  Findings,
  type FuzzSummary,
  finishSummary,
  isAuthentic,
  summaryBase,
} from './invariants.ts';
import { Rng } from './rng.ts';

/** Options of an HTTPS channel run. */
export interface ChannelHttpsInit {
  /** Frames to send. */
  m: number;
  seed: number;
  onProgress?: (done: number, s: ChannelHttpsSummary) => void;
  progressEvery?: number;
}

/** Counts of an HTTPS channel run. */
export interface ChannelHttpsSummary extends FuzzSummary {
  mode: 'channel-https';
  /** Channels that opened (HELLOs exchanged). */
  channels: number;
  /** Closes the node made, by code. */
  closes: Record<string, number>;
  /** Stray RESPONSE frames the node ignored (the channel stayed open). */
  ignored: number;
  storeUnchangedAfterUnauthenticatedPhase: boolean;
  storeChangesOnlyAllowedAfterMixedPhase: boolean;
  servingAtEnd: boolean;
  nodeDrops: Record<string, number>;
}

/** Frame kinds that close a channel, relative to frames.ts's mix: each close costs a new TLS channel. */
const CLOSING_SHARE = 0.2;
const WAIT_MS = 20_000;

/** One open channel as the fuzzer (the dialer) sees it: answers by id, and how it closed. */
interface Open {
  link: ChannelLink;
  answers: Map<number, (f: { status: number; body: Uint8Array }) => void>;
  closed: Promise<number>;
  isClosed: () => boolean;
  /** The close code and reason the node gave (findings name it: 'released' is the node's own channel keeping). */
  closeWhy: () => string;
}

const sleepRace = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

/** Runs `m` mutated frames over channels to a real HTTPS node. */
export async function runChannelHttps(init: ChannelHttpsInit): Promise<ChannelHttpsSummary> {
  const rng = new Rng(init.seed ^ 0xc4a77);
  const documented = documentedErrors();
  const findings = new Findings();
  const { host, port, rig, dir, store, node } = await startRigNode(rng, 'mesh-chfuzz-', true);
  const a = rig.A.self;
  const s: ChannelHttpsSummary = {
    ...summaryBase(init.seed, findings),
    mode: 'channel-https',
    channels: 0,
    closes: {},
    ignored: 0,
    storeUnchangedAfterUnauthenticatedPhase: false,
    storeChangesOnlyAllowedAfterMixedPhase: false,
    servingAtEnd: false,
    nodeDrops: {},
  };
  const started = performance.now();
  const every = init.progressEvery ?? 2_000;
  let nextSource = 0;
  const source = () => {
    const n = nextSource++;
    return `127.2.${Math.floor(n / 254) % 254}.${(n % 254) + 1}`;
  };
  const uuids = [a.uuid, rig.B.self.uuid, rig.C.self.uuid, rig.S.self.uuid, rig.D.self.uuid];

  /** Dials A as `who`; sends `first` (its HELLO unless a fuzzed frame is given) and waits for A's. */
  const dial = async (who: SelfRecord, first?: Uint8Array): Promise<{ ch: Open; helloBack: boolean }> => {
    const link = await dialWs({ host, port, signPub: a.signPub, localAddress: source(), timeoutMs: 10_000 });
    let isClosed = false;
    let why = '';
    let helloBack!: () => void;
    const hello = new Promise<void>((r) => {
      helloBack = r;
    });
    const answers = new Map<number, (f: { status: number; body: Uint8Array }) => void>();
    const closed = new Promise<number>((resolve) => {
      link.onClose = (code, reason) => {
        isClosed = true;
        why = `closed ${code} ${reason}`;
        resolve(code);
      };
    });
    link.onMessage = (bytes) => {
      const d = decodeFrame(bytes);
      if (!d.ok) return void findings.add('node sent an undecodable frame', emptyMutant, d.reason);
      if (d.frame.kind === 'hello') return helloBack();
      if (d.frame.kind === 'request') return; // the node's own requests to a contact: not fuzzed here
      const cb = answers.get(d.frame.id);
      if (!cb) return void findings.add('answer to a request nobody sent', emptyMutant, String(d.frame.id));
      answers.delete(d.frame.id);
      cb(d.frame);
    };
    link.send(first ?? buildHello(who, 0, link.exporter));
    const r = await sleepRace(Promise.race([hello.then(() => 'hello' as const), closed]), WAIT_MS);
    return { ch: { link, answers, closed, isClosed: () => isClosed, closeWhy: () => why }, helloBack: r === 'hello' };
  };

  /** Sends one frame on an open channel and checks the documented outcome; false when it closed. */
  const sendFrame = async (ch: Open, fr: FuzzFrame, exp: Expected): Promise<boolean> => {
    s.requests++;
    if (exp.kind === 'answer') {
      const answered = new Promise<{ status: number; body: Uint8Array }>((r) => ch.answers.set(exp.id, r));
      ch.link.send(fr.bytes);
      const res = await sleepRace(Promise.race([answered, ch.closed.then(() => 'closed' as const)]), WAIT_MS);
      if (res === 'timeout' || res === 'closed') {
        findings.add(`request frame not answered (${res === 'closed' ? ch.closeWhy() : res})`, asMutant(fr), '');
        return !ch.isClosed();
      }
      s.statuses[res.status] = (s.statuses[res.status] ?? 0) + 1;
      const bad = checkAnswer(res.status, res.body, documented);
      if (bad) findings.add(bad, asMutant(fr), new TextDecoder().decode(res.body).slice(0, 200));
      else if (res.status !== 200) {
        try {
          const code = String(JSON.parse(new TextDecoder().decode(res.body)).error);
          s.codes[code] = (s.codes[code] ?? 0) + 1;
        } catch {}
      }
      return true;
    }
    ch.link.send(fr.bytes);
    if (exp.kind === 'close') {
      const code = await sleepRace(ch.closed, WAIT_MS);
      s.closes[code] = (s.closes[code] ?? 0) + 1;
      if (code !== exp.code) findings.add(`expected close ${exp.code}, got ${code}`, asMutant(fr), ch.closeWhy());
      return false;
    }
    s.ignored++;
    return true; // a stray RESPONSE: the next request's answer shows the channel is still open
  };

  let done = 0;
  const lane = async (who: SelfRecord, until: number, unauthenticatedOnly: boolean) => {
    let seeds = refresh(rig.seeds, rng);
    let seedsAt = Date.now();
    let ch: Open | null = null;
    let id = 1;
    while (done < until) {
      if (Date.now() - seedsAt > 60_000) {
        seeds = refresh(rig.seeds, rng);
        seedsAt = Date.now();
      }
      const src = {
        seeds,
        hello: () => (ch ? buildHello(who, 0, ch.link.exporter) : new Uint8Array()),
        otherHellos: () => (ch ? [buildHello(who, 1, ch.link.exporter), buildHello(a, 0, ch.link.exporter)] : []),
        // https: header values stay sendable ASCII, so most REQUEST frames encode and keep the channel.
        ctx: { now: Date.now(), uuids, https: true },
        allowHuge: true,
        peerUuid: who.uuid,
      };
      try {
        if (!ch || ch.isClosed()) {
          // Now and then the first frame itself is fuzzed (the handshake state).
          if (rng.chance(0.02)) {
            const fr = nextFrame(rng, { ...src, hello: () => new Uint8Array(1) }, id++, 1);
            const d = await dial(who, fr.bytes);
            const exp = expectedOutcome(fr.bytes, 'hello', d.ch.link.exporter, a.signPub);
            s.requests++;
            done++;
            if (exp.kind === 'close') {
              const code = await sleepRace(d.ch.closed, WAIT_MS);
              s.closes[code] = (s.closes[code] ?? 0) + 1;
              if (code !== exp.code)
                findings.add(`handshake: expected close ${exp.code}, got ${code}`, asMutant(fr), d.ch.closeWhy());
            } else if (exp.kind === 'open' && !d.helloBack)
              findings.add('handshake: valid HELLO not answered', asMutant(fr), d.ch.closeWhy() || 'still open');
            d.ch.link.close(1000, 'done');
            continue;
          }
          const d = await dial(who);
          if (!d.helloBack) {
            findings.add('a valid HELLO did not open the channel', emptyMutant, d.ch.closeWhy() || 'still open');
            d.ch.link.terminate();
            continue;
          }
          ch = d.ch;
          s.channels++;
        }
        let fr = nextFrame(rng, src, id++ >>> 0, CLOSING_SHARE);
        while (unauthenticatedOnly && fr.mutant && isAuthentic(fr.mutant))
          fr = nextFrame(rng, src, id++ >>> 0, CLOSING_SHARE);
        const exp = expectedOutcome(fr.bytes, 'open', ch.link.exporter, a.signPub);
        done++;
        if (!(await sendFrame(ch, fr, exp))) ch = null;
        if (init.onProgress && s.requests % every === 0)
          init.onProgress(s.requests, finishSummary(s, findings, started));
      } catch (e) {
        findings.add(`harness: ${(e as Error).message.slice(0, 80)}`, emptyMutant, String((e as Error).stack));
        ch = null;
      }
    }
    ch?.link.close(1000, 'done');
  };

  try {
    await new Promise((r) => setTimeout(r, 1500)); // start-up announces to the dead contacts settle
    const before = storeSnapshot(store);
    const half = Math.floor(init.m / 2);
    // One lane per identity: a second channel of the same pair would replace the first (§13.4).
    await lane(rig.D.self, half, true);
    const afterPhase1 = storeSnapshot(store);
    s.storeUnchangedAfterUnauthenticatedPhase = JSON.stringify(afterPhase1) === JSON.stringify(before);
    if (!s.storeUnchangedAfterUnauthenticatedPhase)
      findings.add('store changed in the unauthenticated phase', emptyMutant, '');
    await Promise.all([
      lane(rig.B.self, init.m, false),
      lane(rig.C.self, init.m, false),
      lane(rig.S.self, init.m, false),
    ]);
    // Still serving: B's fresh announce over a new channel gets 200.
    const ok = refresh(
      rig.seeds.filter((x) => x.name === 'announce'),
      rng,
    )[0];
    const d = await dial(rig.B.self);
    const enc = encodeFrame({ kind: 'request', id: 7, headers: ok.headers, body: ok.body });
    if (d.helloBack && enc.ok) {
      const answered = new Promise<{ status: number }>((r) => d.ch.answers.set(7, r));
      d.ch.link.send(enc.bytes);
      const res = await sleepRace(answered, WAIT_MS);
      s.servingAtEnd = res !== 'timeout' && res.status === 200;
    }
    d.ch.link.close(1000, 'done');
    if (!s.servingAtEnd) findings.add('node not serving a valid request at the end', emptyMutant, '');
    const why = disallowedChanges(before, storeSnapshot(store), rig);
    s.storeChangesOnlyAllowedAfterMixedPhase = why.length === 0;
    for (const w of why) findings.add(`store: ${w}`, emptyMutant, '');
    s.nodeDrops = { ...node.status().drops };
  } finally {
    await node.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return finishSummary(s, findings, started);
}

const emptyMutant = { seed: '-', ops: [] as string[], reproved: false, headers: {}, body: new Uint8Array() };
const asMutant = (f: FuzzFrame) => ({ ...(f.mutant ?? emptyMutant), ops: f.ops, body: f.bytes.slice(0, 2048) });
