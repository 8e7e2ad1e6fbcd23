import { Environment } from '@marcbachmann/cel-js';
import { parseQuantity } from '../domain/quantity.ts';
import type { CelRule } from './kube-types.ts';

/**
 * The `x-kubernetes-validations` (CEL) rules of a schema, evaluated outside the cluster so the
 * manager API refuses what the API server would refuse later, with the same message. The library
 * (@marcbachmann/cel-js) brings the CEL language and macros (has, all, exists_one, filter, size,
 * contains…); the Kubernetes library functions our rules call are registered below with the API
 * server's semantics: isQuantity, quantity(…).compareTo, isCIDR.
 *
 * Contract, as in the API server: a rule runs on every node where the value is present; a rule that
 * mentions `oldSelf` (a transition rule) runs only when an old value is given; `fieldPath` is appended
 * to the node's path. Values are converted like the API server does: integers become CEL ints.
 */

export interface CelViolation {
  /** JSON pointer of the offending node, relative to the value checked. */
  path: string;
  message: string;
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-validations'?: CelRule[];
}

class Quantity {
  readonly milli: bigint;
  constructor(milli: bigint) {
    this.milli = milli;
  }
}

/** Larger exponents describe no real resource, and 1e999999999 would take a minute of bigint maths. */
const MAX_EXPONENT = 64;

function quantityOf(text: string): Quantity {
  // The API server accepts no surrounding blanks; parseQuantity trims, so refuse them here.
  if (text !== text.trim()) throw new Error(`"${text}" is not a quantity`);
  const exponent = /[eE]([+-]?\d+)$/.exec(text);
  if (exponent && Math.abs(Number(exponent[1])) > MAX_EXPONENT) throw new Error(`"${text}" is out of range`);
  return new Quantity(parseQuantity(text));
}

function isQuantity(text: string): boolean {
  try {
    quantityOf(text);
    return true;
  } catch {
    return false;
  }
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** As Kubernetes' isCIDR: an IPv4 or IPv6 address, `/`, a prefix length that fits the family. */
export function isCidr(text: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return false;
  const [, addr = '', bits = ''] = m;
  if (bits.length > 1 && bits.startsWith('0')) return false;
  if (ipv4.test(addr)) return Number(bits) <= 32;
  if (!addr.includes(':') || addr.includes('%') || !/^[0-9a-fA-F:.]+$/.test(addr)) return false;
  try {
    // WHATWG URL parsing is a full IPv6 parser (compressed forms, embedded IPv4).
    new URL(`http://[${addr}]/`);
  } catch {
    return false;
  }
  return Number(bits) <= 128;
}

const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
  .registerType('Quantity', Quantity)
  .registerFunction('isQuantity(string): bool', isQuantity)
  .registerFunction('quantity(string): Quantity', quantityOf)
  .registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) =>
    a.milli < b.milli ? -1n : a.milli > b.milli ? 1n : 0n,
  )
  .registerFunction('isCIDR(string): bool', isCidr);

const compiled = new Map<string, (ctx: Record<string, unknown>) => unknown>();

function program(rule: string): (ctx: Record<string, unknown>) => unknown {
  let fn = compiled.get(rule);
  if (!fn) {
    fn = env.parse(rule);
    compiled.set(rule, fn);
  }
  return fn;
}

/** JSON → CEL values: whole numbers are CEL ints (bigint), as for `type: integer` fields. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}

const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');
const isTransition = (rule: string) => /\boldSelf\b/.test(rule);

function runRules(
  rules: CelRule[],
  value: unknown,
  oldValue: unknown,
  path: string,
  out: CelViolation[],
): void {
  for (const r of rules) {
    const transition = isTransition(r.rule);
    if (transition && oldValue === undefined) continue;
    const where = path + (r.fieldPath ? r.fieldPath.replace(/^\./, '/').replaceAll('.', '/') : '');
    let ok: unknown;
    try {
      ok = program(r.rule)({ self: value, ...(transition ? { oldSelf: oldValue } : {}) });
    } catch {
      // The API server reports a rule it cannot evaluate as a failure of that rule.
      ok = false;
    }
    if (ok !== true) out.push({ path: where || '/', message: r.message });
  }
}

function walk(schema: SchemaNode, value: unknown, oldValue: unknown, path: string, out: CelViolation[]) {
  if (value === undefined || value === null) return;
  const rules = schema['x-kubernetes-validations'];
  if (rules?.length) runRules(rules, value, oldValue, path, out);
  if (Array.isArray(value)) {
    // Transition rules inside lists need list-map correlation; none of ours sit there.
    if (schema.items) value.forEach((v, i) => walk(schema.items!, v, undefined, `${path}/${i}`, out));
    return;
  }
  if (typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  const old = oldValue && typeof oldValue === 'object' ? (oldValue as Record<string, unknown>) : undefined;
  if (schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (key in obj) walk(sub, obj[key], old?.[key], `${path}/${pointer(key)}`, out);
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const [key, v] of Object.entries(obj)) {
      walk(schema.additionalProperties, v, old?.[key], `${path}/${pointer(key)}`, out);
    }
  }
}

/**
 * Every CEL rule of `schema` that `value` breaks, in schema order. `oldValue` is the stored value on
 * an update (transition rules such as `self == oldSelf` run only then). The value is assumed to have
 * passed structural validation already; a rule that cannot be evaluated counts as broken.
 */
export function celViolations(schema: object, value: unknown, oldValue?: unknown): CelViolation[] {
  const out: CelViolation[] = [];
  // Converted once: the walk then hands each rule its node of the converted tree.
  walk(schema as SchemaNode, toCel(value), toCel(oldValue), '', out);
  return out;
}

/** Every rule in `schema` with the JSON pointer of its node (`/*` for list items and map values). */
export function celRules(schema: object, path = ''): Array<CelRule & { path: string }> {
  const s = schema as SchemaNode;
  const here = (s['x-kubernetes-validations'] ?? []).map((r) => ({ ...r, path: path || '/' }));
  const below = [
    ...Object.entries(s.properties ?? {}).flatMap(([k, sub]) => celRules(sub, `${path}/${pointer(k)}`)),
    ...(s.items ? celRules(s.items, `${path}/*`) : []),
    ...(s.additionalProperties && typeof s.additionalProperties === 'object'
      ? celRules(s.additionalProperties, `${path}/*`)
      : []),
  ];
  return [...here, ...below];
}
