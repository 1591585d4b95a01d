/**
 * The short fuzz run of the normal test suite (the long one: `npm run fuzz`, bench/fuzz.ts):
 * mutated requests made from real cores' requests, through A's core in process and through a real
 * HTTPS node. No crash, no 500, only documented error codes, no write from a refused request, and
 * the Store untouched by unauthenticated input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runHttps } from './https.ts';
import { runInProcess } from './in-process.ts';

const show = (groups: Record<string, number>, examples: unknown[]) =>
  JSON.stringify({ groups, examples: examples.slice(0, 3) }, null, 1).slice(0, 4000);

describe('fuzz (short)', { timeout: 120_000 }, () => {
  it('10,000 mutated requests through the core in process', () => {
    const s = runInProcess({ n: 10_000, seed: 12, epoch: 5_000 });
    assert.equal(s.requests, 10_000);
    assert.equal(s.unknownFindings, 0, show(s.groups, s.examples));
    // The run reached deep: accepted requests, delivered messages, relays, every refusal class.
    for (const status of ['200', '400', '401', '409', '413', '504']) assert.ok(s.statuses[status] > 0, `no ${status}`);
    assert.ok(s.reproved > 3000 && s.delivered > 0 && s.responsesFed > 100, JSON.stringify(s));
  });

  it('800 mutated requests through a real HTTPS node', async () => {
    const s = await runHttps({ m: 800, seed: 12, lanes: 8 });
    assert.equal(s.requests, 800);
    assert.equal(s.unknownFindings, 0, show(s.groups, s.examples));
    assert.equal(s.storeUnchangedAfterUnauthenticatedPhase, true);
    assert.equal(s.storeChangesOnlyAllowedAfterMixedPhase, true);
    assert.equal(s.servingAtEnd, true);
    assert.ok(s.statuses['200'] > 0 && s.statuses['400'] > 0 && s.statuses['401'] > 0, JSON.stringify(s.statuses));
  });
});
