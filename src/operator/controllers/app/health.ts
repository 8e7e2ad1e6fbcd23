import type { KubeObject } from '../../../schemas/kube-object.ts';
import { describeObject } from './prepare.ts';

/** Where one delivered object stands: usable, still getting there, or stuck until someone acts. */
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

const available: Readiness = { state: 'Available' };

/**
 * One object's health, per kind, after kstatus (sigs.k8s.io/cli-utils) and gitops-engine's
 * pkg/health. Pure: judged on the live object alone (`desired` only names it).
 *
 * - Deployment: the controller saw the latest spec, every replica runs the new template, old
 *   replicas are gone and the new ones are available; past its progress deadline it is Stalled.
 * - StatefulSet: every replica ready and on the update revision.
 * - Service of type LoadBalancer: an address in status.loadBalancer.ingress; other Services at once.
 * - PersistentVolumeClaim: Bound; Lost is Stalled; Pending (no volume yet, or a storage class that
 *   binds on first use) is Progressing.
 * - Ingress: available once it exists. Its address comes from an ingress controller kubeOP cannot
 *   see (a cluster may run none for the class, DNS may point elsewhere), so waiting for one could
 *   keep an App from Ready forever; the address, when published, is still no condition of Ready.
 * - Every other kind (ConfigMap, Secret, HPA, …) is available once it exists.
 */
export function objectHealth(live: KubeObject | undefined, desired: KubeObject): Readiness {
  const what = describeObject(desired);
  if (!live) return { state: 'Progressing', message: `${what} does not exist yet` };
  switch (desired.kind) {
    case 'Deployment':
    case 'StatefulSet':
      return workloadHealth(live, desired.kind, what);
    case 'Service':
      return serviceHealth(live, what);
    case 'PersistentVolumeClaim':
      return claimHealth(live, what);
    default:
      return available;
  }
}

function workloadHealth(live: KubeObject, kind: 'Deployment' | 'StatefulSet', what: string): Readiness {
  const spec = (live.spec ?? {}) as { replicas?: number };
  const st = (live.status ?? {}) as WorkloadStatus;
  const want = spec.replicas ?? 1;
  if ((st.observedGeneration ?? 0) < (live.metadata.generation ?? 0)) {
    return { state: 'Progressing', message: `${what}: waiting for the controller to see the new spec` };
  }
  if (kind === 'Deployment') {
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
    const availableReplicas = st.availableReplicas ?? 0;
    if (availableReplicas < want) {
      return { state: 'Progressing', message: `${what}: ${availableReplicas} of ${want} replicas available` };
    }
    return available;
  }
  const ready = st.readyReplicas ?? 0;
  if (ready < want) return { state: 'Progressing', message: `${what}: ${ready} of ${want} replicas ready` };
  if (st.updateRevision && st.currentRevision !== st.updateRevision) {
    return { state: 'Progressing', message: `${what}: rolling out revision ${st.updateRevision}` };
  }
  return available;
}

function serviceHealth(live: KubeObject, what: string): Readiness {
  const type = ((live.spec ?? {}) as { type?: string }).type;
  if (type !== 'LoadBalancer') return available;
  const ingress = ((live.status ?? {}) as { loadBalancer?: { ingress?: unknown[] } }).loadBalancer?.ingress;
  if (ingress?.length) return available;
  return { state: 'Progressing', message: `${what}: waiting for the load balancer to get an address` };
}

function claimHealth(live: KubeObject, what: string): Readiness {
  const phase = ((live.status ?? {}) as { phase?: string }).phase;
  if (phase === 'Bound') return available;
  if (phase === 'Lost') {
    return { state: 'Stalled', message: `${what}: its volume is lost; the claim must be recreated` };
  }
  return {
    state: 'Progressing',
    message: `${what}: waiting for a volume to be bound (${phase ?? 'Pending'})`,
  };
}
