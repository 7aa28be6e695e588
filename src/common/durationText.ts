import { RelayError } from './relayError.js';

const unitSeconds: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a duration such as `90s`, `15m`, `2h`, `1d` or a bare number of seconds into
 * whole seconds. Throws `BAD_REQUEST` naming `what` for anything else or for zero.
 */
export function parseDurationSeconds(text: string, what: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) throw new RelayError('BAD_REQUEST', `${what}: expected a duration like 90s, 15m, 2h or 1d`);
  const seconds = Number(match[1]) * unitSeconds[match[2] || 's']!;
  if (seconds <= 0) throw new RelayError('BAD_REQUEST', `${what}: must be longer than 0 s`);
  return seconds;
}

/** `in 5 min` / `3 h ago`: how far `atMs` is from `nowMs`, for people. */
export function relativeTime(atMs: number, nowMs: number): string {
  const delta = Math.round((atMs - nowMs) / 1000);
  const size = Math.abs(delta);
  const text = size < 120 ? `${size} s` : size < 7_200 ? `${Math.round(size / 60)} min` : size < 172_800 ? `${Math.round(size / 3600)} h` : `${Math.round(size / 86_400)} d`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}
