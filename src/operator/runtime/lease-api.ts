import { V1MicroTime, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { isNotFound, KubeClient, type KubeTransport } from '../../kube/client.ts';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * Reads and writes one coordination.k8s.io/v1 Lease on the process's one transport (and its one
 * error type, KubeApiError), for leader election. The Lease's times travel as RFC 3339 strings with
 * microseconds (metav1.MicroTime); callers see them as V1MicroTime, as the pure lease functions do.
 */
export interface LeaseApi {
  /** The Lease, or undefined when there is none. */
  read(): Promise<V1Lease | undefined>;
  /** Replaces the Lease; its resourceVersion is the precondition (409 when someone wrote first). */
  replace(lease: V1Lease): Promise<V1Lease>;
  create(spec: V1LeaseSpec): Promise<V1Lease>;
}

const TIME_FIELDS = ['acquireTime', 'renewTime'] as const;

/** `2030-01-02T03:04:05.678000Z`: MicroTime's wire form (six fractional digits). */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

type WireSpec = Omit<V1LeaseSpec, 'acquireTime' | 'renewTime'> & { acquireTime?: string; renewTime?: string };
type WireLease = Omit<V1Lease, 'spec'> & { spec?: WireSpec };

function fromWire(lease: WireLease): V1Lease {
  const { spec, ...rest } = lease;
  if (!spec) return rest;
  const out: V1LeaseSpec = { ...spec, acquireTime: undefined, renewTime: undefined };
  for (const f of TIME_FIELDS) {
    const v = spec[f];
    if (v) out[f] = new V1MicroTime(Date.parse(v));
    else delete out[f];
  }
  return { ...rest, spec: out };
}

function toWire(lease: V1Lease): WireLease {
  const { spec, ...rest } = lease;
  if (!spec) return rest;
  const out: WireSpec = { ...spec, acquireTime: undefined, renewTime: undefined };
  for (const f of TIME_FIELDS) {
    const v = spec[f];
    if (v) out[f] = microTime(v);
    else delete out[f];
  }
  return { ...rest, spec: out };
}

export function leaseApi(kube: KubeConfig | KubeTransport, namespace: string, name: string): LeaseApi {
  const client = new KubeClient(kube, { fieldManager: 'kubeop-operator' });
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return {
    async read() {
      try {
        return fromWire(await client.request<WireLease>('GET', `${path}/${encodeURIComponent(name)}`));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async replace(lease) {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...toWire(lease) };
      return fromWire(
        await client.request<WireLease>('PUT', `${path}/${encodeURIComponent(name)}`, { body }),
      );
    },
    async create(spec) {
      const body = toWire({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec,
      });
      return fromWire(await client.request<WireLease>('POST', path, { body }));
    },
  };
}
