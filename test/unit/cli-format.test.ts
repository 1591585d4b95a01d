/** Terminal output of peer-chosen text (issue 12, finding 17): a table of inputs and what reaches the screen. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { termSafe } from '../../src/cli/format.ts';

describe('termSafe', () => {
  const table: { desc: string; input: string; multiline?: boolean; expected: string }[] = [
    { desc: 'plain text is unchanged', input: 'hello bob — ça va? 👋', expected: 'hello bob — ça va? 👋' },
    { desc: 'a colour sequence loses its ESC', input: '\x1b[31mred\x1b[0m', expected: '␛[31mred␛[0m' },
    { desc: 'a title-setting OSC loses ESC and BEL', input: '\x1b]0;pwned\x07', expected: '␛]0;pwned␇' },
    { desc: 'CR cannot overwrite the line', input: 'ok\rforged', expected: 'ok␍forged' },
    { desc: 'a newline in a name is shown, not obeyed', input: 'bob\nalice: hi', expected: 'bob␊alice: hi' },
    {
      desc: 'a newline in a message stays, indented',
      input: 'one\ntwo',
      multiline: true,
      expected: 'one\n    two',
    },
    { desc: 'an 8-bit CSI (C1) becomes U+FFFD', input: 'a\u009b2Jb', expected: 'a\ufffd2Jb' },
    { desc: 'DEL becomes its control picture', input: 'a\x7fb', expected: 'a␡b' },
    {
      desc: 'bidi overrides are neutralised',
      input: 'abc\u202edef\u2066x\u2069',
      expected: 'abc\ufffddef\ufffdx\ufffd',
    },
  ];
  for (const { desc, input, multiline, expected } of table) {
    it(desc, () => assert.equal(termSafe(input, { multiline }), expected));
  }
});
