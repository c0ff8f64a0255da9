import {
  BAIL,
  codePointLength,
  collectStringChecks,
  compileValues,
  type FastParser,
  noChecks,
  numberBounds,
  UnsupportedSchemaError,
  type ZodLike,
} from './fast-decode.ts';

/**
 * The same parser as `compile`, generated as the source of one function per schema (and per union
 * option), so every property read is a literal one V8 can cache for its shape. Same checks, same
 * bails, same output; the closures above are what it falls back to where code generation is not
 * allowed (a strict CSP).
 */
export class Generator {
  private n = 0;
  /** Constants the generated code reads: regexes, sets, schemas, sub-parsers. */
  readonly consts: unknown[] = [];

  private id(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  private konst(v: unknown): string {
    this.consts.push(v);
    return `K[${this.consts.length - 1}]`;
  }

  /** A whole function: `(x) => output | BAIL`. */
  fn(schema: ZodLike, where: string): FastParser {
    const body = `let out;\n${this.gen(schema, 'x', 'out', where)}\nreturn out;`;
    const make = new Function('K', 'B', 'cpl', `return function fast(x) {\n${body}\n};`);
    return make(this.consts, BAIL, codePointLength) as FastParser;
  }

  /** Statements that validate the value in variable `v` and set variable `out`, or return B. */
  private gen(schema: ZodLike, v: string, out: string, where: string): string {
    const def = schema._zod.def;
    switch (def.type) {
      case 'string': {
        if (def.coerce) throw new UnsupportedSchemaError(`${where}: coerced string`);
        const { min, max, patterns } = collectStringChecks(schema, where);
        let c = `if (typeof ${v} !== 'string') return B;\n`;
        if (Number.isFinite(max)) c += `if (${v}.length > ${max}) return B;\n`;
        if (min > 0)
          c += `if (${v}.length < ${min} || (${v}.length < ${min * 2} && cpl(${v}) < ${min})) return B;\n`;
        for (const p of patterns) {
          const k = this.konst(p);
          c += `${k}.lastIndex = 0; if (!${k}.test(${v})) return B;\n`;
        }
        return `${c}${out} = ${v};`;
      }
      case 'number': {
        const b = numberBounds(schema, where);
        let c = `if (typeof ${v} !== 'number' || !Number.isFinite(${v})) return B;\n`;
        if (b.int) c += `if (!Number.isSafeInteger(${v})) return B;\n`;
        if (Number.isFinite(b.lo)) c += `if (!(${v} ${b.loIncl ? '>=' : '>'} ${b.lo})) return B;\n`;
        if (Number.isFinite(b.hi)) c += `if (!(${v} ${b.hiIncl ? '<=' : '<'} ${b.hi})) return B;\n`;
        return `${c}${out} = ${v};`;
      }
      case 'boolean':
        noChecks(schema, where);
        return `if (typeof ${v} !== 'boolean') return B;\n${out} = ${v};`;
      case 'null':
        noChecks(schema, where);
        return `if (${v} !== null) return B;\n${out} = null;`;
      case 'literal':
      case 'enum': {
        compileValues(schema, where); // the same checks on what the values may be
        const values = [...schema._zod.values!];
        const test =
          values.length <= 8
            ? values.map((x) => `${v} === ${JSON.stringify(x)}`).join(' || ')
            : `${this.konst(schema._zod.values)}.has(${v})`;
        return `if (!(${test || 'false'})) return B;\n${out} = ${v};`;
      }
      case 'array': {
        let min = 0;
        let max = Number.POSITIVE_INFINITY;
        for (const c of def.checks ?? []) {
          const cd = c._zod.def;
          if (cd.check === 'min_length') min = Math.max(min, cd.minimum!);
          else if (cd.check === 'max_length') max = Math.min(max, cd.maximum!);
          else throw new UnsupportedSchemaError(`${where}: array check ${cd.check}`);
        }
        const i = this.id('i');
        const e = this.id('e');
        const r = this.id('r');
        const a = this.id('a');
        return (
          `if (!Array.isArray(${v})) return B;\n` +
          (min > 0 ? `if (${v}.length < ${min}) return B;\n` : '') +
          (Number.isFinite(max) ? `if (${v}.length > ${max}) return B;\n` : '') +
          `const ${a} = new Array(${v}.length);\n` +
          `for (let ${i} = 0; ${i} < ${v}.length; ${i}++) {\n const ${e} = ${v}[${i}];\n let ${r};\n` +
          `${this.gen(def.element!, e, r, `${where}[]`)}\n ${a}[${i}] = ${r};\n}\n${out} = ${a};`
        );
      }
      case 'object':
        return this.object(schema, v, out, where);
      case 'union':
        return this.union(schema, v, out, where);
      case 'record': {
        noChecks(schema, where);
        const kt = def.keyType!;
        if (kt._zod.def.type !== 'string' || kt._zod.def.checks?.length || kt._zod.def.coerce) {
          throw new UnsupportedSchemaError(`${where}: record keys other than a plain z.string()`);
        }
        if (def.mode !== undefined && def.mode !== 'strict') {
          throw new UnsupportedSchemaError(`${where}: record mode ${def.mode}`);
        }
        const o = this.id('o');
        const k = this.id('k');
        const e = this.id('e');
        const r = this.id('r');
        return (
          `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v}) || ` +
          `Object.getPrototypeOf(${v}) !== Object.prototype || Object.prototype.hasOwnProperty.call(${v}, '__proto__') || ` +
          `Object.prototype.hasOwnProperty.call(${v}, 'constructor')) return B;\n` +
          `const ${o} = {};\nfor (const ${k} of Object.keys(${v})) {\n const ${e} = ${v}[${k}];\n let ${r};\n` +
          `${this.gen(def.valueType!, e, r, `${where}{}`)}\n ${o}[${k}] = ${r};\n}\n${out} = ${o};`
        );
      }
      case 'nullable': {
        noChecks(schema, where);
        return `if (${v} === null) ${out} = null;\nelse {\n${this.gen(def.innerType!, v, out, where)}\n}`;
      }
      case 'optional': {
        noChecks(schema, where);
        if (def.innerType!._zod.optin === 'defaulted') {
          throw new UnsupportedSchemaError(`${where}: optional around a default`);
        }
        return `if (${v} === undefined) ${out} = undefined;\nelse {\n${this.gen(def.innerType!, v, out, where)}\n}`;
      }
      case 'default': {
        noChecks(schema, where);
        // zod's getter: a fresh copy each time, as zod hands out
        const d = this.konst(def);
        return (
          `if (${v} === undefined) ${out} = ${d}.defaultValue;\nelse {\n${this.gen(def.innerType!, v, out, where)}\n` +
          ` if (${out} === undefined) ${out} = ${d}.defaultValue;\n}`
        );
      }
      default:
        throw new UnsupportedSchemaError(`${where}: ${def.type}`);
    }
  }

  private object(schema: ZodLike, v: string, out: string, where: string): string {
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
    if (Object.getOwnPropertySymbols(shape).length > 0)
      throw new UnsupportedSchemaError(`${where}: symbol keys`);
    const keys = Object.keys(shape);
    const o = this.id('o');
    let c = `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) return B;\n`;
    if (strict) {
      const k = this.id('k');
      c += `for (const ${k} in ${v}) if (!${this.konst(new Set(keys))}.has(${k})) return B;\n`;
    }
    c += `const ${o} = {};\n`;
    for (const key of keys) {
      if (key === '__proto__') throw new UnsupportedSchemaError(`${where}: a __proto__ key`);
      const field = shape[key]!;
      const { optin, optout } = field._zod;
      const lit = JSON.stringify(key);
      const x = this.id('x');
      const r = this.id('r');
      const inner = this.gen(field, x, r, `${where}.${key}`);
      if (optin === undefined && optout === undefined) {
        c += `if (!(${lit} in ${v})) return B;\n{\n const ${x} = ${v}[${lit}];\n let ${r};\n${inner}\n ${o}[${lit}] = ${r};\n}\n`;
      } else if (optin === 'optional' && optout === 'optional') {
        c += `if (${lit} in ${v}) {\n const ${x} = ${v}[${lit}];\n let ${r};\n${inner}\n ${o}[${lit}] = ${r};\n}\n`;
      } else if (optin === 'defaulted' && optout === undefined) {
        c += `{\n const ${x} = ${v}[${lit}];\n let ${r};\n${inner}\n ${o}[${lit}] = ${r};\n}\n`;
      } else {
        throw new UnsupportedSchemaError(`${where}.${key}: optin ${optin} / optout ${optout}`);
      }
    }
    return `${c}${out} = ${o};`;
  }

  private union(schema: ZodLike, v: string, out: string, where: string): string {
    const def = schema._zod.def;
    noChecks(schema, where);
    const options = def.options ?? [];
    if (def.discriminator !== undefined) {
      if (def.unionFallback) throw new UnsupportedSchemaError(`${where}: discriminated union with fallback`);
      const disc = JSON.stringify(def.discriminator);
      const seen = new Set<unknown>();
      let c = `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) return B;\nswitch (${v}[${disc}]) {\n`;
      options.forEach((opt, i) => {
        const values = opt._zod.propValues?.[def.discriminator!];
        if (!values || values.size === 0)
          throw new UnsupportedSchemaError(`${where}[${i}]: no discriminator`);
        for (const val of values) {
          if (val === undefined || seen.has(val) || (typeof val !== 'string' && typeof val !== 'number')) {
            throw new UnsupportedSchemaError(`${where}: discriminator value ${String(val)}`);
          }
          seen.add(val);
          c += `case ${JSON.stringify(val)}:\n`;
        }
        c += `{\n${this.gen(opt, v, out, `${where}[${i}]`)}\nbreak;\n}\n`;
      });
      return `${c}default: return B;\n}`;
    }
    if (def.inclusive === false) throw new UnsupportedSchemaError(`${where}: exclusive union`);
    if (options.length === 1) return this.gen(options[0]!, v, out, `${where}|0`);
    // Each option its own function: a failed option must move on to the next, not return.
    const fns = options.map((o, i) => new Generator().fn(o, `${where}|${i}`));
    const F = this.konst(fns);
    const Z = this.konst(options);
    const i = this.id('i');
    const r = this.id('r');
    // zod takes the first option that passes: an earlier one passed over must really fail.
    return (
      `{\n let ${r} = B;\n for (let ${i} = 0; ${i} < ${F}.length; ${i}++) {\n  ${r} = ${F}[${i}](${v});\n` +
      `  if (${r} === B) continue;\n  for (let j = 0; j < ${i}; j++) if (${Z}[j].safeParse(${v}).success) return B;\n  break;\n }\n` +
      ` if (${r} === B) return B;\n ${out} = ${r};\n}`
    );
  }
}
