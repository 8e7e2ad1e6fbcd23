import { describe, expect, it } from 'vitest';
import { SourceError } from '../source.ts';
import type { HelmSourceSpec } from './spec.ts';
import { collectValues, mergeValues, stringLeaves } from './values.ts';

function ctx(
  configMaps: Record<string, Record<string, string>>,
  secrets: Record<string, Record<string, string>>,
) {
  return {
    namespace: 'p-demo',
    readConfigMap: (name: string) => Promise.resolve(configMaps[name]),
    readSecret: (name: string) => Promise.resolve(secrets[name]),
  };
}

describe('Helm values', () => {
  it('merge maps key by key while lists and scalars replace, as helm -f does', () => {
    const merged = mergeValues(
      { image: { repository: 'nginx', tag: '1' }, ports: [80, 443], keep: true },
      { image: { tag: '2' }, ports: [8080], extra: null },
    );
    expect(merged).toEqual({
      image: { repository: 'nginx', tag: '2' },
      ports: [8080],
      keep: true,
      extra: null,
    });
  });

  it('apply valuesFrom in order, then inline values', async () => {
    const spec: HelmSourceSpec = {
      chart: 'web',
      repoURL: 'http://127.0.0.1/repo',
      valuesFrom: [
        { kind: 'ConfigMap', name: 'base' },
        { kind: 'Secret', name: 'creds', key: 'extra.yaml' },
      ],
      values: { replicaCount: 5 },
    };
    const { values, secrets } = await collectValues(
      spec,
      ctx(
        { base: { 'values.yaml': 'replicaCount: 2\nmessage: from-configmap\nimage: {tag: "1"}' } },
        { creds: { 'extra.yaml': 'message: from-secret\npassword: hunter22' } },
      ),
    );
    expect(values).toEqual({
      replicaCount: 5,
      message: 'from-secret',
      password: 'hunter22',
      image: { tag: '1' },
    });
    expect(secrets).toContain('hunter22');
    expect(secrets).not.toContain('from-configmap');
  });

  it('skip a missing optional source and refuse a missing required one with what to fix', async () => {
    const spec: HelmSourceSpec = {
      chart: 'web',
      valuesFrom: [
        { kind: 'ConfigMap', name: 'gone', optional: true },
        { kind: 'Secret', name: 'also-gone' },
      ],
    };
    const err = await collectValues(spec, ctx({}, {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).reason).toBe('CredentialsMissing');
    expect((err as SourceError).message).toBe(
      'Secret also-gone does not exist in namespace p-demo: create it, fix source.helm.valuesFrom[1], or mark it optional',
    );
  });

  it('name a missing key', async () => {
    const spec: HelmSourceSpec = { chart: 'web', valuesFrom: [{ kind: 'ConfigMap', name: 'base' }] };
    await expect(collectValues(spec, ctx({ base: { other: 'a: 1' } }, {}))).rejects.toThrow(
      'ConfigMap base has no key "values.yaml"',
    );
  });

  it('refuse a values document that is not a map without quoting a secret', async () => {
    const spec: HelmSourceSpec = { chart: 'web', valuesFrom: [{ kind: 'Secret', name: 's' }] };
    const err = (await collectValues(spec, ctx({}, { s: { 'values.yaml': '- s3cret-value' } })).catch(
      (e: unknown) => e,
    )) as SourceError;
    expect(err.reason).toBe('RenderFailed');
    expect(err.message).toContain('is not a YAML map');
    expect(err.message).not.toContain('s3cret');
    const bad = (await collectValues(spec, ctx({}, { s: { 'values.yaml': 'a: [s3cret' } })).catch(
      (e: unknown) => e,
    )) as SourceError;
    expect(bad.message).toBe('source.helm.valuesFrom[0] (Secret s, key values.yaml) is not valid YAML');
  });

  it('collect every string leaf', () => {
    expect(stringLeaves({ a: 'x', b: [1, 'y', { c: 'z' }] })).toEqual(['x', 'y', 'z']);
  });
});
