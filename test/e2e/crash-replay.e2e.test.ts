import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../common/random.ts';
import { syntheticTraffic } from '../fixtures/synthetic-sessions.ts';
import { embeddedWheel, expectProfileClose, TEST_CFG } from '../helpers/embedded-wheel.ts';

const START = Date.parse('2026-01-01T00:00:00Z');

async function uninterrupted(events: Parameters<Awaited<ReturnType<typeof embeddedWheel>>['append']>[0]) {
  const w = await embeddedWheel();
  w.setClock(START);
  w.append(events);
  const p = w.start();
  await w.quiet(20_000, true);
  await p.join.stop();
  await p.profiles.stop();
  return w;
}

describe('crash and replay on the embedded log', () => {
  const traffic = syntheticTraffic({
    sessions: 400,
    users: 25,
    seed: 11,
    startMs: START,
    completeShare: 0.5,
  });

  it('the uninterrupted run covers every pattern', async () => {
    const w = await uninterrupted(traffic.events);
    const hs = [...w.examplesById().values()] as { funnel: string; revision: number; closed_by: string }[];
    expect(new Set(hs.map((h) => h.funnel))).toEqual(new Set(['ABC', 'AB', 'A', 'AC']));
    expect(hs.some((h) => h.revision === 2 && h.closed_by === 'grace')).toBe(true);
    const codes = new Set(w.deadLetters().map((d) => d.code));
    expect(codes.has('beyond_grace')).toBe(true);
    expect(w.profileSnapshot().size).toBeGreaterThan(10);
  });

  const seeds = process.env.CRASH_SEEDS ? Number(process.env.CRASH_SEEDS) : 3;
  // The traffic spans ~2 h of event time: with the default replay margin (2 × 70 min) a restart
  // re-reads nearly all of it, so the runs with a short margin are the ones where replays start
  // after sessions that are cut in two (late selections, stragglers) and must stay silent.
  const cases = Array.from({ length: seeds }, (_, i) => [
    { seed: i + 1, replayMs: undefined as number | undefined },
    { seed: i + 1, replayMs: 75 * 60_000 },
  ]).flat();
  for (const { seed, replayMs } of cases) {
    const margin =
      replayMs === undefined ? 'default replay margin' : `replay margin ${replayMs / 60_000} min`;
    it(`killing the processors at random points (seed ${seed}, ${margin}) changes no H and no profile`, async () => {
      const cfg = { ...TEST_CFG, replayMs };
      const reference = await uninterrupted(traffic.events);
      const refH = reference.examplesById();
      const refG = reference.profileSnapshot();

      const rnd = mulberry32(seed);
      const w = await embeddedWheel(cfg);
      w.setClock(START);
      let appended = 0;
      let kills = 0;
      while (appended < traffic.events.length) {
        const chunk = 1 + Math.floor(rnd() * 120);
        w.append(traffic.events.slice(appended, appended + chunk));
        appended += chunk;
        const p = w.start();
        // Let it run for a random while, then kill -9 both processors mid-stream.
        await new Promise((r) => setTimeout(r, Math.floor(rnd() * 15)));
        p.join.kill();
        p.profiles.kill();
        kills++;
      }
      const p = w.start();
      await w.quiet(20_000, true);
      await p.join.stop();
      await p.profiles.stop();
      expect(kills).toBeGreaterThan(3);

      const gotH = w.examplesById();
      expect([...gotH.keys()].sort()).toEqual([...refH.keys()].sort());
      for (const [id, h] of refH) expect(gotH.get(id), id).toEqual(h);

      const gotG = w.profileSnapshot();
      expect([...gotG.keys()].sort()).toEqual([...refG.keys()].sort());
      for (const [user, g] of refG) expectProfileClose(gotG.get(user)!, g);
      expect(w.errors).toEqual([]);
    });
  }

  it('killing the processors while pipelined sends are in flight changes no H and no profile', async () => {
    const reference = await uninterrupted(traffic.events);
    const refH = reference.examplesById();
    const refG = reference.profileSnapshot();
    const rnd = mulberry32(99);
    // Sends take 0–8 ms, so the join runs ahead of them (up to maxSendsInFlight batches).
    const w = await embeddedWheel(
      { ...TEST_CFG, commitIntervalMs: 0 },
      { sendDelayMs: () => Math.floor(rnd() * 8) },
    );
    w.setClock(START);
    let appended = 0;
    let killsInFlight = 0;
    while (appended < traffic.events.length) {
      const chunk = 1 + Math.floor(rnd() * 120);
      w.append(traffic.events.slice(appended, appended + chunk));
      appended += chunk;
      const p = w.start();
      await new Promise((r) => setTimeout(r, 2 + Math.floor(rnd() * 15)));
      if (w.sendsInFlight() > 0) killsInFlight++;
      p.join.kill();
      p.profiles.kill();
    }
    const p = w.start();
    await w.quiet(30_000, true);
    await p.topology.stop();
    expect(killsInFlight).toBeGreaterThan(2);
    const gotH = w.examplesById();
    expect([...gotH.keys()].sort()).toEqual([...refH.keys()].sort());
    for (const [id, h] of refH) expect(gotH.get(id), id).toEqual(h);
    const gotG = w.profileSnapshot();
    expect([...gotG.keys()].sort()).toEqual([...refG.keys()].sort());
    for (const [user, g] of refG) expectProfileClose(gotG.get(user)!, g);
    expect(w.errors).toEqual([]);
  });
});
