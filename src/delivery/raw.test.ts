import { describe, expect, it } from 'vitest';
import type { App } from '../schemas/crds/types.ts';
import { rawSource } from './raw.ts';
import { SourceError, type SourceContext } from './source.ts';

function ctx(manifests: unknown[]): SourceContext {
  const app = {
    apiVersion: 'paas.kubeop.io/v1alpha1',
    kind: 'App',
    metadata: { name: 'web', namespace: 'ns' },
    spec: { source: { raw: { manifests } } },
  } as unknown as App;
  return {
    app,
    namespace: 'ns',
    readSecret: () => Promise.resolve(undefined),
    readConfigMap: () => Promise.resolve(undefined),
  };
}

const cm = (name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

async function failure(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SourceError)) throw new Error(`expected a SourceError, got ${String(err)}`);
  return err;
}

describe('raw source', () => {
  it('returns the manifests as objects, copied so the App is never changed', async () => {
    const c = ctx([cm('a', { k: 'v' })]);
    const r = await rawSource().render(c);
    expect(r.objects).toEqual([cm('a', { k: 'v' })]);
    r.objects[0]!.metadata.name = 'changed';
    expect((c.app.spec.source.raw!.manifests[0] as { metadata: { name: string } }).metadata.name).toBe('a');
  });

  it('has a revision that follows the content and not the key order', async () => {
    const a = await rawSource().render(ctx([cm('a', { x: '1', y: '2' })]));
    const reordered = await rawSource().render(
      ctx([{ metadata: { name: 'a' }, data: { y: '2', x: '1' }, kind: 'ConfigMap', apiVersion: 'v1' }]),
    );
    const edited = await rawSource().render(ctx([cm('a', { x: '1', y: '3' })]));
    expect(a.sourceRevision).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(reordered.sourceRevision).toBe(a.sourceRevision);
    expect(edited.sourceRevision).not.toBe(a.sourceRevision);
  });

  it('refuses an entry without kind or metadata.name, naming its position', async () => {
    const noKind = await failure(
      rawSource().render(ctx([cm('a'), { apiVersion: 'v1', metadata: { name: 'b' } }])),
    );
    expect(noKind.reason).toBe('InvalidManifests');
    expect(noKind.message).toBe('spec.source.raw.manifests[1] has no kind');
    const noName = await failure(
      rawSource().render(ctx([{ apiVersion: 'v1', kind: 'Service', metadata: {} }])),
    );
    expect(noName.message).toBe('spec.source.raw.manifests[0] (Service) has no metadata.name');
    expect(noName.retryable).toBe(false);
  });
});
