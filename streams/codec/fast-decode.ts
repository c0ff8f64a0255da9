/**
 * A fast path for zod validation, compiled from the zod schema itself (zod stays the single source
 * of truth): for an input it can vouch for, it returns exactly what `schema.parse` would (same
 * values, defaults filled in, unknown keys stripped, same key order); for anything else it returns
 * `BAIL` and the caller asks zod, which then also produces the reason. So it may only ever say
 * "valid" where zod does, never the other way round: every check it knows is the same test zod
 * runs, anything it is unsure of (an unusual string length, an earlier union option that might
 * match, a record key like `__proto__`) bails, and any schema construct it does not know makes
 * `compileFastParser` throw instead of guessing. test/unit/streams/codec/fast-decode.unit.test.ts
 * compares it with zod on random valid and broken events.
 *
 * Why: the A/B/C decode boundary (JSON + zod) was slower than the join behind it; zod's general
 * machinery (payload objects, issue arrays, check dispatch) costs more than the checks themselves.
 *
 * Reads zod 4 internals (`_zod.def`, `_zod.values`, `_zod.optin`); a zod upgrade that changes them
 * makes the compile throw (the codec then uses zod alone) or the property test fail.
 */
import type { z } from 'zod';
import { Generator } from './fast-decode-codegen.ts';

/** "Ask zod": the fast path cannot vouch for this input (it may or may not be valid). */
export const BAIL: unique symbol = Symbol('fast-decode.bail');
export type Bail = typeof BAIL;

/** Validates and builds zod's output, or BAIL. */
export type FastParser = (input: unknown) => unknown;

/** A schema construct the compiler does not handle; the caller falls back to zod alone. */
export class UnsupportedSchemaError extends Error {
  readonly code = 'unsupported_schema';
  readonly retriable = false;
  constructor(what: string) {
    super(`fast-decode: unsupported zod construct: ${what}`);
    this.name = 'UnsupportedSchemaError';
  }
}

