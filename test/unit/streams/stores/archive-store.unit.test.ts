import { describe, expect, it } from 'vitest';
import {
  corporateRowId,
  createMemoryMongoPorts,
  documentProblem,
  MAX_BSON_BYTES,
} from '../../../../streams/stores/archive-store.ts';
import { parseWriteConcern } from '../../../../streams/stores/mongo-stores.ts';
import { corporateRow, mongoContract } from '../../../helpers/mongo-contract.ts';

mongoContract('in-memory', async () => createMemoryMongoPorts());

describe('documentProblem', () => {
  it('accepts ordinary documents, dates and arrays of objects', () => {
    expect(documentProblem({ _id: 'x', ts: new Date(), a: [{ b: 1 }, 'c'], n: null })).toBeNull();
  });

  it('names the first key MongoDB cannot store, however deep', () => {
    expect(documentProblem({ a: [{ ok: 1 }, { $inc: 1 }] })).toMatch(/"a\[1\]\.\$inc" starts with "\$"/);
    expect(documentProblem({ a: { 'b\u0000c': 1 } })).toMatch(/"a\.b\\0c" contains a NUL byte/);
    expect(documentProblem({ 'a.b': 1 })).toMatch(/"a\.b" contains "\."/);
  });

  it('measures BSON, not JSON: just under the limit passes, just over fails', () => {
    // {_id: string} costs 4 (size) + 1 (type) + 4 ("_id\0") + 4 (length) + 1 (NUL) + 1 (end) = 15 bytes.
    const fits = { _id: 'x'.repeat(MAX_BSON_BYTES - 15) };
    expect(documentProblem(fits)).toBeNull();
    expect(documentProblem({ _id: `${fits._id}y` })).toMatch(/16777217 bytes of BSON/);
  });
});

describe('parseWriteConcern', () => {
  it('defaults to majority and reads numbers, tags and the journal flag', () => {
    expect(parseWriteConcern(undefined)).toEqual({ w: 'majority' });
    expect(parseWriteConcern('  ')).toEqual({ w: 'majority' });
    expect(parseWriteConcern('1')).toEqual({ w: 1 });
    expect(parseWriteConcern('majority,j')).toEqual({ w: 'majority', journal: true });
    expect(parseWriteConcern('dc-east')).toEqual({ w: 'dc-east' });
  });
});

describe('corporateRowId', () => {
  it('is the same for the same row, whatever the key order or spelling of the instant', () => {
    const r = corporateRow(1);
    const shuffled = Object.fromEntries(Object.entries(r).reverse()) as typeof r;
    expect(corporateRowId(shuffled)).toBe(corporateRowId(r));
    expect(corporateRowId({ ...r, ts: r.ts.replace('Z', '.000Z') })).toBe(corporateRowId(r));
    expect(corporateRowId({ ...r, accepted: !r.accepted })).not.toBe(corporateRowId(r));
  });
});
