import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  fakeView,
  pod,
  project,
  request,
  ruleContext,
} from '../../../test/support/admission-fixtures.ts';
import { toResponse } from '../review.ts';
import { mutatePod } from './pod-defaults.ts';

type Pod = {
  metadata: Record<string, unknown> & { labels?: Record<string, string> };
  spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> };
};

function mutated(obj: Record<string, unknown>, ctx = ruleContext()): Pod {
  const d = mutatePod(request('Pod', obj), ctx);
  if (!d.allowed) throw new Error('denied');
  return applyJsonPatch(obj, d.patch ?? []) as Pod;
}

describe('pod defaults', () => {
  it('fills in a restricted security context, resources, pull policy and labels for a bare pod', () => {
    const out = mutated(pod());
    expect(out.metadata).toEqual({
      name: 'p',
      namespace: 'acme-web-1a2b3c4d',
      labels: { 'paas.kubeop.io/tenant': 'acme', 'paas.kubeop.io/project': 'web' },
    });
    expect(out.spec).toEqual({
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'ghcr.io/acme/web:1',
          imagePullPolicy: 'Always',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        },
      ],
    });
  });

  it('never overrides explicit values, safe or not (Pod Security refuses the unsafe ones)', () => {
    const explicit = pod(
      {
        securityContext: {
          runAsNonRoot: false,
          seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
        },
        containers: [
          {
            name: 'app',
            image: 'ghcr.io/acme/web:1',
            imagePullPolicy: 'Always',
            securityContext: {
              allowPrivilegeEscalation: true,
              capabilities: { drop: ['NET_RAW'], add: ['NET_BIND_SERVICE'] },
            },
            resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
          },
        ],
      },
      { labels: { 'paas.kubeop.io/tenant': 'acme', 'paas.kubeop.io/project': 'web' } },
    );
    expect(mutatePod(request('Pod', explicit), ruleContext())).toEqual({ allowed: true, patch: [] });
  });

  it('fills in the parts that are missing next to explicit ones', () => {
    const partial = pod({
      securityContext: { runAsUser: 1000 },
      containers: [
        {
          name: 'app',
          image: 'ghcr.io/acme/web:1',
          securityContext: { readOnlyRootFilesystem: true, capabilities: {} },
          resources: { limits: { memory: '64Mi' } },
        },
      ],
    });
    const out = mutated(partial);
    expect(out.spec.securityContext).toEqual({
      runAsUser: 1000,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(out.spec.containers[0]).toMatchObject({
      securityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      },
      // The default memory request (128Mi) would exceed the explicit limit: left for the API server.
      resources: { requests: { cpu: '100m' }, limits: { memory: '64Mi', cpu: '500m' } },
    });
  });

  it('takes resources from the project limits', () => {
    const ctx = ruleContext(
      fakeView({
        projects: [
          project('web', 'acme', { limits: { defaultRequest: { cpu: '50m' }, default: { memory: '1Gi' } } }),
        ],
      }),
    );
    expect(mutated(pod(), ctx).spec.containers[0]!.resources).toEqual({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '1Gi' },
    });
  });

  it('leaves digest-pinned images and the Keep policy alone, and forces Always over IfNotPresent', () => {
    const digest = 'ghcr.io/acme/web@sha256:' + 'b'.repeat(64);
    const obj = pod({
      containers: [
        { name: 'pinned', image: digest, imagePullPolicy: 'IfNotPresent' },
        { name: 'tagged', image: 'ghcr.io/acme/web:1', imagePullPolicy: 'IfNotPresent' },
      ],
    });
    expect(mutated(obj).spec.containers.map((c) => c.imagePullPolicy)).toEqual(['IfNotPresent', 'Always']);
    expect(
      mutated(obj, ruleContext(undefined, { imagePullPolicy: 'Keep' })).spec.containers.map(
        (c) => c.imagePullPolicy,
      ),
    ).toEqual(['IfNotPresent', 'IfNotPresent']);
  });

  it('does not set allowPrivilegeEscalation where the API server forbids it, nor Linux fields on Windows', () => {
    const obj = pod({
      containers: [
        { name: 'priv', image: 'ghcr.io/acme/a:1', securityContext: { privileged: true } },
        {
          name: 'admin',
          image: 'ghcr.io/acme/a:1',
          securityContext: { capabilities: { add: ['SYS_ADMIN'] } },
        },
      ],
    });
    const out = mutated(obj);
    expect(out.spec.containers.map((c) => c.securityContext)).toEqual([
      { privileged: true, capabilities: { drop: ['ALL'] } },
      { capabilities: { add: ['SYS_ADMIN'], drop: ['ALL'] } },
    ]);
    const win = mutated(pod({ os: { name: 'windows' } }));
    expect(win.spec.securityContext).toEqual({ runAsNonRoot: true });
    expect(win.spec.containers[0]!.securityContext).toBeUndefined();
  });

  it("corrects kubeOP's labels and keeps the pod's own", () => {
    const out = mutated(pod({}, { labels: { app: 'web', 'paas.kubeop.io/tenant': 'globex' } }));
    expect(out.metadata.labels).toEqual({
      app: 'web',
      'paas.kubeop.io/tenant': 'acme',
      'paas.kubeop.io/project': 'web',
    });
  });

  it('is idempotent: a mutated pod needs no further patch (safe to reinvoke)', () => {
    const once = mutated(pod({ initContainers: [{ name: 'init', image: 'busybox' }] }));
    expect(mutatePod(request('Pod', once), ruleContext())).toEqual({ allowed: true, patch: [] });
  });

  it('answers with a base64 JSONPatch', () => {
    const d = mutatePod(request('Pod', pod()), ruleContext());
    const r = toResponse('u1', d);
    expect(r.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(r.patch!, 'base64').toString())).toEqual(d.allowed && d.patch);
  });

  it('ignores anything but pod creation', () => {
    expect(mutatePod(request('Pod', pod(), { operation: 'UPDATE' }), ruleContext())).toEqual({
      allowed: true,
    });
  });
});
