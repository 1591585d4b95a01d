/** Human output helpers: aligned tables and relative times (colors come from picocolors, TTY only). */

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI color codes to measure width
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Code points a peer could use to rewrite the terminal: C0 controls (ESC starts colour, cursor and
 * title sequences; CR overwrites the line), DEL, C1 controls (8-bit CSI/OSC), and the bidirectional
 * overrides and isolates that reorder what follows them ("Trojan Source", CVE-2021-42574).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters it must find
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text a peer chose (names, messages) safe to print on a terminal (issue 12, finding 17): every
 * unsafe code point becomes a visible stand-in — C0 controls their Unicode "control picture" (ESC → ␛),
 * the rest U+FFFD. With `multiline`, a newline stays a newline, indented so it cannot pose as a line
 * of our own output.
 */
export function termSafe(text: string, opts: { multiline?: boolean } = {}): string {
  return text.replace(UNSAFE, (ch) => {
    const c = ch.charCodeAt(0);
    if (ch === '\n' && opts.multiline) return '\n    ';
    if (c < 0x20) return String.fromCharCode(0x2400 + c);
    if (c === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

/** Prints rows as an aligned table with a header line. */
export function printTable(header: string[], rows: string[][]): void {
  const width = (s: string) => s.replace(ANSI, '').length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i] - width(c)))
      .join('  ')
      .trimEnd();
  console.log(fmt(header.map((h) => h.toUpperCase())));
  for (const r of rows) console.log(fmt(r));
}

/** "3m ago", "2h ago", "just now". */
export function ago(ts: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
