import { isSubset } from '../../../kube/compare.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';

/**
 * Drift judged on the fields kubeOP's field manager owns, in the manner of gitops-engine's
 * server-side diff: other writers (a mutating webhook adding a sidecar or an annotation, a
 * controller adding a finalizer) are never drift, a changed value of a field kubeOP sets always is.
 *
 * Which fields kubeOP owns: under server-side apply a manager owns exactly the fields of the
 * configuration it applies, so the walk is driven by `desired` (what kubeOP applies). The live
 * `metadata.managedFields` (fieldsV1) say how each list is merged — `k:{"name":"app"}` entries make
 * a list keyed (containers by name, ports by containerPort and protocol), `v:` entries a set, a
 * list without either is atomic — so list items are matched by key, not by position, and items
 * only other managers added are left alone. The live entry of kubeOP's manager alone cannot be the
 * field list: a plain update by someone else (kubectl edit) moves the edited field to the editor,
 * which would hide exactly the hand edit that must be set back.
 */

/** A fieldsV1 tree: `f:<field>`, `k:<json key>`, `v:<json value>`, `i:<index>`, `.` (the item itself). */
export interface FieldSet {
  [path: string]: FieldSet;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
}

function managedFieldsOf(obj: KubeObject): ManagedFieldsEntry[] {
  const m = (obj.metadata as { managedFields?: unknown }).managedFields;
  return Array.isArray(m) ? (m as ManagedFieldsEntry[]) : [];
}

function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? union(out[k], v) : v;
  return out;
}

/**
 * The fields `manager` owns through server-side apply (operation Apply, main resource), or
 * undefined when it owns none.
 */
export function ownedFields(obj: KubeObject, manager: string): FieldSet | undefined {
  let out: FieldSet | undefined;
  for (const e of managedFieldsOf(obj)) {
    if (e.manager !== manager || e.operation !== 'Apply' || e.subresource || !e.fieldsV1) continue;
    out = out ? union(out, e.fieldsV1) : e.fieldsV1;
  }
  return out;
}

/**
 * The shape of `obj`'s lists as every manager's entries record it, kubeOP's first: list keys are
 * a property of the schema, so another manager's entry tells them as well when kubeOP's lost a
 * list (an edit took it over).
 */
export function listShape(obj: KubeObject, manager: string): FieldSet {
  let out: FieldSet = ownedFields(obj, manager) ?? {};
  for (const e of managedFieldsOf(obj)) {
    if (e.subresource || !e.fieldsV1) continue;
    out = union(out, e.fieldsV1);
  }
  return out;
}

type ListKind =
  | { type: 'keyed'; keys: Array<{ key: Record<string, unknown>; fields: FieldSet }> }
  | { type: 'set' }
  | { type: 'atomic' };

