/**
 * Lab helper (runs on a public host): tells each TCP client the endpoint it came from after its NAT,
 * "ip:port\n", and keeps the connection open until the client closes it — what a reachable contact
 * observes of a private node's punch port (docs/PROTOCOL.md §17.2). Usage: punch-observer.ts [PORT]
 */
import { createServer } from 'node:net';

const port = Number(process.argv[2] ?? 3479);
createServer((s) => {
  s.on('error', () => {});
  s.write(`${(s.remoteAddress ?? '').replace(/^::ffff:/, '')}:${s.remotePort}\n`);
}).listen(port, () => process.stdout.write(`observer on ${port}\n`));