// The slice of zod 4's internal representation the compiler reads.
interface ZodInternals {
  readonly def: ZodDef;
  readonly values?: ReadonlySet<unknown>;
  readonly optin?: 'optional' | 'defaulted';
  readonly optout?: 'optional';
  readonly propValues?: Record<string, ReadonlySet<unknown>>;
  readonly check?: unknown;
}
export interface ZodLike {
  readonly _zod: ZodInternals;
  safeParse(x: unknown): { success: boolean };
}
interface ZodDef {
  readonly type: string;
  readonly checks?: readonly ZodLike[];
  readonly coerce?: boolean;
  // string formats and checks
  readonly check?: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  // containers
  readonly element?: ZodLike;
  readonly shape?: Record<string, ZodLike>;
  readonly catchall?: ZodLike;
  readonly innerType?: ZodLike;
  readonly defaultValue?: unknown;
  readonly options?: readonly ZodLike[];
  readonly discriminator?: string;
  readonly unionFallback?: boolean;
  readonly keyType?: ZodLike;
  readonly valueType?: ZodLike;
  readonly mode?: string;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

const hasOwn = (o: object, k: string) => Object.hasOwn(o, k);

/** zod's own count (util.codePointLength): surrogate pairs count once. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}

/**
 * The length checks of zod 4 on strings count code points when the UTF-16 length alone does not
 * decide; the fast path accepts only where both counts agree with zod's verdict.
 */
function lengthOk(x: string | readonly unknown[], min: number, max: number): boolean {
  const n = x.length;
  if (n > max || n < min) return false; // zod may still accept a long string by code points: ask it
  if (typeof x === 'string' && n < min * 2) return codePointLength(x) >= min;
  return true;
}

interface Lengths {
  min: number;
  max: number;
  patterns: RegExp[];
}

export function collectStringChecks(schema: ZodLike, where: string): Lengths {
  const def = schema._zod.def;
  const out: Lengths = { min: 0, max: Number.POSITIVE_INFINITY, patterns: [] };
  const checks: ZodLike[] = [...(def.checks ?? [])];
  if (def.check !== undefined) checks.unshift(schema); // a format (z.iso.datetime) is its own check
  for (const c of checks) {
    const cd = c._zod.def;
    switch (cd.check) {
      case 'min_length':
        out.min = Math.max(out.min, cd.minimum!);
        break;
      case 'max_length':
        out.max = Math.min(out.max, cd.maximum!);
        break;
      case 'string_format':
        // Pattern-only formats: zod's check is `pattern.test(value)` and nothing else.
        if ((cd.format !== 'regex' && cd.format !== 'datetime') || !(cd.pattern instanceof RegExp)) {
          throw new UnsupportedSchemaError(`${where}: string format ${cd.format}`);
        }
        out.patterns.push(cd.pattern);
        break;
      default:
        throw new UnsupportedSchemaError(`${where}: string check ${cd.check}`);
    }
  }
  return out;
}

export function noChecks(schema: ZodLike, where: string): void {
  if (schema._zod.def.checks?.length) {
    throw new UnsupportedSchemaError(`${where}: checks on a ${schema._zod.def.type}`);
  }
}

function compileString(schema: ZodLike, where: string): FastParser {
  if (schema._zod.def.coerce) throw new UnsupportedSchemaError(`${where}: coerced string`);
  const { min, max, patterns } = collectStringChecks(schema, where);
  return (x) => {
    if (typeof x !== 'string' || !lengthOk(x, min, max)) return BAIL;
    for (const p of patterns) {
      p.lastIndex = 0;
      if (!p.test(x)) return BAIL;
    }
    return x;
  };
}

interface NumberBounds {
  lo: number;
  loIncl: boolean;
  hi: number;
  hiIncl: boolean;
  int: boolean;
}

export function numberBounds(schema: ZodLike, where: string): NumberBounds {
  const def = schema._zod.def;
  if (def.coerce) throw new UnsupportedSchemaError(`${where}: coerced number`);
  const b: NumberBounds = {
    lo: Number.NEGATIVE_INFINITY,
    loIncl: true,
    hi: Number.POSITIVE_INFINITY,
    hiIncl: true,
    int: false,
  };
  const checks: ZodLike[] = [...(def.checks ?? [])];
  if (def.check !== undefined) checks.unshift(schema); // z.int(): a number format as the schema
  for (const c of checks) {
    const cd = c._zod.def;
    if (cd.check === 'greater_than' && typeof cd.value === 'number') {
      if (cd.value > b.lo || (cd.value === b.lo && !cd.inclusive)) {
        b.lo = cd.value;
        b.loIncl = cd.inclusive === true;
      }
    } else if (cd.check === 'less_than' && typeof cd.value === 'number') {
      if (cd.value < b.hi || (cd.value === b.hi && !cd.inclusive)) {
        b.hi = cd.value;
        b.hiIncl = cd.inclusive === true;
      }
    } else if (cd.check === 'number_format' && cd.format === 'safeint') {
      b.int = true;
    } else {
      throw new UnsupportedSchemaError(`${where}: number check ${cd.check}/${cd.format}`);
    }
  }
  return b;
}

function compileNumber(schema: ZodLike, where: string): FastParser {
  const { lo, loIncl, hi, hiIncl, int } = numberBounds(schema, where);
  return (x) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) return BAIL;
    if (int && !Number.isSafeInteger(x)) return BAIL;
    if (loIncl ? !(x >= lo) : !(x > lo)) return BAIL;
    if (hiIncl ? !(x <= hi) : !(x < hi)) return BAIL;
    return x;
  };
}

export function compileValues(schema: ZodLike, where: string): FastParser {
  noChecks(schema, where);
  const values = schema._zod.values;
  if (!values) throw new UnsupportedSchemaError(`${where}: ${schema._zod.def.type} without values`);
  for (const v of values) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new UnsupportedSchemaError(`${where}: non-JSON literal`);
    }
  }
  return (x) => (values.has(x) ? x : BAIL);
}

type FieldKind = 0 | 1 | 2; // required, optional, defaulted

