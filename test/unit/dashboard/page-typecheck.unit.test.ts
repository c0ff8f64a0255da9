import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The page is browser code (*.mts, DOM types): the root tsconfig leaves it out so DOM globals do
// not leak into Node code, and this runs the page's own tsconfig instead.
describe('the dashboard page', () => {
  it('typechecks against the DOM and the JSON types of /api/dashboard', () => {
    const run = () =>
      execFileSync(
        process.execPath,
        ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'dashboard/page/tsconfig.json'],
        {
          encoding: 'utf8',
          stdio: 'pipe',
        },
      );
    expect(run).not.toThrow();
  }, 120_000);
});
