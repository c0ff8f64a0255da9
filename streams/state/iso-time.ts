/**
 * Event times as the join reads them: fast ISO-8601 parsing (every record) and printing for
 * dead-letter reasons.
 */

const digit = (str: string, i: number): number => str.charCodeAt(i) - 48;
const two = (str: string, i: number): number => {
  const a = digit(str, i);
  const b = digit(str, i + 1);
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * `Date.parse` for event times, which the join reads for every record: the canonical
 * `YYYY-MM-DDTHH:MM:SS.sssZ` form the schemas produce is computed directly (for the ranges where
 * that is certainly the same number); anything else goes to `Date.parse`.
 */
export function parseIsoMs(str: string): number {
  if (
    str.length === 24 &&
    str.charCodeAt(4) === 45 && // -
    str.charCodeAt(7) === 45 &&
    str.charCodeAt(10) === 84 && // T
    str.charCodeAt(13) === 58 && // :
    str.charCodeAt(16) === 58 &&
    str.charCodeAt(19) === 46 && // .
    str.charCodeAt(23) === 90 // Z
  ) {
    const yh = two(str, 0);
    const yl = two(str, 2);
    const y = yh * 100 + yl;
    const mo = two(str, 5);
    const d = two(str, 8);
    const h = two(str, 11);
    const mi = two(str, 14);
    const sec = two(str, 17);
    const c = digit(str, 20);
    const ms = two(str, 21);
    if (
      yh >= 0 &&
      yl >= 0 &&
      y >= 1970 &&
      mo >= 1 &&
      mo <= 12 &&
      d >= 1 &&
      d <= 28 &&
      h >= 0 &&
      h <= 23 &&
      mi >= 0 &&
      mi <= 59 &&
      sec >= 0 &&
      sec <= 59 &&
      c >= 0 &&
      c <= 9 &&
      ms >= 0
    ) {
      // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
      const yy = mo <= 2 ? y - 1 : y;
      const era = Math.floor(yy / 400);
      const yoe = yy - era * 400;
      const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
      const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
      return ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + c * 100 + ms;
    }
  }
  return Date.parse(str);
}

/** An ISO string for a time in ms, or the number itself when it is not finite (±Infinity). */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
