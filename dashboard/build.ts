/**
 * Builds the dashboard page: dashboard/page/main.mts (and uPlot, from node_modules) bundled by
 * esbuild into dist/dashboard/ (git-ignored), with index.html and the styles next to it. No CDN:
 * everything the browser loads comes from this server. `npm run dashboard:build` runs it; the
 * `/dashboard` route runs it on the first request when the output is missing or older than the
 * sources, so `npm start` and `npm run api` on a fresh clone serve a built page.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const PAGE_SOURCE_DIR = join(ROOT, 'dashboard', 'page');
export const DEFAULT_OUT_DIR = join(ROOT, 'dist', 'dashboard');
/** The files the route serves, and their content types. */
export const ASSETS: Readonly<Record<string, string>> = Object.freeze({
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
});

function newestSourceMs(): number {
  let newest = 0;
  for (const f of readdirSync(PAGE_SOURCE_DIR))
    newest = Math.max(newest, statSync(join(PAGE_SOURCE_DIR, f)).mtimeMs);
  return newest;
}

/** Whether `outDir` holds every asset, newer than every page source. */
export function isBuilt(outDir = DEFAULT_OUT_DIR): boolean {
  const files = Object.keys(ASSETS).map((f) => join(outDir, f));
  if (!files.every((f) => existsSync(f))) return false;
  const oldest = Math.min(...files.map((f) => statSync(f).mtimeMs));
  return oldest >= newestSourceMs();
}

/**
 * Bundles the page into `outDir` (esbuild is a devDependency, loaded only when building).
 *
 * @example
 * await buildDashboard(); // dist/dashboard/{index.html,app.js,app.css}
 */
export async function buildDashboard(outDir = DEFAULT_OUT_DIR): Promise<{ outDir: string; bytes: number }> {
  const esbuild = await import('esbuild');
  // Built aside and renamed in file by file: another process (a parallel test worker) serving the
  // page meanwhile reads either the old file or the new one, never half of one.
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const result = await esbuild.build({
      entryPoints: { app: join(PAGE_SOURCE_DIR, 'main.mts') },
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['es2022'],
      outdir: tmp,
      // uPlot's stylesheet is imported by the page and lands in app.css.
      loader: { '.css': 'css' },
      logLevel: 'silent',
      metafile: true,
    });
    copyFileSync(join(PAGE_SOURCE_DIR, 'index.html'), join(tmp, 'index.html'));
    mkdirSync(outDir, { recursive: true });
    for (const f of Object.keys(ASSETS)) renameSync(join(tmp, f), join(outDir, f));
    const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
    return { outDir, bytes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let building: Promise<unknown> | null = null;

/** Builds once per process when the output is missing or stale; concurrent callers share the build. */
export function ensureDashboardBuilt(outDir = DEFAULT_OUT_DIR): Promise<unknown> {
  if (isBuilt(outDir)) return Promise.resolve();
  building ??= buildDashboard(outDir).finally(() => {
    building = null;
  });
  return building;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildDashboard();
  console.log(`dashboard built into ${r.outDir} (${(r.bytes / 1024).toFixed(0)} KiB)`);
}
