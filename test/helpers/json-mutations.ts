/**
 * Random breakages of JSON values for the decode-boundary property tests: values on, just inside
 * and just outside schema bounds of every JSON type, and mutations (delete, set, an extra key, a
 * bad `ts`) at any path of a value.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Path = (string | number)[];

/** Every path into a value, the root excluded: the places a mutation can hit. */
export function pathsOf(v: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      pathsOf(x, [...prefix, i], out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      pathsOf(x, [...prefix, k], out);
    }
  }
  return out;
}

export function parentOf(
  root: Json,
  path: Path,
): { parent: Json[] | { [k: string]: Json }; key: string | number } {
  let cur = root as Json[] | { [k: string]: Json };
  for (const k of path.slice(0, -1)) cur = (cur as Record<string | number, Json>)[k] as typeof cur;
  return { parent: cur, key: path[path.length - 1]! };
}

// Values that sit on, just inside and just outside the schema's bounds, of every JSON type.
export const emoji = '😀';
export const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -0,
    1,
    -1,
    0.5,
    1.0000001,
    2,
    3,
    199,
    200,
    201,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    1e308,
    '',
    'x',
    'A',
    'ko',
    'en-US',
    'EN',
    'k',
    'abcd',
    'thesis',
    'customer_service',
    'Thesis',
    '9lives',
    'weak',
    'moderate',
    'strong',
    'extreme',
    'recommend',
    'paraphrase',
    'selection',
    'training_example',
    [],
    {},
    [1],
    ['x'],
    { category: 'email', intensity: 'weak' },
    { style_request: 'shorter' },
    { category: 'email', intensity: 'weak', style_request: 'x' },
    { vec: 1, doc: 1, user: 1, cluster: 1 },
    '2026-11-23T09:15:00Z',
    '2026-11-23T09:15:00.123456Z',
    '2024-02-29T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-11-23T24:00:00Z',
    '2026-11-23T09:15Z',
    '2026-11-23T09:15:00+01:00',
    '2026-11-23 09:15:00Z',
    '2026-11-23',
  ),
  fc.integer({ min: -5, max: 300 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12 }),
  // lengths around 1, 40, 80, 120, 200 and 500 in UTF-16 units and in code points
  fc
    .constantFrom(1, 2, 39, 40, 41, 79, 80, 81, 119, 120, 121, 199, 200, 201, 499, 500, 501)
    .chain((n) =>
      fc.constantFrom<Json>('a'.repeat(n), emoji.repeat(n), `${emoji.repeat(Math.floor(n / 2))}a`),
    ),
  fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('a', 'b', '__proto__', 'constructor', '1'), fc.integer({ min: -1, max: 3 }), {
    maxKeys: 3,
  }),
);

export type Mutation =
  | { kind: 'none' }
  | { kind: 'delete'; at: number }
  | { kind: 'set'; at: number; value: Json }
  | { kind: 'extra'; at: number; key: string; value: Json }
  | { kind: 'ts'; value: Json };

/** Mutations whose new values come from `values`. */
export function mutationOf(values: fc.Arbitrary<Json>): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: values }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('extra' as const),
        at: fc.nat(),
        key: fc.constantFrom('extra', 'style_request', 'category', '__proto__', 'constructor', 'type'),
        value: values,
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ts' as const), value: values }) },
  );
}

export const mutation: fc.Arbitrary<Mutation> = mutationOf(oddValue);

export function mutate(event: Json, m: Mutation): Json {
  const e = structuredClone(event);
  if (m.kind === 'none') return e;
  if (m.kind === 'ts') {
    (e as { [k: string]: Json }).ts = m.value;
    return e;
  }
  const paths = pathsOf(e);
  if (m.kind === 'extra') {
    // onto the root or any object inside
    const objects = [[], ...paths].filter((p) => {
      const v =
        p.length === 0 ? e : (parentOf(e, p).parent as Record<string | number, Json>)[p[p.length - 1]!];
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const p = objects[m.at % objects.length]!;
    const target = (
      p.length === 0 ? e : (parentOf(e, p).parent as Record<string | number, Json>)[p[p.length - 1]!]
    ) as {
      [k: string]: Json;
    };
    // defineProperty: a `__proto__` key as JSON.parse would make it, an own data property
    Object.defineProperty(target, m.key, {
      value: m.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return e;
  }
  const p = paths[m.at % paths.length]!;
  const { parent, key } = parentOf(e, p);
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else {
    (parent as Record<string | number, Json>)[key] = m.value;
  }
  return e;
}
