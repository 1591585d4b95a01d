// One long-lived reader per lab namespace (test/lab/harness.ts): answers the read-only CLI queries
// (`mesh status|contacts|requests|inbox --json`) through the same ApiClient and local-API routes the
// CLI uses, so the tests poll in milliseconds instead of a Node start-up per look (~0.5 s each on a
// busy machine). Reads {"id","dir","route","input"} lines on stdin, writes {"id","ok","value"|"error"}.
import { createInterface } from 'node:readline';

const { ApiClient } = await import(process.argv[2]);
createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, dir, route, input } = JSON.parse(line);
  let reply;
  try {
    // Fresh every time: a restarted daemon has a new API port and token.
    reply = { id, ok: true, value: await ApiClient.forDataDir(dir).call(route, input) };
  } catch (e) {
    reply = { id, ok: false, error: `${e?.code ?? 'ERROR'}: ${e?.message ?? e}` };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
});
