/**
 * Per-source connection budgets, checked when a TCP connection arrives and before its TLS handshake
 * (issue 12 #7): at most `maxPerSource` open connections and a token bucket of new handshakes per
 * source, a source being one IPv4 address or one IPv6 /64 (`ip-group.ts`). A refused connection
 * costs the node an accept and a close, no TLS work; it is counted by reason for `mesh status`.
 * Pure bookkeeping: the transport tells it about sockets, the clock is passed in.
 *
 *   const guard = new ConnectionGuard();
 *   const admitted = guard.admit(socket.remoteAddress);
 *   if (!admitted.ok) socket.destroy(); else socket.once('close', admitted.release);
 */
import { HANDSHAKE_BURST_PER_IP, HANDSHAKES_PER_S_PER_IP, MAX_CONNECTIONS_PER_IP } from '../protocol/constants.ts';
import { ipGroup } from './ip-group.ts';

/** Options of {@link ConnectionGuard}. */
export interface ConnectionGuardInit {
  /** Most open connections per source. @default MAX_CONNECTIONS_PER_IP */
  maxPerSource?: number;
  /** New handshakes per second per source (refill). @default HANDSHAKES_PER_S_PER_IP */
  handshakesPerS?: number;
  /** Handshake burst per source (bucket size). @default HANDSHAKE_BURST_PER_IP */
  handshakeBurst?: number;
  /** Clock, ms. @default Date.now */
  now?: () => number;
}

/** Why a connection was refused (a budget drop reason of errors.ts). */
export type ConnectionRefusal = 'LIMIT_CONNECTIONS' | 'LIMIT_HANDSHAKES';

/** The guard's answer for one new connection. */
export type Admission =
  | { ok: true; source: string; release: () => void; exempt: () => void }
  | { ok: false; source: string; reason: ConnectionRefusal };

interface SourceState {
  open: number;
  tokens: number;
  at: number;
}

/** Sources kept before idle ones are swept: bounds the table under a spread of sources. */
const SWEEP_AT = 4_096;

/** Counts open connections and handshakes per source and refuses those over budget. */
export class ConnectionGuard {
  /** Refused connections by reason (merged into the node's `drops`). */
  readonly drops: Record<string, number> = {};
  private readonly sources = new Map<string, SourceState>();
  private readonly max: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(init: ConnectionGuardInit = {}) {
    this.max = init.maxPerSource ?? MAX_CONNECTIONS_PER_IP;
    this.rate = init.handshakesPerS ?? HANDSHAKES_PER_S_PER_IP;
    this.burst = init.handshakeBurst ?? HANDSHAKE_BURST_PER_IP;
    this.now = init.now ?? Date.now;
  }

  /**
   * Takes one new connection from `ip`: refused when its source holds `maxPerSource` open ones or has
   * no handshake token left. Admitted, it counts until `release` (call it once, when the socket
   * closes) or `exempt` (a contact's channel: it stops counting, and `release` is then a no-op).
   */
  admit(ip: string): Admission {
    const source = ipGroup(ip);
    const now = this.now();
    if (this.sources.size >= SWEEP_AT) this.sweep(now);
    let st = this.sources.get(source);
    if (!st) {
      st = { open: 0, tokens: this.burst, at: now };
      this.sources.set(source, st);
    } else {
      st.tokens = Math.min(this.burst, st.tokens + ((now - st.at) / 1000) * this.rate);
      st.at = now;
    }
    // Open connections first: a source at its cap is refused without spending a token.
    const reason: ConnectionRefusal | null =
      st.open >= this.max ? 'LIMIT_CONNECTIONS' : st.tokens < 1 ? 'LIMIT_HANDSHAKES' : null;
    if (reason) {
      this.drops[reason] = (this.drops[reason] ?? 0) + 1;
      return { ok: false, source, reason };
    }
    st.tokens -= 1;
    st.open++;
    let counted = true;
    const state = st;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      state.open--;
      // Keep the entry while it holds connections or a spent bucket (forgetting it would refill it).
      if (state.open === 0 && state.tokens >= this.burst - 1e-9 && this.sources.get(source) === state)
        this.sources.delete(source);
    };
    return { ok: true, source, release: uncount, exempt: uncount };
  }

  /** Open connections counted for the source of `ip` (tests, diagnostics). */
  openFrom(ip: string): number {
    return this.sources.get(ipGroup(ip))?.open ?? 0;
  }

  /** Number of sources tracked (bounded: idle sources with a full bucket are dropped). */
  get size(): number {
    return this.sources.size;
  }

  private sweep(now: number): void {
    for (const [k, st] of this.sources) {
      if (st.open > 0) continue;
      if (st.tokens + ((now - st.at) / 1000) * this.rate >= this.burst) this.sources.delete(k);
    }
  }
}
