/**
 * What every fuzzed request must satisfy, whichever way it reached the node: an answer with a status
 * and error code documented in docs/PROTOCOL.md §3 (read from the document itself, so code and docs
 * cannot drift apart unseen), never a 500, and findings grouped for the report.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { computeProof, deriveLinkKey, requestSigningInput, verifyEd25519 } from '../../src/crypto/index.ts';
import type { Signer } from './corpus.ts';
import type { Mutant } from './mutate.ts';

/** Error code → HTTP status, from the table in docs/PROTOCOL.md §3. */
export function documentedErrors(file = resolve(import.meta.dirname, '../../docs/PROTOCOL.md')): Map<string, number> {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('## 3.');
  const end = text.indexOf('## 4.', start);
  const section = text.slice(start, end > 0 ? end : undefined);
  const codes = new Map<string, number>();
  for (const m of section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) codes.set(m[1], Number(m[2]));
  if (codes.size < 5) throw new Error('could not read the error table of docs/PROTOCOL.md §3');
  return codes;
}

/** One crash or broken invariant, with what reproduces it. */
export interface Finding {
  group: string;
  seed: string;
  ops: string[];
  reproved: boolean;
  headers: Record<string, string>;
  /** The body, base64url. */
  body: string;
  detail: string;
}

/** Counts by group and keeps the first few examples of each. */
export class Findings {
  readonly groups: Record<string, number> = {};
  readonly examples: Finding[] = [];
  #perGroup = new Map<string, number>();

  constructor(readonly keepPerGroup = 2) {}

  /** Records a finding for a mutant. */
  add(group: string, m: Pick<Mutant, 'seed' | 'ops' | 'reproved' | 'headers' | 'body'>, detail: string): void {
    this.groups[group] = (this.groups[group] ?? 0) + 1;
    const kept = this.#perGroup.get(group) ?? 0;
    if (kept < this.keepPerGroup) {
      this.#perGroup.set(group, kept + 1);
      this.examples.push({
        group,
        seed: m.seed,
        ops: m.ops,
        reproved: m.reproved,
        headers: m.headers,
        body: Buffer.from(m.body).toString('base64url'),
        detail: detail.slice(0, 600),
      });
    }
  }

  /** Total findings. */
  get total(): number {
    return Object.values(this.groups).reduce((a, b) => a + b, 0);
  }
}

/** What every fuzz run reports (bench/fuzz.ts prints it as JSON). */
export interface FuzzSummary {
  seed: number;
  requests: number;
  /** Answers by status. */
  statuses: Record<string, number>;
  /** Error answers by code. */
  codes: Record<string, number>;
  violations: number;
  /** Findings that fail the run: every one (none is set apart). */
  unknownFindings: number;
  groups: Record<string, number>;
  examples: Findings['examples'];
  seconds: number;
  perSecond: number;
}

/** The counters every run starts with (each run adds its own). */
export function summaryBase(seed: number, f: Findings): FuzzSummary {
  return {
    seed,
    requests: 0,
    statuses: {},
    codes: {},
    violations: 0,
    unknownFindings: 0,
    groups: f.groups,
    examples: f.examples,
    seconds: 0,
    perSecond: 0,
  };
}

/** Closes a run's counts: time, rate, findings; `crashes` (in-process runs) are findings but not violations. */
export function finishSummary<S extends FuzzSummary>(s: S, f: Findings, started: number, crashes = 0): S {
  s.seconds = (performance.now() - started) / 1000;
  s.perSecond = Math.round(s.requests / Math.max(s.seconds, 1e-9));
  s.violations = f.total - crashes;
  s.unknownFindings = f.total;
  return s;
}

/** A short stable name for a thrown error: its message and the first src/ frame. */
export function crashGroup(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  // The first frame in the protocol (where the bad input should have been refused), else in src/.
  const frames = (err.stack ?? '').split('\n');
  const frame = frames.find((l) => l.includes('/src/protocol/')) ?? frames.find((l) => l.includes('/src/')) ?? '';
  const where = frame.replace(/^.*\/src\//, 'src/').replace(/\)$/, '');
  return `crash: ${err.name}: ${err.message.slice(0, 80)} @ ${where}`;
}

/** Checks an answer against the documented table; returns a violation group or null. */
export function checkAnswer(status: number, body: Uint8Array | string, documented: Map<string, number>): string | null {
  if (status === 200) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch {
    return `status ${status} without a JSON body`;
  }
  const o = parsed as { error?: unknown; message?: unknown };
  if (typeof o.error !== 'string' || typeof o.message !== 'string' || o.message.length === 0)
    return `status ${status} without {error, message}`;
  const want = documented.get(o.error);
  if (want === undefined) return `undocumented error code ${o.error.slice(0, 40)}`;
  if (want !== status) return `${o.error} answered with ${status}, documented ${want}`;
  if (status === 500) return 'INTERNAL (500)';
  return null;
}

const linkKeys = new WeakMap<Signer, Uint8Array>();

/** True when the mutant still carries a valid proof of its real sender (so the node may act on it). */
export function isAuthentic(m: Mutant): boolean {
  const h = m.headers;
  const port = h['mesh-port'];
  const input = requestSigningInput({
    version: Number(h['mesh-version']),
    type: h['mesh-type'] ?? '',
    from: h['mesh-from'] ?? '',
    id: h['mesh-id'] ?? '',
    ts: Number(h['mesh-ts']),
    port: port === undefined ? null : Number(port),
    body: m.body,
  } as Parameters<typeof requestSigningInput>[0]);
  const s = m.signer;
  if (h['mesh-from'] !== s.from.uuid) return false;
  if (s.kind === 'contact') {
    let link = linkKeys.get(s);
    if (!link) {
      link = deriveLinkKey(s.from.boxPriv, s.to.boxPub, s.secret, s.from.uuid, s.to.uuid);
      linkKeys.set(s, link);
    }
    return h['mesh-secret'] !== undefined && computeProof(link, input) === h['mesh-secret'];
  }
  const sig = h['mesh-signature'];
  if (!sig || !/^[A-Za-z0-9_-]{86}$/.test(sig)) return false;
  return verifyEd25519(s.from.signPub, input, Buffer.from(sig, 'base64url'));
}
