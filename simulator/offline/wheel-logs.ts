import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decisionFromExample, type LoggedDecision } from '../../analytics/counterfactual.ts';
import type { EmbeddedWheel } from '../../app/embedded-wheel.ts';
import {
  type RecommendEvent,
  recommendEventSchema,
  type TrainingExample,
  trainingExampleSchema,
} from '../../schemas/index.ts';
import { decodeExample, registryHeaderLength } from '../../streams/codec/session-codec.ts';

/** The logged A and H of one run: what the offline evaluation reads. */
export interface RunLogs {
  readonly recommends: readonly RecommendEvent[];
  readonly examples: readonly TrainingExample[];
}

/**
 * A and H as the embedded wheel's log holds them (records that do not decode are left out: the
 * join dead-letters them anyway).
 *
 * @example
 * const logs = logsOfWheel(wheel); // after a simulated run
 */
export function logsOfWheel(wheel: Pick<EmbeddedWheel, 'log' | 'config'>): RunLogs {
  const recommends: RecommendEvent[] = [];
  for (const rec of wheel.log.read(wheel.config.topics.recommend)) {
    try {
      const parsed = recommendEventSchema.safeParse(
        JSON.parse(rec.value.toString('utf8', registryHeaderLength(rec.value))),
      );
      if (parsed.success) recommends.push(parsed.data);
    } catch {
      // not JSON: not an A the evaluation can use
    }
  }
  const examples: TrainingExample[] = [];
  for (const rec of wheel.log.read(wheel.config.topics.trainingExamples)) {
    const h = decodeExample(rec);
    if (!('code' in h)) examples.push(h);
  }
  return { recommends, examples };
}

/**
 * Decisions for the estimators: the latest H of each session, with ε from its A when the A is in
 * the logs (H does not carry ε; without the A it is inferred from the propensities).
 */
export function decisionsOfLogs(logs: RunLogs): LoggedDecision[] {
  const epsilon = new Map(logs.recommends.map((a) => [a.recommend_session_id, a.epsilon]));
  const latest = new Map<string, TrainingExample>();
  for (const h of logs.examples) {
    const prev = latest.get(h.recommend_session_id);
    if (!prev || h.revision > prev.revision) latest.set(h.recommend_session_id, h);
  }
  const out: LoggedDecision[] = [];
  for (const id of [...latest.keys()].sort()) {
    const d = decisionFromExample(latest.get(id)!, epsilon.get(id));
    if (d) out.push(d);
  }
  return out;
}

/** File names of a run's logs under a folder: `<label>.a.jsonl` and `<label>.h.jsonl`. */
export function logPaths(dir: string, label: string): { a: string; h: string } {
  return { a: join(dir, `${label}.a.jsonl`), h: join(dir, `${label}.h.jsonl`) };
}

/** Writes a run's A and H as JSON lines (git-ignored reports/ by convention). */
export function writeRunLogs(dir: string, label: string, logs: RunLogs): { a: string; h: string } {
  mkdirSync(dir, { recursive: true });
  const p = logPaths(dir, label);
  const lines = (xs: readonly unknown[]) => xs.map((x) => `${JSON.stringify(x)}\n`).join('');
  writeFileSync(p.a, lines(logs.recommends));
  writeFileSync(p.h, lines(logs.examples));
  return p;
}

/**
 * Reads JSON-lines logs back; each line is checked against its schema and a bad line fails with
 * its file and line number (a half-written log should not give a silently smaller estimate).
 */
export function readRunLogs(paths: { a?: string; h: string }): RunLogs {
  const parse = <T>(
    file: string,
    schema: { safeParse(x: unknown): { success: boolean; data?: T; error?: unknown } },
  ) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l, i) => {
        let raw: unknown;
        try {
          raw = JSON.parse(l);
        } catch (err) {
          throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
        }
        const r = schema.safeParse(raw);
        if (!r.success) throw new Error(`${file}:${i + 1}: not a valid record`);
        return r.data as T;
      });
  return {
    recommends: paths.a ? parse<RecommendEvent>(paths.a, recommendEventSchema) : [],
    examples: parse<TrainingExample>(paths.h, trainingExampleSchema),
  };
}
