import type { UsageEvent } from '../../schemas/billing.ts';
import { formatDecimal } from '../../domain/billing/decimal.ts';
import { LABEL_APP, LABEL_PROJECT, LABEL_TENANT } from '../../domain/naming.ts';
import { parseQuantity } from '../../domain/quantity.ts';

/**
 * What one metering tick measures, as usage events for the manager: per project namespace and app,
 * the level of each meter right now multiplied by the window length (a pod requesting 500m for a
 * 60 s window is 30 core-seconds). Pure: the caller passes what the caches and the metrics API hold.
 */
export interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}
export interface Container {
  name: string;
  resources?: { requests?: Record<string, string> };
}
export interface PodLike {
  metadata: Meta;
  spec?: { containers?: Container[]; initContainers?: Container[]; overhead?: Record<string, string> };
  status?: { phase?: string };
}
export interface PvcLike {
  metadata: Meta;
  spec?: { resources?: { requests?: Record<string, string> } };
  status?: { phase?: string; capacity?: Record<string, string> };
}
export interface ServiceLike {
  metadata: Meta;
  spec?: { type?: string };
}
export interface NamespaceLike {
  metadata: Meta;
}
/** metrics.k8s.io PodMetrics: actual use per container. */
export interface PodMetricsLike {
  metadata: Meta;
  containers?: Array<{ name: string; usage?: Record<string, string> }>;
}

/** The manager's ingestion event (one schema, schemas/billing.ts), always naming its app (or ''). */
export type UsageEventOut = Required<UsageEvent>;

export const METERING_SOURCE = 'kubeop-operator';

export interface SampleInput {
  cluster: string;
  /** Window start (ms, aligned to the interval) and length. */
  windowStart: number;
  windowSeconds: number;
  namespaces: NamespaceLike[];
  pods: PodLike[];
  pvcs: PvcLike[];
  services: ServiceLike[];
  /** Undefined when the metrics API is not served: requests alone are charged. */
  podMetrics?: PodMetricsLike[];
}

const milli = (q: string | undefined): bigint => {
  if (!q) return 0n;
  try {
    return parseQuantity(q);
  } catch {
    return 0n; // the API server validated it; an unparseable value is not ours to charge
  }
};
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** Effective request of a pod for one resource, as the scheduler counts it (milli-units). */
export function podRequest(pod: PodLike, resource: 'cpu' | 'memory'): bigint {
  const sum = (pod.spec?.containers ?? []).reduce((s, c) => s + milli(c.resources?.requests?.[resource]), 0n);
  const init = (pod.spec?.initContainers ?? []).reduce(
    (m, c) => max(m, milli(c.resources?.requests?.[resource])),
    0n,
  );
  return max(sum, init) + milli(pod.spec?.overhead?.[resource]);
}

function podUsage(m: PodMetricsLike | undefined, resource: 'cpu' | 'memory'): bigint {
  return (m?.containers ?? []).reduce((s, c) => s + milli(c.usage?.[resource]), 0n);
}

/**
 * The deterministic idempotency key of one sample: the same cluster, namespace, app, meter and
 * window always give the same key, so a tick that runs twice, a retried batch or a second operator
 * replica never count twice.
 */
export const sampleKey = (
  cluster: string,
  namespace: string,
  app: string,
  meter: string,
  windowStartIso: string,
) => `${cluster}/${namespace}/${app}/${meter}/${windowStartIso}`;

/**
 * One event per (namespace, app, meter) with usage in the window. Only namespaces labelled with a
 * tenant and project are metered; pods count while Running; cpu and memory are charged as
 * max(request, actual use) per pod (OpenCost's rule) when the metrics API has the pod.
 */
export function sample(input: SampleInput): UsageEventOut[] {
  const projects = new Map<string, { tenant: string; project: string }>();
  for (const ns of input.namespaces) {
    const tenant = ns.metadata.labels?.[LABEL_TENANT];
    const project = ns.metadata.labels?.[LABEL_PROJECT];
    if (ns.metadata.name && tenant && project) projects.set(ns.metadata.name, { tenant, project });
  }
  const usage = new Map(
    input.podMetrics?.map((m) => [`${m.metadata.namespace}/${m.metadata.name}`, m]) ?? [],
  );
  // namespace → app → meter → level (milli-units; counts ×1000)
  const levels = new Map<string, Map<string, Map<string, bigint>>>();
  const add = (
    ns: string | undefined,
    labels: Record<string, string> | undefined,
    meter: string,
    level: bigint,
  ) => {
    if (!ns || !projects.has(ns) || level <= 0n) return;
    const app = labels?.[LABEL_APP] ?? '';
    const byApp = levels.get(ns) ?? new Map<string, Map<string, bigint>>();
    levels.set(ns, byApp);
    const byMeter = byApp.get(app) ?? new Map<string, bigint>();
    byApp.set(app, byMeter);
    byMeter.set(meter, (byMeter.get(meter) ?? 0n) + level);
  };

  for (const pod of input.pods) {
    if (pod.status?.phase !== 'Running') continue;
    const { namespace, labels, name } = pod.metadata;
    const m = input.podMetrics ? usage.get(`${namespace}/${name}`) : undefined;
    add(namespace, labels, 'cpu', max(podRequest(pod, 'cpu'), podUsage(m, 'cpu')));
    add(namespace, labels, 'memory', max(podRequest(pod, 'memory'), podUsage(m, 'memory')));
    add(namespace, labels, 'pods', 1000n);
  }
  for (const pvc of input.pvcs) {
    const size =
      pvc.status?.phase === 'Bound' ? pvc.status.capacity?.storage : pvc.spec?.resources?.requests?.storage;
    add(pvc.metadata.namespace, pvc.metadata.labels, 'storage', milli(size));
  }
  for (const svc of input.services) {
    if (svc.spec?.type === 'LoadBalancer')
      add(svc.metadata.namespace, svc.metadata.labels, 'loadbalancers', 1000n);
  }

  const time = new Date(input.windowStart).toISOString();
  const seconds = BigInt(input.windowSeconds);
  const out: UsageEventOut[] = [];
  for (const [ns, byApp] of [...levels].sort(([a], [b]) => a.localeCompare(b))) {
    const { tenant, project } = projects.get(ns)!;
    for (const [app, byMeter] of [...byApp].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [meter, level] of [...byMeter].sort(([a], [b]) => a.localeCompare(b))) {
        out.push({
          key: sampleKey(input.cluster, ns, app, meter, time),
          cluster: input.cluster,
          source: METERING_SOURCE,
          tenant,
          project,
          app,
          meter,
          // milli-units × seconds → base-unit-seconds with 3 decimals, exact.
          quantity: formatDecimal(level * seconds, 3),
          time,
        });
      }
    }
  }
  return out;
}

/** Start of the window containing `nowMs`, for windows of `seconds` aligned to the epoch. */
export const windowStart = (nowMs: number, seconds: number) =>
  Math.floor(nowMs / (seconds * 1000)) * seconds * 1000;
