import { publicErrorKind } from '../common/error-kind.ts';

/**
 * `ApiDeps.onUpstreamError` for a server's log: each failing dependency is logged with its full
 * message at most once per `everyMs` (default 10 s), with how many failures that line stands for,
 * so an outage of a store every request reads gives a line every 10 s, not one per request.
 *
 * @example
 * createApi({ ...deps, onUpstreamError: createUpstreamErrorLog(logLine, Date.now) });
 */
export function createUpstreamErrorLog(
  log: (msg: string, extra: Record<string, unknown>) => void,
  clock: () => number,
  everyMs = 10_000,
): (what: string, err: unknown) => void {
  const last = new Map<string, { at: number; since: number }>();
  return (what, err) => {
    const now = clock();
    const seen = last.get(what);
    if (seen && now - seen.at < everyMs) {
      seen.since += 1;
      return;
    }
    last.set(what, { at: now, since: 0 });
    log('upstream error', {
      what,
      kind: publicErrorKind(err),
      error: err instanceof Error ? err.message : String(err),
      ...(seen && seen.since > 0 ? { suppressed: seen.since } : {}),
    });
  };
}
