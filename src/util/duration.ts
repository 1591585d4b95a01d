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

/** What `parseTime` accepts, for help texts and error messages. */
export const TIME_FORMS =
  'unix milliseconds (1795996800000) or an ISO 8601 date or date-time (2026-11-30 = midnight UTC, 2026-11-30T09:30:00Z, 2026-11-30T09:30+01:00; a date-time without Z or an offset is local time)';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A point in time as unix ms from TIME_FORMS (a number is taken as unix ms). Throws MeshError
 * INVALID_ARGUMENT otherwise: loose forms ("yesterday", "11/30") are refused, not guessed.
 */
export function parseTime(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value);
  } else {
    const text = value.trim();
    if (/^\d{1,16}$/.test(text)) return Number(text);
    if (ISO_TIME.test(text)) {
      const ms = Date.parse(text.replace(' ', 'T'));
      if (Number.isFinite(ms)) return ms;
    }
  }
  throw MeshError.invalidArgument(`"${String(value)}" is not a time; use ${TIME_FORMS}`);
}
