/**
 * Real MeshNodes (the runtime, the core, real timers) on a MemoryStore and one MemoryNetwork: the
 * fast way to get real contacts, messages and requests behind the local API in tests.
 *
 *   const mesh = new MemoryMesh();
 *   const [me, alice] = await Promise.all([mesh.node('Me'), mesh.node('Alice')]);
 *   await befriend(me, alice);
 *   await mesh.stop();
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../src/ports.ts';
import type { CoreInit } from '../../src/protocol/config.ts';
import { createIdentity } from '../../src/protocol/identity.ts';
import { MeshNode } from '../../src/runtime/mesh-node.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { MemoryNetwork, type MemoryNetworkInit, type MemoryTransport } from '../../src/transport/memory/index.ts';

/** Options of one node. */
export interface MemoryNodeInit {
  /** "ip:port" on the memory network. @default the next of 198.51.100.1:7575, .2, … (TEST-NET-2) */
  address?: string;
  core?: CoreInit;
  /** Channel binding on (the identity's keys given to the transport). @default false */
  channels?: boolean;
  /** Punch port (docs/PROTOCOL.md §17.1) for the transport and the core; implies `channels`. */
  punchPort?: number;
  /** Channel redial backoff (short in tests where a node's channels drop and must come back soon). */
  redial?: { redialMinMs: number; redialMaxMs: number };
}

/** A memory network of real MeshNodes sharing one (optionally shifted) clock. */
export class MemoryMesh {
  readonly net: MemoryNetwork;
  readonly nodes: MeshNode[] = [];
  /** Added to Date.now() by every node's clock: lets a test set up a past, then return to now. */
  skewMs = 0;
  readonly clock: Clock = { now: () => Date.now() + this.skewMs };
  #next = 1;

  constructor(init: MemoryNetworkInit = {}) {
    this.net = new MemoryNetwork(init);
  }

  /** Creates, stores and starts a node named `name`. */
  async node(name: string, init: MemoryNodeInit = {}): Promise<MeshNode> {
    const address = init.address ?? `198.51.100.${this.#next++}:7575`;
    const self = createIdentity(name, { random: (n) => new Uint8Array(randomBytes(n)), now: this.clock.now() });
    const store = new MemoryStore();
    store.apply([{ op: 'self:put', self }]);
    const node = new MeshNode({
      store,
      transport: this.net.transport(address, {
        signPub: self.signPub,
        ...(init.channels || init.punchPort ? { signPriv: self.signPriv, boxPub: self.boxPub } : {}),
        ...(init.punchPort ? { punchPort: init.punchPort } : {}),
        ...(init.redial ? { channel: init.redial } : {}),
      }),
      clock: this.clock,
      core: init.punchPort ? { punchPort: init.punchPort, ...init.core } : init.core,
    });
    await node.start();
    this.nodes.push(node);
    return node;
  }

  /** Moves a node to a new address and lets it announce itself there (a new IP, as after a router change). */
  async move(node: MeshNode, to: string): Promise<void> {
    this.net.move((node.transport as MemoryTransport).address, to);
    await node.command({ kind: 'address', addresses: [to] });
  }

  /** Stops every node. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => {})));
  }
}

/** Resolves with the first `event` of `node` for which `match` holds (rejects after `ms`). */
export function nextEvent<T = Record<string, unknown>>(
  node: MeshNode,
  event: string,
  match: (data: T) => boolean = () => true,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (data: T) => {
      if (!match(data)) return;
      clearTimeout(timer);
      node.off(event, on);
      resolve(data);
    };
    node.on(event, on);
  });
}

/** The whole contact flow: `a` invites, `b` adds, `a` accepts; resolves once both hold each other as active. */
export async function befriend(a: MeshNode, b: MeshNode): Promise<void> {
  const { code } = await a.invite();
  const requested = nextEvent<{ uuid: string }>(a, 'contact:request', (r) => r.uuid === b.uuid);
  await b.add(code, a.store.getSelf()!.name);
  await requested;
  const added = nextEvent<{ uuid: string }>(b, 'contact:added', (r) => r.uuid === a.uuid);
  await a.accept(b.uuid);
  await added;
}
