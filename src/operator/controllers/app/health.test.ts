import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { objectHealth } from './health.ts';

const obj = (kind: string, spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name: 'x', generation: 1 },
  spec,
  status,
});

describe('health per kind', () => {
  it('nothing live is Progressing, whatever the kind', () => {
    expect(objectHealth(undefined, obj('ConfigMap', {}, {}))).toEqual({
      state: 'Progressing',
      message: 'ConfigMap/x does not exist yet',
    });
  });

  it('a Deployment is Available only when its rollout is complete, Stalled past its deadline', () => {
    const d = (status: Record<string, unknown>) =>
      obj('Deployment', { replicas: 2 }, { observedGeneration: 1, ...status });
    expect(objectHealth(d({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), d({})).state).toBe(
      'Available',
    );
    expect(objectHealth(d({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), d({}))).toEqual({
      state: 'Progressing',
      message: 'Deployment/x: 1 old replicas terminating',
    });
    const stuck = d({
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'late' },
      ],
    });
    expect(objectHealth(stuck, stuck)).toEqual({ state: 'Stalled', message: 'Deployment/x: late' });
  });

  it('a StatefulSet needs every replica ready on the update revision', () => {
    const s = (status: Record<string, unknown>) =>
      obj('StatefulSet', { replicas: 2 }, { observedGeneration: 1, readyReplicas: 2, ...status });
    expect(objectHealth(s({ currentRevision: 'a', updateRevision: 'a' }), s({})).state).toBe('Available');
    expect(objectHealth(s({ currentRevision: 'a', updateRevision: 'b' }), s({}))).toEqual({
      state: 'Progressing',
      message: 'StatefulSet/x: rolling out revision b',
    });
  });

  it('a LoadBalancer Service waits for an address; other Services are Available at once', () => {
    const lb = (status: Record<string, unknown>) => obj('Service', { type: 'LoadBalancer' }, status);
    expect(objectHealth(lb({ loadBalancer: {} }), lb({}))).toEqual({
      state: 'Progressing',
      message: 'Service/x: waiting for the load balancer to get an address',
    });
    expect(objectHealth(lb({ loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } }), lb({})).state).toBe(
      'Available',
    );
    const plain = obj('Service', { type: 'ClusterIP' }, {});
    expect(objectHealth(plain, plain).state).toBe('Available');
  });

  it('a PersistentVolumeClaim is Available when Bound, Progressing while Pending, Stalled when Lost', () => {
    const pvc = (phase?: string) => obj('PersistentVolumeClaim', {}, phase ? { phase } : {});
    expect(objectHealth(pvc('Bound'), pvc()).state).toBe('Available');
    expect(objectHealth(pvc('Pending'), pvc())).toEqual({
      state: 'Progressing',
      message: 'PersistentVolumeClaim/x: waiting for a volume to be bound (Pending)',
    });
    expect(objectHealth(pvc('Lost'), pvc()).state).toBe('Stalled');
  });

  it('an Ingress is Available once it exists, with or without an address', () => {
    const ing = (status: Record<string, unknown>) => obj('Ingress', {}, status);
    expect(objectHealth(ing({}), ing({})).state).toBe('Available');
    expect(
      objectHealth(ing({ loadBalancer: { ingress: [{ hostname: 'lb.example' }] } }), ing({})).state,
    ).toBe('Available');
  });
});
