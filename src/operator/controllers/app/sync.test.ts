import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { freshest, inSync, projectOnto, recordOf } from './sync.ts';
import { workloadReadiness } from './readiness.ts';

const desired: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [{ name: 'a', resources: { requests: { cpu: 0.5 } }, ports: [{ containerPort: 80 }] }],
      },
    },
  },
};
/** What the API server stores: normalised quantity, defaulted fields, status. */
const stored: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', resourceVersion: '10', generation: 1 },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate' },
    template: {
      spec: {
        containers: [
          {
            name: 'a',
            resources: { requests: { cpu: '500m' } },
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            imagePullPolicy: 'Always',
          },
        ],
      },
    },
  },
  status: { replicas: 2 },
};

describe('drift judgement', () => {
  it('projects the stored object onto the fields kubeOP set', () => {
    expect(projectOnto(desired, stored)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              { name: 'a', resources: { requests: { cpu: '500m' } }, ports: [{ containerPort: 80 }] },
            ],
          },
        },
      },
    });
  });

  it('a live object that only differs by the server normalisation and status is in sync', () => {
    // `schedule` stands for any rewrite the API server makes that a value comparison cannot see.
    const d = { ...desired, spec: { ...(desired.spec as object), schedule: '@hourly' } };
    const s = { ...stored, spec: { ...(stored.spec as object), schedule: '0 * * * *' } };
    const record = recordOf(d, s, 'h1');
    const live = {
      ...s,
      metadata: { ...s.metadata, resourceVersion: '11' },
      status: { replicas: 2, readyReplicas: 2 },
    };
    expect(inSync(d, live, undefined, 'h1')).toBe(false);
    expect(inSync(d, live, record, 'h1')).toBe(true);
  });

  it('a live object with status and defaults added is in sync', () => {
    const record = recordOf(desired, stored, 'h1');
    const live = {
      ...stored,
      metadata: { ...stored.metadata, resourceVersion: '11' },
      status: { replicas: 2, readyReplicas: 2 },
    };
    expect(inSync(desired, live, record, 'h1')).toBe(true);
  });

  it('a hand edit of a field kubeOP set is drift; of a field it does not set is not', () => {
    const record = recordOf(desired, stored, 'h1');
    const scaled = structuredClone(stored);
    (scaled.spec as { replicas: number }).replicas = 5;
    expect(inSync(desired, scaled, record, 'h1')).toBe(false);
    const other = structuredClone(stored);
    (other.spec as { strategy: unknown }).strategy = { type: 'Recreate' };
    expect(inSync(desired, other, record, 'h1')).toBe(true);
  });

  it('a record of another rendering does not excuse a difference', () => {
    const record = recordOf(desired, stored, 'h0');
    expect(inSync(desired, stored, record, 'h1')).toBe(true); // quantities compare by value anyway
    const scaled = structuredClone(stored);
    (scaled.spec as { replicas: number }).replicas = 5;
    expect(inSync(desired, scaled, recordOf(desired, scaled, 'h0'), 'h1')).toBe(false);
  });
});

describe('readiness right after an apply', () => {
  const deployment = (generation: number, observedGeneration: number): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', generation },
    spec: { replicas: 1 },
    status: { observedGeneration, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
  });

  it('judges a cached object older than the apply as not yet observed, never as available', () => {
    const cached = deployment(1, 1);
    const answer = deployment(2, 1);
    const last = recordOf(answer, answer, 'h');
    expect(workloadReadiness(cached, cached).state).toBe('Available');
    expect(workloadReadiness(freshest(cached, last), cached).state).toBe('Progressing');
  });

  it('keeps the cached object once it has caught up, or when nothing was applied', () => {
    const caught = deployment(2, 2);
    expect(freshest(caught, recordOf(caught, deployment(2, 1), 'h'))).toBe(caught);
    expect(freshest(caught, undefined)).toBe(caught);
    expect(freshest(undefined, recordOf(caught, caught, 'h'))).toBeUndefined();
  });
});