function compileObject(schema: ZodLike, where: string): FastParser {
  const def = schema._zod.def;
  noChecks(schema, where);
  let strict = false;
  if (def.catchall !== undefined) {
    if (def.catchall._zod.def.type !== 'never') {
      throw new UnsupportedSchemaError(`${where}: object catchall ${def.catchall._zod.def.type}`);
    }
    strict = true;
  }
  const shape = def.shape ?? {};
  const keys = Object.keys(shape);
  if (Object.getOwnPropertySymbols(shape).length > 0)
    throw new UnsupportedSchemaError(`${where}: symbol keys`);
  const fields: { key: string; kind: FieldKind; parse: FastParser }[] = keys.map((key) => {
    if (key === '__proto__') throw new UnsupportedSchemaError(`${where}: a __proto__ key`);
    const field = shape[key]!;
    const { optin, optout } = field._zod;
    let kind: FieldKind;
    if (optin === undefined && optout === undefined) kind = 0;
    else if (optin === 'optional' && optout === 'optional') kind = 1;
    else if (optin === 'defaulted' && optout === undefined) kind = 2;
    else throw new UnsupportedSchemaError(`${where}.${key}: optin ${optin} / optout ${optout}`);
    return { key, kind, parse: compile(field, `${where}.${key}`) };
  });
  const keySet = new Set(keys);
  return (x) => {
    if (!isObject(x)) return BAIL;
    if (strict) {
      for (const k in x) if (!keySet.has(k)) return BAIL;
    }
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      // zod tests presence with `in`; JSON values have no inherited keys of these names
      const present = f.key in x;
      if (f.kind === 0) {
        if (!present) return BAIL;
      } else if (f.kind === 1 && !present) continue;
      const v = f.parse(x[f.key]);
      if (v === BAIL) return BAIL;
      out[f.key] = v;
    }
    return out;
  };
}

function compileUnion(schema: ZodLike, where: string): FastParser {
  const def = schema._zod.def;
  noChecks(schema, where);
  const options = def.options ?? [];
  if (def.discriminator !== undefined) {
    if (def.unionFallback) throw new UnsupportedSchemaError(`${where}: discriminated union with fallback`);
    const disc = def.discriminator;
    const byValue = new Map<unknown, FastParser>();
    options.forEach((o, i) => {
      const values = o._zod.propValues?.[disc];
      if (!values || values.size === 0) throw new UnsupportedSchemaError(`${where}[${i}]: no discriminator`);
      const parse = compile(o, `${where}[${i}]`);
      for (const v of values) {
        if (v === undefined || byValue.has(v)) {
          throw new UnsupportedSchemaError(`${where}: ambiguous discriminator value ${String(v)}`);
        }
        byValue.set(v, parse);
      }
    });
    return (x) => {
      if (!isObject(x)) return BAIL;
      const parse = byValue.get(x[disc]);
      return parse ? parse(x) : BAIL;
    };
  }
  if (def.inclusive === false) throw new UnsupportedSchemaError(`${where}: exclusive union`);
  const parsers = options.map((o, i) => compile(o, `${where}|${i}`));
  if (parsers.length === 1) return parsers[0]!;
  return (x) => {
    for (let i = 0; i < parsers.length; i++) {
      const v = parsers[i]!(x);
      if (v === BAIL) continue;
      // zod takes the first option that passes: an earlier one the fast path passed over because
      // it could not vouch for it must really fail, or zod's answer would be that option's.
      for (let j = 0; j < i; j++) if (options[j]!.safeParse(x).success) return BAIL;
      return v;
    }
    return BAIL;
  };
}

