/**
 * In-memory transport for tests and the simulator.
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from './src/transport/memory/index.ts';
 * const net = new MemoryNetwork({ latencyMs: 20, jitterMs: 10 });
 * const alice = net.transport('10.0.0.1:7575', { signPub: alicePub });
 * const bob = net.transport('10.0.0.2:7575', { signPub: bobPub });
 * await bob.listen(async (req) => ({ status: 200, body: req.body })); // req.remote = '10.0.0.1:4xxxx'
 * const res = await alice.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 1000, pin: { signPub: bobPub } });
 * net.setOnline('10.0.0.2:7575', false); // further calls: TransportError('CONNECT_FAILED')
 * net.move('10.0.0.2:7575', '10.0.0.9:7575'); // bob gets a new IP
 * ```
 */
export {
  MemoryNetwork,
  type MemoryNetworkInit,
  MemoryTransport,
  type MemoryTransportOptions,
} from './memory-transport.ts';
