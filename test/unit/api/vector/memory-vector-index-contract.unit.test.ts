import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import { vectorIndexContract } from '../../../helpers/vector-index-contract.ts';

// Exact below 500 vectors (not 5,000) and small lists, so the recall check probes ~8 of ~70 IVF
// lists instead of scanning everything.
vectorIndexContract('memory', async (dim) => ({
  index: createMemoryVectorIndex({ dim, exactBelow: 500, maxListSize: 64 }),
}));
