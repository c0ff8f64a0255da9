import { createMemoryDocStore } from '../../../../streams/stores/doc-store.ts';
import { docStoreContract } from '../../../helpers/doc-store-contract.ts';

docStoreContract('in-memory', async () => ({ docs: createMemoryDocStore() }));