function compileRecord(schema: ZodLike, where: string): FastParser {
  const def = schema._zod.def;
  noChecks(schema, where);
  const kt = def.keyType!;
  if (kt._zod.def.type !== 'string' || kt._zod.def.checks?.length || kt._zod.def.coerce) {
    throw new UnsupportedSchemaError(`${where}: record keys other than a plain z.string()`);
  }
  if (def.mode !== undefined && def.mode !== 'strict') {
    throw new UnsupportedSchemaError(`${where}: record mode ${def.mode}`);
  }
  const value = compile(def.valueType!, `${where}{}`);
  return (x) => {
    // zod wants a plain object and skips __proto__; an own `constructor` key changes its plainness test
    if (!isObject(x) || Object.getPrototypeOf(x) !== Object.prototype) return BAIL;
    if (hasOwn(x, '__proto__') || hasOwn(x, 'constructor')) return BAIL;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) {
      const v = value(x[k]);
      if (v === BAIL) return BAIL;
      out[k] = v;
    }
    return out;
  };
}

export function compile(schema: ZodLike, where: string): FastParser {
  const def = schema._zod.def;
  switch (def.type) {
    case 'string':
      return compileString(schema, where);
    case 'number':
      return compileNumber(schema, where);
    case 'boolean':
      noChecks(schema, where);
      return (x) => (typeof x === 'boolean' ? x : BAIL);
    case 'null':
      noChecks(schema, where);
      return (x) => (x === null ? x : BAIL);
    case 'literal':
    case 'enum':
      return compileValues(schema, where);
    case 'array': {
      const lengths = { min: 0, max: Number.POSITIVE_INFINITY };
      for (const c of def.checks ?? []) {
        const cd = c._zod.def;
        if (cd.check === 'min_length') lengths.min = Math.max(lengths.min, cd.minimum!);
        else if (cd.check === 'max_length') lengths.max = Math.min(lengths.max, cd.maximum!);
        else throw new UnsupportedSchemaError(`${where}: array check ${cd.check}`);
      }
      const el = compile(def.element!, `${where}[]`);
      const { min, max } = lengths;
      return (x) => {
        if (!Array.isArray(x) || !lengthOk(x, min, max)) return BAIL;
        const out = new Array(x.length);
        for (let i = 0; i < x.length; i++) {
          const v = el(x[i]);
          if (v === BAIL) return BAIL;
          out[i] = v;
        }
        return out;
      };
    }
    case 'object':
      return compileObject(schema, where);
    case 'union':
      return compileUnion(schema, where);
    case 'record':
      return compileRecord(schema, where);
    case 'nullable': {
      noChecks(schema, where);
      const inner = compile(def.innerType!, where);
      return (x) => (x === null ? null : inner(x));
    }
    case 'optional': {
      noChecks(schema, where);
      if (def.innerType!._zod.optin === 'defaulted') {
        throw new UnsupportedSchemaError(`${where}: optional around a default`);
      }
      const inner = compile(def.innerType!, where);
      return (x) => (x === undefined ? undefined : inner(x));
    }
    case 'default': {
      noChecks(schema, where);
      const inner = compile(def.innerType!, where);
      // `def.defaultValue` is zod's getter: a fresh copy each time, as zod hands out
      return (x) => {
        if (x === undefined) return def.defaultValue;
        const v = inner(x);
        return v === undefined ? def.defaultValue : v;
      };
    }
    default:
      throw new UnsupportedSchemaError(`${where}: ${def.type}`);
  }
}

/** Whether this runtime lets the compiler generate code (a strict CSP may forbid it). */
function canGenerate(): boolean {
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false;
  }
}

/**
 * Compiles `schema` into a fast parser: `fast(x)` is `schema.parse(x)` when it can vouch for
 * `x`, else `BAIL` (then call zod). Throws UnsupportedSchemaError for constructs it does not know
 * (refinements, transforms, pipes, coercion, non-pattern string formats, …). `codegen` (default:
 * when the runtime allows it) generates the parser's source; false builds it from closures.
 *
 * @example
 * const fast = compileFastParser(sessionEventSchema);
 * const v = fast(JSON.parse(text));
 * const event = v !== BAIL ? v : sessionEventSchema.parse(JSON.parse(text));
 */
export function compileFastParser(schema: z.ZodType, opts: { readonly codegen?: boolean } = {}): FastParser {
  const s = schema as unknown as ZodLike;
  if (opts.codegen ?? canGenerate()) return new Generator().fn(s, '(root)');
  return compile(s, '(root)');
}
