import { parse } from 'yaml';
import type { HelmSourceSpec } from './spec.ts';
import { SourceError, type SourceContext } from '../source.ts';

type Values = Record<string, unknown>;

/**
 * Merges values files the way `helm -f a -f b` does: maps merge key by key, anything else (lists,
 * scalars, null) in a later file replaces the earlier value. A null survives, so it still removes the
 * chart's default for that key when helm coalesces with the chart's values.yaml.
 */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prev = out[key];
    out[key] = isMap(prev) && isMap(value) ? mergeValues(prev, value) : value;
  }
  return out;
}

/** Every string leaf of a values tree; used to keep Secret-derived values out of messages. */
export function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringLeaves(v, out);
  else if (isMap(value)) for (const v of Object.values(value)) stringLeaves(v, out);
  return out;
}

/**
 * The values a Helm App renders with: each `valuesFrom` entry in order, then inline `values`.
 * A missing object or key that is not `optional` is CredentialsMissing (the App waits for it); a
 * key that is not a YAML map is RenderFailed. Returns the strings read from Secrets so that error
 * messages can be scrubbed of them.
 */
export async function collectValues(
  spec: HelmSourceSpec,
  ctx: Pick<SourceContext, 'readSecret' | 'readConfigMap' | 'namespace'>,
): Promise<{ values: Values; secrets: string[] }> {
  let values: Values = {};
  const secrets: string[] = [];
  for (const [i, ref] of (spec.valuesFrom ?? []).entries()) {
    const key = ref.key ?? 'values.yaml';
    const where = `source.helm.valuesFrom[${i}] (${ref.kind} ${ref.name}, key ${key})`;
    const data = ref.kind === 'Secret' ? await ctx.readSecret(ref.name) : await ctx.readConfigMap(ref.name);
    if (ref.kind === 'Secret' && data) secrets.push(...Object.values(data));
    const text = data?.[key];
    if (text === undefined) {
      if (ref.optional) continue;
      const missing = data ? `has no key "${key}"` : `does not exist in namespace ${ctx.namespace}`;
      throw new SourceError(
        'CredentialsMissing',
        `${ref.kind} ${ref.name} ${missing}: create it, fix source.helm.valuesFrom[${i}], or mark it optional`,
        { retryable: true },
      );
    }
    let parsed: unknown;
    try {
      parsed = parse(text, { maxAliasCount: 100 });
    } catch {
      // The parser's message quotes the text, which may be secret.
      throw new SourceError('RenderFailed', `${where} is not valid YAML`);
    }
    if (parsed === null || parsed === undefined) continue;
    if (!isMap(parsed)) throw new SourceError('RenderFailed', `${where} is not a YAML map of values`);
    // Each value on its own too: a template may print one without the rest of the document.
    if (ref.kind === 'Secret') secrets.push(...stringLeaves(parsed));
    values = mergeValues(values, parsed);
  }
  if (spec.values) values = mergeValues(values, spec.values);
  return { values, secrets };
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
