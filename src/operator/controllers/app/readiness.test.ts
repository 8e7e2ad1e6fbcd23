import { describe, expect, it } from 'vitest';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { deliveredUrl, revisionReadiness, workloadReadiness } from './readiness.ts';

const deployment = (status: Record<string, unknown>, replicas = 2, generation = 3): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', generation },
  spec: { replicas },
  status: { observedGeneration: generation, ...status },
});
const desired = deployment({});

describe('workload readiness', () => {
  it('a Deployment with every replica updated and available is Available', () => {
    expect(
      workloadReadiness(deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), desired),
    ).toEqual({ state: 'Available' });
  });

  it('is Progressing while replicas are missing, old ones linger or the controller lags', () => {
    expect(
      workloadReadiness(deployment({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 }), desired),
    ).toEqual({
      state: 'Progressing',
      message: 'Deployment/web: 1 of 2 replicas updated',
    });
    expect(
      workloadReadiness(deployment({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), desired).state,
    ).toBe('Progressing');
    expect(
      workloadReadiness(
        deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 2 }),
        desired,
      ).state,
    ).toBe('Progressing');
    expect(workloadReadiness(undefined, desired)).toEqual({
      state: 'Progressing',
      message: 'Deployment/web does not exist yet',
    });
  });

  it('is Stalled past the progress deadline', () => {
    const live = deployment({
      replicas: 2,
      updatedReplicas: 1,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
      ],
    });
    expect(workloadReadiness(live, desired)).toEqual({
      state: 'Stalled',
      message: 'Deployment/web: too slow',
    });
  });

  it('a StatefulSet waits for ready replicas and its update revision', () => {
    const sts = (status: Record<string, unknown>): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', generation: 1 },
      spec: { replicas: 1 },
      status: { observedGeneration: 1, ...status },
    });
    expect(workloadReadiness(sts({ readyReplicas: 0 }), sts({})).state).toBe('Progressing');
    expect(
      workloadReadiness(sts({ readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' }), sts({})).state,
    ).toBe('Progressing');
    expect(
      workloadReadiness(sts({ readyReplicas: 1, currentRevision: 'b', updateRevision: 'b' }), sts({})).state,
    ).toBe('Available');
  });

  it('other kinds are available once they exist; the first unavailable workload decides', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
    expect(revisionReadiness([cm], () => cm)).toEqual({ state: 'Available' });
    expect(revisionReadiness([cm, desired], (o) => (o.kind === 'ConfigMap' ? cm : undefined)).state).toBe(
      'Progressing',
    );
  });
});

describe('status.url', () => {
  const app = (spec: Record<string, unknown> = {}) =>
    ({ metadata: { name: 'a' }, spec: { source: { raw: { manifests: [] } }, ...spec } }) as unknown as App;

  it('comes from spec.expose when set', () => {
    expect(deliveredUrl(app({ expose: { hosts: ['shop.example.com'], tls: { mode: 'None' } } }), [])).toBe(
      'http://shop.example.com/',
    );
  });

  it('comes from the first Ingress host otherwise, https when TLS covers it', () => {
    const ingress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i' },
      spec: {
        rules: [{ host: 'a.example.com', http: { paths: [{ path: '/api' }] } }],
        tls: [{ hosts: ['a.example.com'] }],
      },
    };
    expect(deliveredUrl(app(), [ingress])).toBe('https://a.example.com/api');
    expect(deliveredUrl(app(), [])).toBeUndefined();
  });
});
