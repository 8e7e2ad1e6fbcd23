import { appLabelValue, LABEL_APP } from '../../../domain/naming.ts';
import { SourceError } from '../../../delivery/source.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import {
  CLUSTER_SCOPED_KINDS,
  DELIVERABLE_KINDS,
  deliverable,
  kindKey,
  supportedVersionOf,
} from './kinds.ts';

const allowedList = DELIVERABLE_KINDS.map((k) => k.kind).join(', ');

/** `Kind/name`, how messages and events name one delivered object. */
export const describeObject = (o: { kind: string; metadata: { name: string } }) =>
  `${o.kind}/${o.metadata.name}`;

/** The identity of a delivered object within one namespace. */
export const objectId = (o: { apiVersion: string; kind: string; metadata: { name: string } }) =>
  `${kindKey(o)}/${o.metadata.name}`;

/**
 * Refuses what an App may not deliver, before anything reaches the cluster: kinds outside
 * DELIVERABLE_KINDS (which includes every cluster-scoped kind), objects of another namespace and
 * two objects with one identity. Throws SourceError('ForbiddenObject' | 'InvalidManifests') naming
 * the first offending object and what to do instead.
 */
export function checkObjects(objects: readonly KubeObject[], namespace: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const what = `${o.apiVersion} ${describeObject(o)}`;
    if (!deliverable(o.apiVersion, o.kind)) {
      if (CLUSTER_SCOPED_KINDS.has(o.kind)) {
        throw new SourceError(
          'ForbiddenObject',
          `${what} is cluster-scoped; an App may only create objects inside its project namespace ${namespace}`,
        );
      }
      const version = supportedVersionOf(o.kind);
      throw new SourceError(
        'ForbiddenObject',
        version
          ? `${what}: kubeOP delivers ${o.kind} as apiVersion ${version}; change the manifest's apiVersion`
          : `${what}: an App may not create ${o.kind}; the kinds it may create are ${allowedList}`,
      );
    }
    const ns = o.metadata.namespace;
    if (ns !== undefined && ns !== '' && ns !== namespace) {
      throw new SourceError(
        'ForbiddenObject',
        `${what} names namespace ${ns}; an App may only create objects in its own namespace ${namespace} (remove metadata.namespace)`,
      );
    }
    const id = objectId(o);
    if (seen.has(id)) throw new SourceError('InvalidManifests', `${what} appears more than once`);
    seen.add(id);
  }
}

/**
 * The objects as kubeOP applies them: in the App's namespace, with only the metadata a manifest may
 * set (name, labels, annotations), no status, the App label, and the App as controlling owner, so
 * deleting the App lets the garbage collector remove everything it delivered. Pure; call
 * `checkObjects` first.
 */
export function prepareObjects(objects: readonly KubeObject[], app: App, namespace: string): KubeObject[] {
  const owner = app.metadata.uid
    ? [
        {
          apiVersion: app.apiVersion,
          kind: app.kind,
          name: app.metadata.name,
          uid: app.metadata.uid,
          controller: true,
        },
      ]
    : undefined;
  const appLabel = appLabelValue(app.metadata.name);
  return objects.map((o) => {
    const { metadata, status: _status, ...rest } = o;
    const labels = { ...metadata.labels, [LABEL_APP]: appLabel };
    return {
      ...withPodTemplateLabel(rest, o.kind, appLabel),
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: {
        name: metadata.name,
        namespace,
        labels,
        ...(metadata.annotations && Object.keys(metadata.annotations).length
          ? { annotations: { ...metadata.annotations } }
          : {}),
        ...(owner ? { ownerReferences: owner } : {}),
      },
    };
  });
}

/** Where a workload kind keeps the pod template whose pods it creates. */
const podTemplatePaths: Record<string, readonly string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/**
 * The App label on the pods a workload creates, too, so usage metering can attribute them to the
 * App whatever the source's own labels. Only the template gets it, never the selector (immutable,
 * and the workload's own business). Objects without a template are returned as they are.
 */
function withPodTemplateLabel<T extends Record<string, unknown>>(obj: T, kind: string, appLabel: string): T {
  const path = podTemplatePaths[kind];
  if (!path) return obj;
  const copy = structuredClone(obj) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of path) {
    const next = node[key];
    if (!next || typeof next !== 'object') return obj;
    node = next as Record<string, unknown>;
  }
  const meta = (node.metadata ?? {}) as { labels?: Record<string, string> };
  node.metadata = { ...meta, labels: { ...meta.labels, [LABEL_APP]: appLabel } };
  return copy as T;
}
