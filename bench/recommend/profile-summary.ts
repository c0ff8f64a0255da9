import { readFileSync } from 'node:fs';
import { round } from '../lib/common.ts';

/** Self time per function of a V8 .cpuprofile, biggest first: what bounds the server. */
export function profileSummary(file: string, top = 25): { fn: string; self_ms: number; share: number }[] {
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Node[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  prof.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^.*\/work\/main\//, '').replace(/^file:\/\//, '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url}`;
    self.set(key, (self.get(key) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, self_ms: round(us / 1000), share: round(us / total, 3) }));
}
