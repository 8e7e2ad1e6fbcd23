import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { projectOnto } from './diff.ts';
import { behindLastApply, freshest, inSync, recordOf } from './sync.ts';
import { workloadReadiness } from './readiness.ts';

/** kubeOP's field manager. */
const M = 'kubeop';

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
    expect(projectOnto(desired, stored, undefined)).toEqual({
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
    const record = recordOf(d, s, 'h1', M);
    const live = {
      ...s,
      metadata: { ...s.metadata, resourceVersion: '11' },
      status: { replicas: 2, readyReplicas: 2 },
    };
    expect(inSync(d, live, undefined, 'h1', M)).toBe(false);
    expect(inSync(d, live, record, 'h1', M)).toBe(true);
  });

  it('a live object with status and defaults added is in sync', () => {
    const record = recordOf(desired, stored, 'h1', M);
    const live = {
      ...stored,
      metadata: { ...stored.metadata, resourceVersion: '11' },
      status: { replicas: 2, readyReplicas: 2 },
    };
    expect(inSync(desired, live, record, 'h1', M)).toBe(true);
  });

  it('a hand edit of a field kubeOP set is drift; of a field it does not set is not', () => {
    const record = recordOf(desired, stored, 'h1', M);
    const scaled = structuredClone(stored);
    (scaled.spec as { replicas: number }).replicas = 5;
    expect(inSync(desired, scaled, record, 'h1', M)).toBe(false);
    const other = structuredClone(stored);
    (other.spec as { strategy: unknown }).strategy = { type: 'Recreate' };
    expect(inSync(desired, other, record, 'h1', M)).toBe(true);
  });

  it('a record of another rendering does not excuse a difference', () => {
    const record = recordOf(desired, stored, 'h0', M);
    expect(inSync(desired, stored, record, 'h1', M)).toBe(true); // quantities compare by value anyway
    const scaled = structuredClone(stored);
    (scaled.spec as { replicas: number }).replicas = 5;
    expect(inSync(desired, scaled, recordOf(desired, scaled, 'h0', M), 'h1', M)).toBe(false);
  });
});

describe('a cache behind kubeOP’s own apply', () => {
  const edited = { ...stored, metadata: { ...stored.metadata, resourceVersion: '12' } };
  const answer = { ...stored, metadata: { ...stored.metadata, resourceVersion: '13' } };

  it('still showing the version the apply replaced is not judged again', () => {
    const last = recordOf(desired, answer, 'h1', M, edited);
    expect(behindLastApply(edited, last, 'h1')).toBe(true);
    expect(behindLastApply(answer, last, 'h1')).toBe(false);
    // A later edit is a new version, judged as usual.
    expect(
      behindLastApply({ ...edited, metadata: { ...edited.metadata, resourceVersion: '14' } }, last, 'h1'),
    ).toBe(false);
  });

  it('a new rendering, or an apply that created the object, is never held back', () => {
    expect(behindLastApply(edited, recordOf(desired, answer, 'h1', M, edited), 'h2')).toBe(false);
    expect(behindLastApply(edited, recordOf(desired, answer, 'h1', M), 'h1')).toBe(false);
    expect(behindLastApply(edited, undefined, 'h1')).toBe(false);
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
    const last = recordOf(answer, answer, 'h', M);
    expect(workloadReadiness(cached, cached).state).toBe('Available');
    expect(workloadReadiness(freshest(cached, last), cached).state).toBe('Progressing');
  });

  it('keeps the cached object once it has caught up, or when nothing was applied', () => {
    const caught = deployment(2, 2);
    expect(freshest(caught, recordOf(caught, deployment(2, 1), 'h', M))).toBe(caught);
    expect(freshest(caught, undefined)).toBe(caught);
    expect(freshest(undefined, recordOf(caught, caught, 'h', M))).toBeUndefined();
  });
});
