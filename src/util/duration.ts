/** Parses and formats durations like "30s", "15m", "24h", "7d" (or plain milliseconds). */
import { MeshError } from '../errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "24h" → 86400000. Throws MeshError INVALID_ARGUMENT with an example on bad input. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw MeshError.invalidArgument(`"${text}" is not a duration; use e.g. 30s, 15m, 24h or 7d`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms'];
  if (!(ms > 0)) throw MeshError.invalidArgument(`a duration must be positive: "${text}"`);
  return Math.round(ms);
}

/** 90061000 → "1d 1h 1m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  for (const [u, s] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / s);
    rest -= n * s;
    if (n > 0) parts.push(`${n}${u}`);
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
