import { describe, expect, it } from 'vitest';
import { SourceError } from '../../../delivery/source.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import {
  digestOf,
  HISTORY_LIMIT,
  LABEL_REVISION,
  nextRevision,
  parseRevisionSecret,
  pushHistory,
  renderRevisionSecret,
} from './revisions.ts';

const app = {
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'App',
  metadata: { name: 'shop', namespace: 'ns', uid: 'u1' },
  spec: { source: { raw: { manifests: [] } } },
} as unknown as App;
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});
const entry = (revision: number) => ({
  revision,
  sourceRevision: `r${revision}`,
  deployedAt: '2026-01-01T00:00:00Z',
});

describe('stored revisions', () => {
  it('come back from their Secret as they were stored', () => {
    const objects = [
      cm('a', { k: 'v' }),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { p: 'x' } },
    ];
    const secret = renderRevisionSecret(app, { revision: 3, sourceRevision: 'sha256:abc', objects });
    expect(secret.metadata.name).toBe('kubeop-rev-shop-3');
    expect(secret.metadata.labels?.[LABEL_REVISION]).toBe('3');
    expect(secret.metadata.ownerReferences?.[0]?.uid).toBe('u1');
    expect(JSON.stringify(secret)).not.toContain('"p":"x"');
    expect(parseRevisionSecret(secret)).toEqual({ revision: 3, sourceRevision: 'sha256:abc', objects });
  });

  it('a damaged Secret is no revision', () => {
    const secret = renderRevisionSecret(app, { revision: 1, sourceRevision: 'x', objects: [cm('a')] });
    (secret.data as Record<string, string>)['objects.json.gz'] = 'bm90IGd6aXA=';
    expect(parseRevisionSecret(secret)).toBeUndefined();
  });

  it('refuses a revision too large for a Secret', () => {
    const big = Array.from({ length: 40 }, (_, i) => cm(`c${i}`, { blob: randomText(40_000) }));
    expect(() => renderRevisionSecret(app, { revision: 1, sourceRevision: 'x', objects: big })).toThrow(
      SourceError,
    );
  });
});

function randomText(n: number): string {
  let s = '';
  while (s.length < n) s += Math.random().toString(36).slice(2);
  return s.slice(0, n);
}

describe('digestOf', () => {
  it('ignores object and key order but not content', () => {
    const a = [cm('a', { x: '1', y: '2' }), cm('b')];
    expect(digestOf([cm('b'), { ...cm('a'), data: { y: '2', x: '1' } }])).toBe(digestOf(a));
    expect(digestOf([cm('a', { x: '1', y: '3' }), cm('b')])).not.toBe(digestOf(a));
  });
});

describe('history', () => {
  it('numbers revisions past any the App has had', () => {
    expect(nextRevision(undefined)).toBe(1);
    expect(nextRevision({ revision: 4, history: [entry(4), entry(7)] })).toBe(8);
  });

  it(`keeps the newest ${HISTORY_LIMIT}, newest first, and names those it dropped`, () => {
    let history = [entry(1)];
    let dropped: number[] = [];
    for (let r = 2; r <= 12; r++) ({ history, dropped } = pushHistory(history, entry(r)));
    expect(history.map((h) => h.revision)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    expect(dropped).toEqual([2]);
  });
});
