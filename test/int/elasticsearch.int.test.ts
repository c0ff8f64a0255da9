import { randomUUID } from 'node:crypto';
import { describe, inject } from 'vitest';
import { createEsClient, createEsGoldenStore } from '../../streams/stores/es-golden-store.ts';
import { goldenContract } from '../helpers/golden-contract.ts';
import { storeUrl } from './stores.ts';

const url = storeUrl(inject('services'), 'ES_URL');
const testPrefix = () => `sentencify-golden-it-${randomUUID().slice(0, 8)}-`;

describe.skipIf(!url)('Elasticsearch golden indices', () => {
  goldenContract('Elasticsearch', async () =>
    createEsGoldenStore(createEsClient({ node: url! }), { prefix: testPrefix() }),
  );
});