function listKind(fields: FieldSet | undefined): ListKind {
  const keys: Array<{ key: Record<string, unknown>; fields: FieldSet }> = [];
  let set = false;
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (k.startsWith('k:')) {
      try {
        const key: unknown = JSON.parse(k.slice(2));
        if (key && typeof key === 'object' && !Array.isArray(key)) {
          keys.push({ key: key as Record<string, unknown>, fields: v });
        }
      } catch {
        // An unreadable key tells nothing about the list; it is judged as atomic below.
      }
    } else if (k.startsWith('v:')) set = true;
  }
  if (keys.length) return { type: 'keyed', keys };
  return set ? { type: 'set' } : { type: 'atomic' };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Whether `item` is the list item of `key`: every key field `item` sets has the key's value. A
 * field the item leaves out was defaulted by the API server (a port's `protocol: TCP`).
 */
function matchesKey(item: unknown, key: Record<string, unknown>): boolean {
  if (!isRecord(item)) return false;
  let named = false;
  for (const [k, v] of Object.entries(key)) {
    if (item[k] === undefined) continue;
    if (!isSubset(item[k], v)) return false;
    named = true;
  }
  return named;
}

/** The key (and recorded fields) of a desired list item, when the list is keyed. */
function keyOfItem(item: unknown, kind: ListKind & { type: 'keyed' }) {
  return kind.keys.find((k) => matchesKey(item, k.key));
}

/** The live item with the same key values as `key`. */
function liveItem(live: unknown[], key: Record<string, unknown>): unknown {
  return live.find((l) => isRecord(l) && Object.entries(key).every(([k, v]) => isSubset(v, l[k])));
}

/**
 * The paths (`spec.template.spec.containers[name=app].image`) where `live` differs from `desired`
 * on the fields `desired` sets; empty when an apply of `desired` would change nothing kubeOP owns.
 * `shape` is the fieldsV1 tree for `desired`'s position (see listShape); without it lists are
 * compared as atomic, element by element and in length. Quantities compare by value.
 */
export function driftPaths(
  desired: unknown,
  live: unknown,
  shape: FieldSet | undefined,
  path = '',
): string[] {
  return walk(desired, live, shape, path, '');
}

function walk(
  desired: unknown,
  live: unknown,
  shape: FieldSet | undefined,
  path: string,
  /** The name of the field holding `desired` (what isSubset calls its parent key). */
  fieldKey: string,
): string[] {
  if (desired === undefined) return [];
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return [path];
    const kind = listKind(shape);
    if (kind.type === 'keyed') {
      const out: string[] = [];
      for (const [i, d] of desired.entries()) {
        const k = keyOfItem(d, kind);
        if (!k) {
          // An item whose key the live object does not record at all: kubeOP's item is missing.
          out.push(`${path}[${i}]`);
          continue;
        }
        const at = `${path}[${Object.entries(k.key)
          .map(([n, v]) => `${n}=${String(v)}`)
          .join(',')}]`;
        const l = liveItem(live, k.key);
        if (l === undefined) out.push(at);
        else out.push(...walk(d, l, k.fields, at, fieldKey));
      }
      return out;
    }
    if (kind.type === 'set') {
      return desired.every((d) => live.some((l) => isSubset(d, l, fieldKey))) ? [] : [path];
    }
    return isSubset(desired, live, fieldKey) ? [] : [path];
  }
  if (isRecord(desired)) {
    if (!isRecord(live)) return [path];
    const out: string[] = [];
    for (const [k, v] of Object.entries(desired)) {
      const at = path ? `${path}.${k}` : k;
      if (v === undefined) continue;
      if (v !== null && typeof v === 'object') {
        out.push(...walk(v, live[k], shape?.[`f:${k}`], at, k));
      } else if (!isSubset({ [k]: v }, { [k]: live[k] }, fieldKey)) {
        // Judged in its map, so that isSubset sees a quantity (resources.requests.cpu) as one.
        out.push(at);
      }
    }
    return out;
  }
  return isSubset(desired, live, fieldKey) ? [] : [path];
}

/**
 * The values of `stored` at exactly the paths `shape` sets, list items matched like driftPaths
 * does. Applied to the answer of a server-side apply it gives what the API server made of each
 * field kubeOP set — `cpu: 0.5` comes back as `500m`, an int-or-string port as a number — so that
 * comparing it with the live object tells a hand edit apart from the server's own normalisation.
 */
export function projectOnto(desired: unknown, stored: unknown, fields: FieldSet | undefined): unknown {
  if (Array.isArray(desired)) {
    if (!Array.isArray(stored)) return stored;
    const kind = listKind(fields);
    if (kind.type === 'keyed') {
      return desired.map((d) => {
        const k = keyOfItem(d, kind);
        const s = k ? liveItem(stored, k.key) : undefined;
        // Kept as desired when the answer lacks it, so the projection still names the item's key.
        return s === undefined ? d : projectOnto(d, s, k?.fields);
      });
    }
    if (kind.type === 'set') return stored;
    return desired.map((d, i) => projectOnto(d, stored[i], undefined));
  }
  if (isRecord(desired)) {
    if (!isRecord(stored)) return stored;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(desired)) out[k] = projectOnto(desired[k], stored[k], fields?.[`f:${k}`]);
    return out;
  }
  return stored;
}
