/**
 * The short channel-frame fuzz run of the normal suite (the long one: `npm run fuzz`, bench/fuzz.ts
 * --channel-in-process / --channel-https): mutated frames through the channel engine and A's core
 * in process, and over authenticated channels to a real HTTPS node. No crash, every frame gets the
 * outcome docs/PROTOCOL.md §13.5 documents, no 500, and the Store untouched by unauthenticated input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChannelHttps } from './channel-https.ts';
import { runChannelInProcess } from './channel-in-process.ts';

const show = (groups: Record<string, number>, examples: unknown[]) =>
  JSON.stringify({ groups, examples: examples.slice(0, 3) }, null, 1).slice(0, 4000);

describe('channel frame fuzz (short)', { timeout: 180_000 }, () => {
  it('5,000 mutated frames through the channel engine and the core in process', async () => {
    const s = await runChannelInProcess({ n: 5_000, seed: 12, epoch: 2_500 });
    assert.equal(s.requests, 5_000);
    assert.equal(s.unknownFindings, 0, show(s.groups, s.examples));
    assert.equal(s.crashes, 0);
    // Every documented close happened, requests were answered and stray answers ignored.
    for (const code of ['4000', '4001']) assert.ok(s.closes[code] > 0, `no close ${code}: ${JSON.stringify(s.closes)}`);
    for (const status of ['200', '400', '401']) assert.ok(s.statuses[status] > 0, `no ${status}`);
    assert.ok(s.opened > 10 && s.ignored > 0, JSON.stringify(s));
  });

  it('600 mutated frames over channels to a real HTTPS node', async () => {
    const s = await runChannelHttps({ m: 600, seed: 12 });
    assert.equal(s.unknownFindings, 0, show(s.groups, s.examples));
    assert.equal(s.storeUnchangedAfterUnauthenticatedPhase, true);
    assert.equal(s.storeChangesOnlyAllowedAfterMixedPhase, true);
    assert.equal(s.servingAtEnd, true);
    assert.ok(s.closes['4000'] > 0 && s.channels > 1, JSON.stringify(s.closes));
    assert.ok(s.statuses['200'] > 0 && s.statuses['401'] > 0, JSON.stringify(s.statuses));
  });
});
