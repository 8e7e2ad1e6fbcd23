import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { SourceError } from '../source.ts';

/**
 * Parses a multi-document YAML stream into Kubernetes objects: empty documents (a template that
 * rendered nothing) are skipped, `kind: List` is flattened, and anything that is not an object with
 * apiVersion, kind and metadata.name is an InvalidManifests failure naming the document.
 */
export function parseManifests(text: string, origin: string): KubeObject[] {
  const objects: KubeObject[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(docs)) return objects; // an empty stream parses to an empty collection
  docs.forEach((doc, index) => {
    const first = doc.errors[0];
    if (first) {
      throw new SourceError(
        'InvalidManifests',
        `${origin}: document ${index + 1} is not valid YAML: ${first.message.split('\n')[0]}`,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    for (const obj of flatten(value)) objects.push(checkObject(obj, `${origin}: document ${index + 1}`));
  });
  return objects;
}

function flatten(value: unknown): unknown[] {
  if (
    isRecord(value) &&
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    Array.isArray(value.items)
  ) {
    return value.items;
  }
  return [value];
}

function checkObject(value: unknown, where: string): KubeObject {
  if (!isRecord(value)) throw new SourceError('InvalidManifests', `${where} is not a YAML mapping`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    throw new SourceError('InvalidManifests', `${where} has no apiVersion`);
  }
  if (typeof kind !== 'string' || kind === '')
    throw new SourceError('InvalidManifests', `${where} has no kind`);
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw new SourceError('InvalidManifests', `${where} (${kind}) has no metadata.name`);
  }
  return value as KubeObject;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
