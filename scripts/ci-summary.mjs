#!/usr/bin/env node
// The closing line of a CI run: every runner's counts added up into one plain
// "N passed, N failed, N skipped" line. Each runner prints its own summary in its own
// shape (vitest's table, schemathesis' pytest-like banner, which reads "2 warnings in 21s"
// when a run has warnings but no failures); one line in one shape says what the run did.
//
//   node scripts/ci-summary.mjs --vitest a.json [--vitest b.json] [--schemathesis s.log]
//
// Exits 1 if a report is missing or unreadable, if anything failed, or if nothing ran.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
const parts = [];

/** @param {string} message */
function fail(message) {
  console.error(`ci-summary: ${message}`);
  process.exit(1);
}

for (let i = 0; i < args.length; i += 2) {
  const kind = args[i];
  const file = args[i + 1];
  if (!file) fail(`${kind} needs a file`);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read ${file}: ${error.message}`);
  }
  if (kind === '--vitest') {
    // vitest's json reporter (--reporter=json --outputFile.json=FILE).
    const report = JSON.parse(text);
    const passed = report.numPassedTests;
    const failed = report.numFailedTests + (report.numFailedTestSuites ?? 0);
    const skipped = report.numPendingTests + report.numTodoTests;
    if (![passed, failed, skipped].every(Number.isInteger)) fail(`${file} is not a vitest json report`);
    parts.push(`${file}: ${passed} tests passed / ${failed} failing / ${skipped} skipped`);
    totals.passed += passed;
    totals.failed += failed;
    totals.skipped += skipped;
  } else if (kind === '--schemathesis') {
    // schemathesis' summary: "Test cases:\n  1079 generated, 1079 passed, 12 skipped"
    // (", N failed" appears when some failed).
    const line = text.split('\n').find((l) => /^\s*\d+ generated\b/.test(l));
    if (!line) fail(`${file} has no schemathesis "Test cases" line`);
    const count = (word) => Number(line.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
    const [passed, failed, skipped] = [count('passed'), count('failed') + count('errored'), count('skipped')];
    parts.push(`${file}: ${passed} cases passed / ${failed} failing / ${skipped} skipped`);
    totals.passed += passed;
    totals.failed += failed;
    totals.skipped += skipped;
  } else {
    fail(`unknown option ${kind}`);
  }
}

for (const part of parts) console.log(`  ${part}`);
console.log(`ci: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
if (totals.failed > 0) process.exit(1);
if (totals.passed === 0) fail('no test ran');
