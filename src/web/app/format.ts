/** Small formatting helpers shared by the views. */

/** "just now", "5 min ago", "3 h ago", "yesterday", or a date; `null` → "never". */
export function relativeTime(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return 'never';
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 2 * 86_400) return 'yesterday';
  return new Date(ms).toLocaleDateString();
}

/** Clock time for a message, with the date when it is not today. */
export function messageTime(ms: number): string {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return today ? time : `${d.toLocaleDateString()} ${time}`;
}

/** Full date and time for tooltips and `<time dateTime>`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** "in 23 h", "in 5 min" for expiry times. */
export function untilTime(ms: number, now = Date.now()): string {
  const s = Math.round((ms - now) / 1000);
  if (s <= 0) return 'expired';
  if (s < 3600) return `in ${Math.max(1, Math.round(s / 60))} min`;
  if (s < 2 * 86_400) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86_400)} days`;
}

/** First 8 characters of a UUID, for places where the full one does not fit. */
export function shortId(uuid: string): string {
  return uuid.length > 8 ? `${uuid.slice(0, 8)}…` : uuid;
}

/** Display name of a node: the contact's name, else a short UUID. */
export function displayName(name: string | undefined | null, uuid: string): string {
  return name?.trim() || shortId(uuid);
}
