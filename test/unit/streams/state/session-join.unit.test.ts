import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../../schemas/index.ts';
import { SessionJoin } from '../../../../streams/state/session-join.ts';
import { syntheticTraffic } from '../../../fixtures/synthetic-sessions.ts';
import { INPUT_TOPICS, MIN, mkA, mkB, mkC, recorder, T0 } from '../../../helpers/events.ts';

/** A generated session: which of A/B/C exist, their minutes after the start, and replays. */
const sessionArb = fc.record({
  user: fc.constantFrom('u1', 'u2', 'u3'),
  start: fc.integer({ min: 0, max: 240 }),
  hasA: fc.boolean(),
  hasB: fc.boolean(),
  hasC: fc.boolean(),
  bAt: fc.integer({ min: -3, max: 45 }),
  cAt: fc.integer({ min: -3, max: 70 }),
  extraB: fc.boolean(),
  dupA: fc.boolean(),
  conflictingA: fc.boolean(),
  rejected: fc.boolean(),
});

const scenarioArb = fc.record({
  sessions: fc.array(sessionArb, { minLength: 1, maxLength: 25 }),
  /** Arrival jitter (minutes) per event, so topics are only roughly in time order. */
  jitter: fc.array(fc.integer({ min: -2, max: 8 }), { minLength: 200, maxLength: 200 }),
  ticks: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 5 }),
  partitions: fc.integer({ min: 1, max: 3 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function eventsOf(sc: Scenario): { arrival: number; event: SessionEvent; partition: number }[] {
  const out: { arrival: number; event: SessionEvent; partition: number }[] = [];
  let j = 0;
  const jit = () => sc.jitter[j++ % sc.jitter.length]!;
  sc.sessions.forEach((s, i) => {
    const id = `s${i}`;
    const partition = i % sc.partitions;
    const add = (minutes: number, event: SessionEvent) =>
      out.push({ arrival: minutes + jit(), event, partition });
    const t = s.start;
    if (s.hasA) add(t, mkA(id, s.user, t));
    if (s.dupA && s.hasA) add(t + 1, mkA(id, s.user, t));
    if (s.conflictingA) add(t + 2, mkA(id, s.user, t + 2, { event_id: `a-${id}-other` }));
    if (s.hasB) add(t + s.bAt, mkB(id, s.user, t + s.bAt));
    if (s.extraB) add(t + s.bAt + 1, mkB(id, s.user, t + s.bAt + 1, { event_id: `b-${id}-2` }));
    if (s.hasC) add(t + s.cAt, mkC(id, s.user, t + s.cAt, { chosen_index: s.rejected ? null : 1 }));
  });
  return out.sort((x, y) => x.arrival - y.arrival);
}

describe('joinBySession properties', () => {
  it('every distinct input event ends up in exactly one H revision chain or in the dead-letter output', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const join = new SessionJoin({ inputTopics: INPUT_TOPICS, windowMs: 30 * MIN, graceMs: 10 * MIN });
        const recs = new Map<number, ReturnType<typeof recorder>>();
        const ticks = [...sc.ticks].sort((a, b) => a - b);
        const input = new Set<string>();
        for (const { arrival, event, partition } of eventsOf(sc)) {
          while (ticks.length > 0 && ticks[0]! <= arrival) {
            const t = ticks.shift()!;
            for (let p = 0; p < sc.partitions; p++) join.tick(p, T0 + t * MIN);
          }
          if (!recs.has(partition)) recs.set(partition, recorder(partition));
          join.push(recs.get(partition)!(event));
          input.add(event.event_id);
        }
        join.flushAll();
        const { examples, deadLetters } = join.drain();

        const inChain = new Map<string, string>();
        const revisions = new Map<string, number[]>();
        for (const h of examples) {
          expect(h.event_id).toBe(`h:${h.recommend_session_id}:${h.revision}`);
          revisions.set(h.recommend_session_id, [
            ...(revisions.get(h.recommend_session_id) ?? []),
            h.revision,
          ]);
          for (const src of h.source_events) {
            const owner = inChain.get(src.event_id);
            expect(owner === undefined || owner === h.recommend_session_id).toBe(true);
            inChain.set(src.event_id, h.recommend_session_id);
          }
        }
        for (const revs of revisions.values()) expect(revs).toEqual(revs.map((_, i) => i + 1));
        const dead = new Set(deadLetters.map((d) => d.event_id!));
        for (const id of input) {
          // none lost, none in both places
          expect(inChain.has(id) !== dead.has(id), `event ${id}`).toBe(true);
        }
        // nothing appears that was not an input
        for (const id of [...inChain.keys(), ...dead]) expect(input.has(id)).toBe(true);
        expect(join.heldSessions).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('holds no session after time has passed every window, grace and tombstone', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const join = new SessionJoin({ inputTopics: INPUT_TOPICS, windowMs: 30 * MIN, graceMs: 10 * MIN });
        const rec = recorder(0);
        for (const { event } of eventsOf(sc)) join.push(rec(event));
        join.tick(0, T0 + 10_000 * MIN);
        join.checkpoints(true);
        expect(join.heldSessions).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('commits the end of every topic once all sessions are released', () => {
    const join = new SessionJoin({ inputTopics: INPUT_TOPICS, windowMs: 30 * MIN, graceMs: 10 * MIN });
    const rec = recorder(0);
    join.push(rec(mkA('s1', 'u1', 0)));
    join.push(rec(mkB('s1', 'u1', 1)));
    expect(join.checkpoints().map((c) => [c.topic, c.offset])).toEqual([
      [INPUT_TOPICS[0], 0],
      [INPUT_TOPICS[1], 0],
    ]);
    join.push(rec(mkC('s1', 'u1', 2)));
    join.tick(0, T0 + 1000 * MIN);
    expect(join.checkpoints().map((c) => [c.topic, c.offset])).toEqual([
      [INPUT_TOPICS[0], 1],
      [INPUT_TOPICS[1], 1],
      [INPUT_TOPICS[2], 1],
    ]);
  });
});

describe('SessionJoin commit positions under steady traffic', () => {
  it('move on, and the state stays bounded, while late selections and stragglers keep arriving', () => {
    const topics = { recommend: 'sentencify.a', paraphrase: 'sentencify.b', selection: 'sentencify.c' };
    const join = new SessionJoin({
      inputTopics: Object.values(topics),
      windowMs: 30 * MIN,
      graceMs: 10 * MIN,
    });
    // 20k sessions, one per second of event time (~5.5 h), the default mix: 60 % complete, the
    // rest spread over the edge cases, late selections and beyond-grace stragglers among them.
    const { events } = syntheticTraffic({
      sessions: 20_000,
      users: 500,
      seed: 5,
      startMs: T0,
      spacingMs: 1000,
    });
    const offsets = new Map<string, number>();
    let held = 0;
    const commits: number[] = [];
    events.forEach((event, i) => {
      const topic = topics[event.type];
      const offset = offsets.get(topic) ?? 0;
      offsets.set(topic, offset + 1);
      join.push({ topic, partition: 0, offset, event });
      join.drain();
      if (i % 500 === 0) {
        const cp = join.checkpoints().find((c) => c.topic === topics.recommend);
        if (cp) commits.push(cp.offset);
        held = Math.max(held, join.heldSessions);
      }
    });
    // Sessions live for window + grace + tombstone (70 min): ~4,200 at one per second.
    expect(held).toBeLessThan(4_500);
    // The commit trails by the live sessions plus the replay margin (2 × 70 min), not from the start.
    const last = commits[commits.length - 1]!;
    expect(last).toBeGreaterThan(offsets.get(topics.recommend)! - 4.5 * 3600);
    expect(last).toBeGreaterThan(10_000);
    for (let i = 1; i < commits.length; i++) expect(commits[i]!).toBeGreaterThanOrEqual(commits[i - 1]!);
  });
});
