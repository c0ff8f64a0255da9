import type { SessionRecord } from './simulate.ts';

export const COLD_START_BUCKETS = ['0', '1-2', '3-5', '6-10', '>10'] as const;

export function bucketOf(past: number): (typeof COLD_START_BUCKETS)[number] {
  if (past === 0) return '0';
  if (past <= 2) return '1-2';
  if (past <= 5) return '3-5';
  if (past <= 10) return '6-10';
  return '>10';
}

export interface Quality {
  readonly sessions: number;
  /** Share of sessions whose rank-1 option was the persona's preferred option. */
  readonly hit_at_1: number;
  /** Binary relevance (the preferred option), so NDCG@3 = 1/log2(1 + rank) when rank ≤ 3. */
  readonly ndcg_at_3: number;
  /** Share of sessions that ended with an accepted candidate. */
  readonly acceptance_rate: number;
}

export interface RunReport extends Quality {
  /**
   * `preferred`: what the persona's sessions were measured against — its single option, or
   * doc field → option when that differed between its sessions' fields.
   */
  readonly per_persona: Record<string, Quality & { preferred: Preferred }>;
  readonly cold_start: { bucket: string; hit_at_1: number; sessions: number }[];
  readonly explored_share: number;
  readonly degraded_sessions: number;
}

/** A single expected option, or doc field → expected option. */
export type Preferred = string | Readonly<Record<string, string>>;

/** The options a persona's sessions were measured against: one string if all agree, else per field. */
export function preferredOf(rs: readonly SessionRecord[]): Preferred {
  const byDomain = new Map<string, string>();
  for (const r of rs) if (!byDomain.has(r.domain ?? '')) byDomain.set(r.domain ?? '', r.preferred);
  const distinct = new Set(byDomain.values());
  if (distinct.size <= 1) return rs[0]?.preferred ?? '';
  return Object.fromEntries([...byDomain].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `thesis→thesis:strong, email→email:strong` for a per-field preference. */
export function formatPreferred(p: Preferred): string {
  return typeof p === 'string'
    ? p
    : Object.entries(p)
        .map(([d, o]) => `${d}→${o}`)
        .join(', ');
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

function quality(rs: readonly SessionRecord[]): Quality {
  if (rs.length === 0) return { sessions: 0, hit_at_1: 0, ndcg_at_3: 0, acceptance_rate: 0 };
  let hit = 0;
  let ndcg = 0;
  let accepted = 0;
  for (const r of rs) {
    const rank = r.ranked.indexOf(r.preferred) + 1;
    if (rank === 1) hit++;
    if (rank >= 1 && rank <= 3) ndcg += 1 / Math.log2(rank + 1);
    if (r.outcome === 'accepted') accepted++;
  }
  return {
    sessions: rs.length,
    hit_at_1: round(hit / rs.length),
    ndcg_at_3: round(ndcg / rs.length),
    acceptance_rate: round(accepted / rs.length),
  };
}

/**
 * hit@1 and NDCG@3 of what /recommend ranked against each persona's preferred option, overall, per
 * persona and by how many sessions the user had had (the cold-start curve). Pure.
 */
export function evaluate(records: readonly SessionRecord[]): RunReport {
  const byPersona = new Map<string, SessionRecord[]>();
  for (const r of records) byPersona.set(r.persona, [...(byPersona.get(r.persona) ?? []), r]);
  const per_persona: RunReport['per_persona'] = {};
  for (const [name, rs] of [...byPersona].sort((a, b) => a[0].localeCompare(b[0]))) {
    per_persona[name] = { preferred: preferredOf(rs), ...quality(rs) };
  }
  const cold_start = COLD_START_BUCKETS.map((bucket) => {
    const rs = records.filter((r) => bucketOf(r.past) === bucket);
    return { bucket, hit_at_1: quality(rs).hit_at_1, sessions: rs.length };
  });
  return {
    ...quality(records),
    per_persona,
    cold_start,
    explored_share: round(records.filter((r) => r.explored).length / Math.max(1, records.length)),
    degraded_sessions: records.filter((r) => r.degraded).length,
  };
}

/** The evaluation report's table, for the terminal. */
export function formatReport(personalised: RunReport, baseline: RunReport | null): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines: string[] = [];
  const w = Math.max(12, ...Object.keys(personalised.per_persona).map((n) => n.length));
  const pw = Math.max(
    26,
    ...Object.values(personalised.per_persona).map((q) => formatPreferred(q.preferred).length),
  );
  lines.push(
    `  ${'persona'.padEnd(w)}  ${'preferred'.padEnd(pw)} sessions  hit@1  (base)  NDCG@3  (base)  accept`,
  );
  for (const [name, q] of Object.entries(personalised.per_persona)) {
    const b = baseline?.per_persona[name];
    lines.push(
      `  ${name.padEnd(w)}  ${formatPreferred(q.preferred).padEnd(pw)} ${String(q.sessions).padStart(8)} ${pct(q.hit_at_1)} ${pct(b?.hit_at_1 ?? 0)} ${pct(q.ndcg_at_3)} ${pct(b?.ndcg_at_3 ?? 0)} ${pct(q.acceptance_rate)}`,
    );
  }
  lines.push(
    `  ${'overall'.padEnd(w)}  ${''.padEnd(pw)} ${String(personalised.sessions).padStart(8)} ${pct(personalised.hit_at_1)} ${pct(baseline?.hit_at_1 ?? 0)} ${pct(personalised.ndcg_at_3)} ${pct(baseline?.ndcg_at_3 ?? 0)} ${pct(personalised.acceptance_rate)}`,
  );
  lines.push('');
  lines.push(
    `  cold start (hit@1 by the user's past sessions): ${personalised.cold_start.map((c) => `${c.bucket}: ${pct(c.hit_at_1).trim()} (n=${c.sessions})`).join(' · ')}`,
  );
  if (baseline) {
    lines.push(
      `  lift over the non-personalised baseline: hit@1 ${((personalised.hit_at_1 - baseline.hit_at_1) * 100).toFixed(1)} points, NDCG@3 ${((personalised.ndcg_at_3 - baseline.ndcg_at_3) * 100).toFixed(1)} points`,
    );
  }
  return lines.join('\n');
}
