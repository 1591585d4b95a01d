/** `parseTime` (the TIME of `mesh inbox --clear --before TIME`): the forms it takes and the ones it refuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import { parseTime, TIME_FORMS } from '../../src/util/duration.ts';

describe('parseTime', () => {
  const accepted: { desc: string; input: string | number; expected: number }[] = [
    { desc: 'unix ms as digits', input: '1795996800000', expected: 1_795_996_800_000 },
    { desc: 'unix ms with spaces around', input: ' 1795996800000 ', expected: 1_795_996_800_000 },
    { desc: 'unix ms as a number (the API)', input: 1_795_996_800_000, expected: 1_795_996_800_000 },
    { desc: 'a fractional number is floored', input: 1_795_996_800_000.7, expected: 1_795_996_800_000 },
    { desc: 'an ISO date is midnight UTC', input: '2026-11-30', expected: Date.UTC(2026, 10, 30) },
    { desc: 'ISO date-time in UTC', input: '2026-11-30T09:30:00Z', expected: Date.UTC(2026, 10, 30, 9, 30) },
    { desc: 'with milliseconds', input: '2026-11-30T09:30:00.250Z', expected: Date.UTC(2026, 10, 30, 9, 30, 0, 250) },
    { desc: 'with an offset', input: '2026-11-30T09:30+01:00', expected: Date.UTC(2026, 10, 30, 8, 30) },
    {
      desc: 'a date-time without an offset is local time',
      input: '2026-11-30T09:30',
      expected: new Date(2026, 10, 30, 9, 30).getTime(),
    },
    { desc: 'a space instead of T', input: '2026-11-30 09:30:00Z', expected: Date.UTC(2026, 10, 30, 9, 30) },
  ];
  for (const { desc, input, expected } of accepted) it(desc, () => assert.equal(parseTime(input), expected));

  const refused: { desc: string; input: string | number }[] = [
    { desc: 'a word', input: 'yesterday' },
    { desc: 'a US date', input: '11/30/2026' },
    { desc: 'a month that does not exist', input: '2026-13-01' },
    { desc: 'a negative number', input: -1 },
    { desc: 'NaN', input: Number.NaN },
    { desc: 'Infinity', input: Number.POSITIVE_INFINITY },
    { desc: 'empty', input: '' },
    { desc: 'a duration (that is --ttl, not a time)', input: '24h' },
    { desc: 'digits beyond any date', input: '99999999999999999' },
  ];
  for (const { desc, input } of refused)
    it(`refuses ${desc}`, () =>
      assert.throws(
        () => parseTime(input),
        (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT' && e.message.includes(TIME_FORMS),
      ));
});
