import { createHash } from 'node:crypto';
import { canonicalJson } from '../kube/compare.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { SourceError, type Rendered, type Source, type SourceContext } from './source.ts';

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks that every entry looks like a Kubernetes object, naming the first one that does not. The
 * App controller decides what may be delivered (kind, namespace); this only checks the shape.
 */
export function parseRawManifests(manifests: readonly unknown[], where: string): KubeObject[] {
  return manifests.map((m, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(m)) throw new SourceError('InvalidManifests', `${at} is not an object`);
    const meta = m.metadata;
    if (typeof m.apiVersion !== 'string' || !m.apiVersion)
      throw new SourceError('InvalidManifests', `${at} has no apiVersion`);
    if (typeof m.kind !== 'string' || !m.kind) throw new SourceError('InvalidManifests', `${at} has no kind`);
    if (!isObject(meta) || typeof meta.name !== 'string' || !meta.name)
      throw new SourceError('InvalidManifests', `${at} (${m.kind}) has no metadata.name`);
    return structuredClone(m) as KubeObject;
  });
}

/**
 * Inline manifests (`spec.source.raw.manifests`). The revision is a digest of the manifests, so an
 * edit of any of them is a new revision and re-applying the same ones is not.
 */
export function rawSource(): Source {
  return {
    async render(ctx: SourceContext): Promise<Rendered> {
      const raw = ctx.app.spec.source.raw;
      if (!raw) throw new SourceError('RenderFailed', 'the App has no spec.source.raw');
      const objects = parseRawManifests(raw.manifests, 'spec.source.raw.manifests');
      const digest = createHash('sha256')
        .update(canonicalJson(raw.manifests)) // key order changes no revision
        .digest('hex')
        .slice(0, 12);
      return { objects, sourceRevision: `sha256:${digest}` };
    },
  };
}
