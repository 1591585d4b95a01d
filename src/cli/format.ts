/** Human output helpers: aligned tables and relative times (colors come from picocolors, TTY only). */

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI color codes to measure width
const ANSI = /\x1b\[[0-9;]*m/g;

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
