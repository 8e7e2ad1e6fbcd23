import { isRecord, record } from './review.ts';

/**
 * Where the pod template sits in each kind kubeOP polices, so one image rule covers pods and the
 * workloads that create them (a Deployment is refused at once instead of leaving a ReplicaSet that
 * silently fails to create pods).
 */
const templatePaths: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export const CONTAINER_FIELDS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];

export function podSpecPath(kind: string): string[] | undefined {
  return templatePaths[kind];
}

/** The pod spec inside an object of `kind`, or undefined when the kind has none or it is missing. */
export function podSpecOf(kind: string, obj: unknown): Record<string, unknown> | undefined {
  const path = templatePaths[kind];
  if (!path) return undefined;
  let cur: unknown = obj;
  for (const key of path) cur = record(cur)[key];
  return isRecord(cur) ? cur : undefined;
}

export interface ContainerEntry {
  field: ContainerField;
  index: number;
  container: Record<string, unknown>;
}

/** Every container of a pod spec with its position; entries that are not objects are skipped. */
export function containersOf(spec: Record<string, unknown> | undefined): ContainerEntry[] {
  if (!spec) return [];
  return CONTAINER_FIELDS.flatMap((field) => {
    const list = spec[field];
    if (!Array.isArray(list)) return [];
    return list.flatMap((c, index) => (isRecord(c) ? [{ field, index, container: c }] : []));
  });
}

/** `container "app"`, `init container "setup"`, for messages. */
export function describeContainer(e: ContainerEntry): string {
  const label = {
    containers: 'container',
    initContainers: 'init container',
    ephemeralContainers: 'ephemeral container',
  }[e.field];
  const name = typeof e.container.name === 'string' ? e.container.name : `#${e.index}`;
  return `${label} "${name}"`;
}
