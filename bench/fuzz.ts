/**
 * The long fuzz run (issue 12 item 3): mutated requests through codec + core in process, then
 * through a real HTTPS node. Prints a progress line and ends with one JSON summary line; exits 1
 * when it found a crash, a 5xx or a broken invariant.
 *
 *   node --import tsx bench/fuzz.ts --in-process 1000000 --https 100000 --seed 1
 *   node --import tsx bench/fuzz.ts --in-process 0 --https 0 --channel-in-process 1000000 --channel-https 100000
 *
 * The channel runs (docs/PROTOCOL.md §13) send mutated channel frames: through the channel engine
 * and A's core in process, and over authenticated WebSocket channels to a real HTTPS node.
 */
import { runChannelHttps } from '../test/fuzz/channel-https.ts';
import { runChannelInProcess } from '../test/fuzz/channel-in-process.ts';
import { runHttps } from '../test/fuzz/https.ts';
import { runInProcess } from '../test/fuzz/in-process.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}

const inProcess = flag('in-process', 1_000_000);
const https = flag('https', 100_000);
const seed = flag('seed', 1);
const channelInProcess = flag('channel-in-process', 0);
const channelHttps = flag('channel-https', 0);
const line = (text: string) => process.stderr.write(`\r${text.padEnd(110)}`);

const a = runInProcess({
  n: inProcess,
  seed,
  progressEvery: 20_000,
  onProgress: (done, s) =>
    line(`in-process ${done}/${inProcess}  ${s.perSecond}/s  crashes ${s.crashes}  violations ${s.violations}`),
});
process.stderr.write('\n');
const b =
  https > 0
    ? await runHttps({
        m: https,
        seed,
        onProgress: (done, s) =>
          line(
            `https ${done}/${https}  ${s.perSecond}/s  5xx ${JSON.stringify(s.serverErrors)}  violations ${s.violations}`,
          ),
      })
    : null;
process.stderr.write('\n');
const c =
  channelInProcess > 0
    ? await runChannelInProcess({
        n: channelInProcess,
        seed,
        progressEvery: 10_000,
        onProgress: (done, s) =>
          line(
            `channel in-process ${done}/${channelInProcess}  ${s.perSecond}/s  crashes ${s.crashes}  violations ${s.violations}`,
          ),
      })
    : null;
if (c) process.stderr.write('\n');
const d =
  channelHttps > 0
    ? await runChannelHttps({
        m: channelHttps,
        seed,
        onProgress: (done, s) =>
          line(
            `channel https ${done}/${channelHttps}  ${s.perSecond}/s  closes ${JSON.stringify(s.closes)}  violations ${s.violations}`,
          ),
      })
    : null;
if (d) process.stderr.write('\n');
const summary = { bench: 'fuzz', seed, inProcess: a, https: b, channelInProcess: c, channelHttps: d };
console.log(JSON.stringify(summary));
const failed =
  a.unknownFindings + (b ? b.unknownFindings : 0) + (c ? c.unknownFindings : 0) + (d ? d.unknownFindings : 0);
process.exitCode = failed > 0 ? 1 : 0;
