/**
 * Lab helper (runs in a home host's namespace): a real HttpsTransport with channels, driven by JSON
 * lines on stdin, answering JSON lines on stdout (test/lab/punch-lab.ts drives it):
 *   {"op":"observe","port":P,"observer":"ip:port"} → {"op":"observed","endpoint":"ip:port"}
 *   {"op":"punch","port":P,"remote":"ip:port","role":"client"|"server","startAt":ms,"timeoutMs":ms}
 *       → {"op":"punched","ok":true,"ms","attempts","remote","answer"} | {"op":"punched","ok":false,"code","error"}
 *   {"op":"release"} → {"op":"released"}
 * Usage: punch-peer.ts a|b — identities come from fixed seeds so each side knows the other's key.
 */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { keyPairsFromSeed } from '../../src/crypto/index.ts';
import { TransportError } from '../../src/ports.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';

const me = process.argv[2] === 'b' ? 'b' : 'a';
const other = me === 'a' ? 'b' : 'a';
const keys = (id: string) => keyPairsFromSeed(new Uint8Array(64).fill(id === 'a' ? 1 : 2));
const self = keys(me);
const peer = keys(other);
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

const t = new HttpsTransport({ host: '0.0.0.0', port: 7575, ...self, rateLimit: false });
const listen = await t.listen(async () => ({ status: 200, body: new TextEncoder().encode(`{"from":"${me}"}`) }));
let observerConn: Socket | null = null;

async function observe(port: number, observer: string): Promise<string> {
  const [host, p] = observer.split(':');
  const s = connect({ host, port: Number(p), localPort: port });
  observerConn = s;
  return new Promise((resolve, reject) => {
    s.setEncoding('utf8');
    s.once('data', (d: string) => resolve(d.trim()));
    s.once('error', reject);
  });
}

async function punch(m: {
  port: number;
  remote: string;
  role: 'client' | 'server';
  startAt: number;
  timeoutMs: number;
}) {
  try {
    const r = await t.punch({
      localPort: m.port,
      remote: m.remote,
      role: m.role,
      signPub: peer.signPub,
      startAt: m.startAt,
      timeoutMs: m.timeoutMs,
    });
    // An address nobody answers on: the answer can only come over the punched channel.
    const res = await t.request({
      address: '192.0.2.1:9',
      headers: { 'mesh-version': '1', 'mesh-type': 'message' },
      body: new Uint8Array(1),
      pin: { signPub: peer.signPub },
      timeoutMs: 3000,
    });
    say({
      op: 'punched',
      ok: true,
      ms: r.ms,
      attempts: r.attempts,
      remote: r.remote,
      answer: new TextDecoder().decode(res.body),
    });
  } catch (err) {
    const code = err instanceof TransportError ? err.code : 'ERROR';
    say({ op: 'punched', ok: false, code, error: (err as Error).message });
  } finally {
    observerConn?.destroy();
    observerConn = null;
  }
}

say({ op: 'ready', listen });
for await (const line of createInterface({ input: process.stdin })) {
  const m = JSON.parse(line);
  if (m.op === 'observe') {
    observe(m.port, m.observer).then(
      (endpoint) => say({ op: 'observed', endpoint }),
      (err: Error) => say({ op: 'observed', endpoint: null, error: err.message }),
    );
  } else if (m.op === 'punch') {
    void punch(m);
  } else if (m.op === 'release') {
    t.releaseChannel(peer.signPub);
    say({ op: 'released' });
  }
}
await t.close();
