/**
 * profile-summary — self time per function (and per file) of a V8 .cpuprofile, top N:
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [top=40]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}
const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 40);
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i]!;
  self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const url = n.callFrame.url.replace(/^.*\/work\/main\//, '');
  const key = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  const f = url || n.callFrame.functionName;
  files.set(f, (files.get(f) ?? 0) + t);
}
const show = (m: Map<string, number>, n: number) => {
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(
      `${((t / total) * 100).toFixed(1).padStart(5)} %  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
  }
};
console.log(`total ${(total / 1000).toFixed(0)} ms`);
show(fn, top);
// Hot lines (1-based, of the file V8 ran: profile an esbuild bundle to get readable ones).
const lines = new Map<string, number>();
for (const n of prof.nodes) {
  for (const p of n.positionTicks ?? []) {
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\//, '')}:${p.line}`;
    lines.set(key, (lines.get(key) ?? 0) + p.ticks);
  }
}
const ticks = [...lines.values()].reduce((a, b) => a + b, 0);
console.log('--- hot lines (share of line ticks)');
for (const [k, t] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((t / ticks) * 100).toFixed(1).padStart(5)} %  ${k}`);
}
console.log('--- by file');
show(files, 15);
