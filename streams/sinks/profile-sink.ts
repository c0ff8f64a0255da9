import type { UserProfile } from '../../schemas/index.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import type { LogRecord } from '../log/event-log.ts';
import { evolveProfile, type ProfileInput } from '../reducers/evolve-profile.ts';
import { dropErased, type ErasureRegistry, exampleStartMs } from '../stores/erasure-registry.ts';
import type { ProfileStore } from '../stores/profile-store.ts';
import { decodeExamples, embedContexts } from './decode-examples.ts';
import type { Sink } from './sink.ts';

export interface ProfileSinkOptions {
  readonly profiles: ProfileStore;
  readonly embedder: Embedder;
  readonly topic: string;
  readonly group: string;
  /** Told after each apply how many profiles changed and the newest example time seen. */
  readonly onFolded?: (changed: number, latestTs: string | null) => void;
  /** Erased users: their H from before the erasure is dropped, never applied (docs/erasure.md). */
  readonly registry?: ErasureRegistry;
}

/** Folds a batch of H into profiles: pure, given the profiles it touches. Returns the changed ones. */
export function foldProfiles(
  current: ReadonlyMap<string, UserProfile | null>,
  inputs: readonly ProfileInput[],
): Map<string, UserProfile> {
  const work = new Map(current);
  const changed = new Map<string, UserProfile>();
  for (const input of inputs) {
    const before = work.get(input.example.user_id) ?? null;
    const after = evolveProfile(before, input);
    if (after !== before) {
      work.set(after.user_id, after);
      changed.set(after.user_id, after);
    }
  }
  return changed;
}

/**
 * The profile fold (G) as a sink of H: embed the contexts → read the users' profiles → fold
 * (pure) → write the changed ones. Idempotent: each profile keeps its last applied H offset per
 * partition, `evolveProfile` skips what it has already applied, and the store refuses a write
 * older than what it holds. Records that are not H are dead-lettered by this sink (the other sinks
 * of H count and skip them), so a bad record is reported once.
 *
 * @example
 * runSink(createProfileSink({ profiles, embedder, topic: topics.trainingExamples, group: 'sentencify-profiles' }), deps);
 */
export function createProfileSink(o: ProfileSinkOptions): Sink {
  return {
    name: 'profiles',
    group: o.group,
    topics: [o.topic],
    async apply(records: readonly LogRecord[]) {
      const decoded = decodeExamples(records);
      const { rejected } = decoded;
      // The registry check and the read of the profiles are independent round trips: both at
      // once. A profile read for a user who turns out erased is dropped unused; the contexts are
      // embedded only once the check is done (an erased user's text goes to no embedder).
      const candidates = [...new Set(decoded.examples.map(({ h }) => h.user_id))];
      const [{ kept: examples, dropped: erased }, loaded] = await Promise.all([
        dropErased(
          o.registry,
          decoded.examples,
          (x) => x.h.user_id,
          (x) => exampleStartMs(x.h),
        ),
        candidates.length > 0 ? o.profiles.getMany(candidates) : Promise.resolve([]),
      ]);
      if (examples.length === 0) return { rejected, ...(erased > 0 ? { counts: { erased } } : {}) };
      const byText = await embedContexts(
        (t) => o.embedder.embed(t),
        examples.map((x) => x.h),
      );
      const byUser = new Map(candidates.map((u, i) => [u, loaded[i] ?? null]));
      const users = [...new Set(examples.map(({ h }) => h.user_id))];
      const current = new Map(users.map((u) => [u, byUser.get(u) ?? null]));
      let latest: string | null = null;
      const inputs: ProfileInput[] = examples.map(({ h, rec }) => {
        if (latest === null || h.ts > latest) latest = h.ts;
        return {
          example: h,
          embedding: h.context ? (byText.get(h.context.text) ?? null) : null,
          partition: rec.partition,
          offset: rec.offset,
        };
      });
      const changed = foldProfiles(current, inputs);
      if (changed.size > 0) await o.profiles.putMany([...changed.values()]);
      o.onFolded?.(changed.size, latest);
      return {
        rejected,
        counts: {
          examples: examples.length,
          profile_writes: changed.size,
          ...(erased > 0 ? { erased } : {}),
        },
      };
    },
  };
}
