// Worker threads do not inherit a TypeScript loader in every runner (vitest, plain node), so the
// worker registers tsx itself before loading the TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import('./kmeans-worker.ts');
