import type { UserProfile } from '../../schemas/index.ts';

/** What a `/recommend` asked the profile to include before it is scored. */
export interface ProfileWants {
  /** The profile's `version` must be at least this. */
  readonly minVersion?: number;
  /** The profile must include this session's selection (from an `as_of` token). */
  readonly asOf?: AsOf;
}

/** An `as_of` token decoded: a session, and the event time of its selection (C). */
export interface AsOf {
  readonly session: string;
  /** ISO-8601 event time of C. */
  readonly ts: string;
}

const PREFIX = 'c1.';

/**
 * The `as_of` token `/select` answers: the session and its C's event time, base64url'd. Opaque
 * to clients; the server reads it back with {@link decodeAsOf}.
 *
 * @example
 * encodeAsOf({ session: 'rs_x', ts: '2026-03-02T09:00:15.000Z' }); // 'c1.eyJz…'
 */
export function encodeAsOf(a: AsOf): string {
  return PREFIX + Buffer.from(JSON.stringify({ s: a.session, t: a.ts })).toString('base64url');
}

/** The token read back, or null when it is not one `/select` made. */
export function decodeAsOf(token: string): AsOf | null {
  if (!token.startsWith(PREFIX)) return null;
  try {
    const v = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const { s, t } = v as { s?: unknown; t?: unknown };
    if (typeof s !== 'string' || typeof t !== 'string' || Number.isNaN(Date.parse(t))) return null;
    return { session: s, ts: t };
  } catch {
    return null;
  }
}

/**
 * Whether a profile reflects what was asked. For `as_of` the honest test is the session's own
 * entry: the fold records each session's contribution under its id with the event time of the
 * training example (H), which is the time of its latest event. H carries C only when its time is
 * at or after C's — an earlier revision (the window closed before C came) has an older time — so
 * `recent[session].ts >= C.ts` means exactly "this selection is in the profile". A profile's
 * `version` alone could not say that: other sessions move it too. Pure.
 */
export function profileSatisfies(profile: UserProfile | null, wants: ProfileWants): boolean {
  if (wants.minVersion !== undefined && (profile?.version ?? 0) < wants.minVersion) return false;
  if (wants.asOf) {
    const entry = profile?.recent[wants.asOf.session];
    if (!entry || entry.ts < wants.asOf.ts) return false;
  }
  return true;
}

export interface ReadYourWritesOptions {
  /** The longest a `/recommend` waits for the profile (default 1,500 ms). */
  readonly maxWaitMs: number;
  /** How often the profile store is read meanwhile (default 50 ms). */
  readonly pollMs: number;
  /** Waits this long (tests pass one that moves the stream along instead of sleeping). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_READ_YOUR_WRITES: ReadYourWritesOptions = { maxWaitMs: 1_500, pollMs: 50 };

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Reads a profile until it satisfies `wants` or `maxWaitMs` has passed (wall time: the fold is
 * asynchronous, on another process in production), and says how it went. Without wants it reads
 * once. A failed read ends the wait with the error (the caller answers degraded).
 *
 * @example
 * const r = await readProfileWhen(() => profiles.getMany([u]).then((p) => p[0] ?? null), { minVersion: 7 }, DEFAULT_READ_YOUR_WRITES);
 * r.satisfied; // false if version 7 did not arrive within the bound
 */
export async function readProfileWhen(
  read: () => Promise<UserProfile | null>,
  wants: ProfileWants,
  o: ReadYourWritesOptions,
): Promise<{ profile: UserProfile | null; satisfied: boolean; waitedMs: number }> {
  const sleep = o.sleep ?? realSleep;
  const t0 = performance.now();
  let profile = await read();
  let satisfied = profileSatisfies(profile, wants);
  // The bound counts both the wall time and the time asked to sleep, so a stand-in sleep that
  // returns at once still ends after maxWaitMs / pollMs polls.
  let slept = 0;
  while (!satisfied) {
    const left = o.maxWaitMs - Math.max(performance.now() - t0, slept);
    if (left <= 0) break;
    const ms = Math.min(o.pollMs, left);
    await sleep(ms);
    slept += ms;
    profile = await read();
    satisfied = profileSatisfies(profile, wants);
  }
  return { profile, satisfied, waitedMs: Math.round(performance.now() - t0) };
}
