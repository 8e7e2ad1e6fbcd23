import { appUrl } from '../../../delivery/image/url.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { describeObject } from './prepare.ts';

/** Where the workloads of a revision stand: all available, still rolling out, or stuck. */
export type Readiness =
  { state: 'Available' } | { state: 'Progressing'; message: string } | { state: 'Stalled'; message: string };

interface WorkloadStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

/**
 * One workload's state, after the rules of kstatus (sigs.k8s.io/cli-utils): the controller has seen
 * the latest spec, every replica runs the new template, old replicas are gone and the new ones are
 * available. A Deployment past its progress deadline is Stalled. Kinds without a rollout (Services,
 * ConfigMaps, …) are available once they exist.
 */
export function workloadReadiness(live: KubeObject | undefined, desired: KubeObject): Readiness {
  const what = describeObject(desired);
  if (!live) return { state: 'Progressing', message: `${what} does not exist yet` };
  if (desired.kind !== 'Deployment' && desired.kind !== 'StatefulSet') return { state: 'Available' };
  const spec = (live.spec ?? {}) as { replicas?: number };
  const st = (live.status ?? {}) as WorkloadStatus;
  const want = spec.replicas ?? 1;
  if ((st.observedGeneration ?? 0) < (live.metadata.generation ?? 0)) {
    return { state: 'Progressing', message: `${what}: waiting for the controller to see the new spec` };
  }
  if (desired.kind === 'Deployment') {
    const deadline = st.conditions?.find((c) => c.type === 'Progressing');
    if (deadline?.status === 'False' && deadline.reason === 'ProgressDeadlineExceeded') {
      return { state: 'Stalled', message: `${what}: ${deadline.message ?? 'progress deadline exceeded'}` };
    }
    const updated = st.updatedReplicas ?? 0;
    if (updated < want)
      return { state: 'Progressing', message: `${what}: ${updated} of ${want} replicas updated` };
    if ((st.replicas ?? 0) > updated) {
      return {
        state: 'Progressing',
        message: `${what}: ${(st.replicas ?? 0) - updated} old replicas terminating`,
      };
    }
    const available = st.availableReplicas ?? 0;
    if (available < want) {
      return { state: 'Progressing', message: `${what}: ${available} of ${want} replicas available` };
    }
    return { state: 'Available' };
  }
  const ready = st.readyReplicas ?? 0;
  if (ready < want) return { state: 'Progressing', message: `${what}: ${ready} of ${want} replicas ready` };
  if (st.updateRevision && st.currentRevision !== st.updateRevision) {
    return { state: 'Progressing', message: `${what}: rolling out revision ${st.updateRevision}` };
  }
  return { state: 'Available' };
}

/** The first workload that is not available decides; all available means the App is. */
export function revisionReadiness(
  desired: readonly KubeObject[],
  live: (o: KubeObject) => KubeObject | undefined,
): Readiness {
  let progressing: Readiness | undefined;
  for (const o of desired) {
    const r = workloadReadiness(live(o), o);
    if (r.state === 'Stalled') return r;
    if (r.state === 'Progressing') progressing ??= r;
  }
  return progressing ?? { state: 'Available' };
}

/**
 * `status.url`: from `spec.expose` when set (the image source's rule), otherwise from the first
 * Ingress host (https when a TLS entry covers it) or HTTPRoute hostname among the objects.
 */
export function deliveredUrl(app: App, objects: readonly KubeObject[]): string | undefined {
  const exposed = appUrl(app);
  if (exposed) return exposed;
  for (const o of objects) {
    if (o.kind === 'Ingress') {
      const spec = (o.spec ?? {}) as {
        rules?: Array<{ host?: string; http?: { paths?: Array<{ path?: string }> } }>;
        tls?: Array<{ hosts?: string[] }>;
      };
      const rule = spec.rules?.find((r) => r.host);
      if (!rule?.host) continue;
      const tls = spec.tls?.some((t) => t.hosts?.includes(rule.host!)) ?? false;
      return `${tls ? 'https' : 'http'}://${rule.host}${rule.http?.paths?.[0]?.path ?? '/'}`;
    }
    if (o.kind === 'HTTPRoute') {
      const host = ((o.spec ?? {}) as { hostnames?: string[] }).hostnames?.[0];
      if (host) return `https://${host}/`;
    }
  }
  return undefined;
}
