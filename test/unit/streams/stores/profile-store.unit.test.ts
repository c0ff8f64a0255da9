import {
  createMemoryClusterStore,
  createMemoryProfileStore,
} from '../../../../streams/stores/profile-store.ts';
import { storeContract } from '../../../helpers/store-contract.ts';

storeContract('in-memory', async () => ({
  profiles: createMemoryProfileStore(),
  clusters: createMemoryClusterStore(),
}));
