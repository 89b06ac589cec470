/**
 * Lossless JSON form of DuckDB result values and column types, for the live
 * socket. A value crosses as what node-api made of it: node-api's value and
 * type classes are plain records of their fields, so a class instance is sent
 * as its class name and fields and rebuilt on the other side with the same
 * prototype (printing, `instanceof` and binding then behave exactly as on a
 * direct read). JSON's gaps are tagged: bigints, non-finite numbers and -0,
 * bytes, undefined and null-prototype objects. Pure.
 */
import * as api from '@duckdb/node-api';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Constructor = { prototype: object; name: string };

/** node-api's value and type classes by name (DuckDBDateValue, DuckDBStructType, ...). */
const CLASSES: ReadonlyMap<string, Constructor> = new Map(
  Object.entries(api)
    .filter(([name, value]) => typeof value === 'function' && /^DuckDB\w*(Value|Type)$/.test(name) && (value as Constructor).prototype)
    .map(([name, value]) => [name, value as Constructor]),
);
const NAME_OF = new Map<object, string>([...CLASSES].map(([name, c]) => [c.prototype, name]));

export function encode(value: unknown): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { $n: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      return { $b: value.toString() };
    case 'undefined':
      return { $v: 0 };
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(encode);
      if (value instanceof Uint8Array) return { $u: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
      const proto = Object.getPrototypeOf(value) as object | null;
      const fields = encodeFields(value as Record<string, unknown>);
      if (proto === null) return { $z: fields };
      if (proto === Object.prototype) return { $o: fields };
      const name = NAME_OF.get(proto);
      if (name === undefined) throw new TypeError(`cannot send a ${proto.constructor?.name ?? 'value'} over the live socket`);
      return { $c: name, f: fields };
    }
    default:
      throw new TypeError(`cannot send a ${typeof value} over the live socket`);
  }
}

function encodeFields(value: Record<string, unknown>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value)) out[key] = encode(value[key]);
  return out;
}

export function decode(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decode);
  const tagged = json as Record<string, unknown>;
  if ('$b' in tagged) return BigInt(tagged.$b as string);
  if ('$n' in tagged) return tagged.$n === '-0' ? -0 : Number(tagged.$n);
  if ('$v' in tagged) return undefined;
  if ('$u' in tagged) return new Uint8Array(Buffer.from(tagged.$u as string, 'base64'));
  if ('$o' in tagged) return decodeFields(tagged.$o as Record<string, unknown>, {});
  if ('$z' in tagged) return decodeFields(tagged.$z as Record<string, unknown>, Object.create(null) as Record<string, unknown>);
  if ('$c' in tagged) {
    const constructor = CLASSES.get(tagged.$c as string);
    if (!constructor) throw new TypeError(`the live socket sent an unknown DuckDB class ${String(tagged.$c)}`);
    return decodeFields(tagged.f as Record<string, unknown>, Object.create(constructor.prototype) as Record<string, unknown>);
  }
  throw new TypeError('the live socket sent an untagged object');
}

function decodeFields(fields: Record<string, unknown>, into: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(fields)) into[key] = decode(fields[key]);
  return into;
}
