import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { appLabelValue, LABEL_MANAGED_BY, MANAGED_BY } from '../../../domain/naming.ts';
import { SourceError } from '../../../delivery/source.ts';
import { canonicalJson } from '../../../kube/compare.ts';
import type { AppStatus } from '../../../schemas/crds/app.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';

/**
 * Revision storage. Each revision's source objects (what the source rendered, before the App
 * controller's own changes) are kept gzipped in a Secret owned by the App — a Secret, since they may
 * contain Secrets — so a rollback never fetches a source again and works while it is unreachable.
 * The numbers, source revisions and digests live in `status.history`, newest first, at most
 * HISTORY_LIMIT; a stored revision that left the history is deleted.
 */
export const HISTORY_LIMIT = 10;
export const LABEL_REVISION_OF = 'paas.kubeop.io/revision-of';
export const LABEL_REVISION = 'paas.kubeop.io/revision';
export const REVISION_SECRET_TYPE = 'paas.kubeop.io/app-revision';
/** Secrets hold at most 1 MiB; leave room for the metadata. */
export const MAX_STORED_BYTES = 900 * 1024;

export type HistoryEntry = NonNullable<AppStatus['history']>[number];

export interface StoredRevision {
  revision: number;
  sourceRevision: string;
  objects: KubeObject[];
}

/** A digest of a set of objects that ignores their order and the key order inside them. */
export function digestOf(objects: readonly KubeObject[]): string {
  const parts = objects.map((o) => canonicalJson(o)).sort();
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

export function revisionSecretName(app: string, revision: number): string {
  return `kubeop-rev-${appLabelValue(app)}-${revision}`;
}

/** The Secret that stores one revision; throws SourceTooLarge when it would not fit. */
export function renderRevisionSecret(app: App, stored: StoredRevision): KubeObject {
  const packed = gzipSync(JSON.stringify(stored.objects)).toString('base64');
  if (packed.length > MAX_STORED_BYTES) {
    throw new SourceError(
      'SourceTooLarge',
      `the rendered objects take ${Math.ceil(packed.length / 1024)} KiB compressed; a revision may take at most ${MAX_STORED_BYTES / 1024} KiB`,
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: revisionSecretName(app.metadata.name, stored.revision),
      namespace: app.metadata.namespace!,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_REVISION_OF]: appLabelValue(app.metadata.name),
        [LABEL_REVISION]: String(stored.revision),
      },
      ...(app.metadata.uid
        ? {
            ownerReferences: [
              { apiVersion: app.apiVersion, kind: app.kind, name: app.metadata.name, uid: app.metadata.uid },
            ],
          }
        : {}),
    },
    type: REVISION_SECRET_TYPE,
    data: {
      'objects.json.gz': packed,
      sourceRevision: Buffer.from(stored.sourceRevision).toString('base64'),
    },
  };
}

/** Reads a stored revision back; undefined when the Secret is not one or is damaged. */
export function parseRevisionSecret(secret: KubeObject): StoredRevision | undefined {
  const data = secret.data as Record<string, string> | undefined;
  const revision = Number(secret.metadata.labels?.[LABEL_REVISION]);
  if (!data?.['objects.json.gz'] || !Number.isInteger(revision)) return undefined;
  try {
    const objects = JSON.parse(gunzipSync(Buffer.from(data['objects.json.gz'], 'base64')).toString('utf8'));
    if (!Array.isArray(objects)) return undefined;
    return {
      revision,
      sourceRevision: Buffer.from(data.sourceRevision ?? '', 'base64').toString('utf8'),
      objects: objects as KubeObject[],
    };
  } catch {
    return undefined;
  }
}

/** The number of the next revision: one more than any the App has had. */
export function nextRevision(status: AppStatus | undefined): number {
  const seen = [status?.revision ?? 0, ...(status?.history ?? []).map((h) => h.revision)];
  return Math.max(0, ...seen) + 1;
}

/** `entry` on top of the history, trimmed to HISTORY_LIMIT; also returns the revisions that fell off. */
export function pushHistory(
  history: readonly HistoryEntry[] | undefined,
  entry: HistoryEntry,
): { history: HistoryEntry[]; dropped: number[] } {
  const all = [entry, ...(history ?? []).filter((h) => h.revision !== entry.revision)];
  return {
    history: all.slice(0, HISTORY_LIMIT),
    dropped: all.slice(HISTORY_LIMIT).map((h) => h.revision),
  };
}
