import { describe, expect, it } from 'vitest';
import { SourceError } from '../../../delivery/source.ts';
import { appLabelValue, LABEL_APP } from '../../../domain/naming.ts';
import { resourceType } from '../../../kube/resources.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { DEPLOYER, renderRoles } from '../project/rbac.ts';
import { DELIVERABLE_KINDS } from './kinds.ts';
import { checkObjects, prepareObjects } from './prepare.ts';

const NS = 'acme-web-12345678';
const app = {
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'App',
  metadata: { name: 'shop', namespace: NS, uid: 'uid-1', generation: 1 },
  spec: { source: { raw: { manifests: [] } } },
} as unknown as App;

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  extra: Partial<KubeObject> = {},
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name },
  ...extra,
});

function refusal(objects: KubeObject[]): SourceError {
  try {
    checkObjects(objects, NS);
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('what an App may deliver', () => {
  it('is exactly what the deployer Role grants, each kind known to the client', () => {
    const role = renderRoles(NS, {}).find((r) => r.metadata.name === DEPLOYER)!;
    const rules = role.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    for (const k of DELIVERABLE_KINDS) {
      const r = resourceType(k.apiVersion, k.kind);
      const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0]! : '';
      const verbs = rules
        .filter((x) => x.apiGroups.includes(group) && x.resources.includes(r.plural))
        .flatMap((x) => x.verbs);
      expect(verbs, k.kind).toEqual(expect.arrayContaining(['get', 'create', 'patch', 'delete']));
      expect(r.namespaced).toBe(true);
    }
  });

  it('refuses a cluster-scoped object and says why', () => {
    const err = refusal([
      obj('v1', 'ConfigMap', 'ok'),
      obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'admin2'),
    ]);
    expect(err.reason).toBe('ForbiddenObject');
    expect(err.message).toBe(
      `rbac.authorization.k8s.io/v1 ClusterRole/admin2 is cluster-scoped; an App may only create objects inside its project namespace ${NS}`,
    );
  });

  it('refuses an object of another namespace', () => {
    const err = refusal([obj('v1', 'ConfigMap', 'c', { metadata: { name: 'c', namespace: 'kube-system' } })]);
    expect(err.reason).toBe('ForbiddenObject');
    expect(err.message).toContain(
      'names namespace kube-system; an App may only create objects in its own namespace',
    );
  });

  it('accepts an object that names its own namespace', () => {
    expect(() =>
      checkObjects([obj('v1', 'ConfigMap', 'c', { metadata: { name: 'c', namespace: NS } })], NS),
    ).not.toThrow();
  });

  it('refuses kinds the deployer may not own, listing those it may', () => {
    const err = refusal([obj('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rb')]);
    expect(err.reason).toBe('ForbiddenObject');
    expect(err.message).toContain(
      'an App may not create RoleBinding; the kinds it may create are Deployment, StatefulSet',
    );
  });

  it('names the supported apiVersion of a known kind given at another', () => {
    expect(refusal([obj('autoscaling/v1', 'HorizontalPodAutoscaler', 'h')]).message).toContain(
      'kubeOP delivers HorizontalPodAutoscaler as apiVersion autoscaling/v2',
    );
  });

  it('refuses the same object twice', () => {
    const err = refusal([obj('v1', 'ConfigMap', 'c'), obj('v1', 'ConfigMap', 'c')]);
    expect(err.reason).toBe('InvalidManifests');
    expect(err.message).toBe('v1 ConfigMap/c appears more than once');
  });
});

describe('prepareObjects', () => {
  it('labels the pods of every workload kind with the App, leaving selectors alone', () => {
    type Tpl = {
      selector?: unknown;
      template: { metadata: { labels: Record<string, string> } };
      jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } };
    };
    const template = { metadata: { labels: { app: 'site' } }, spec: { containers: [] } };
    const workloads = [
      obj('apps/v1', 'Deployment', 'd', { spec: { selector: { matchLabels: { app: 'site' } }, template } }),
      obj('apps/v1', 'StatefulSet', 's', { spec: { selector: { matchLabels: { app: 'site' } }, template } }),
      obj('batch/v1', 'Job', 'j', { spec: { template: { spec: { containers: [] } } } }),
      obj('batch/v1', 'CronJob', 'c', { spec: { schedule: '@daily', jobTemplate: { spec: { template } } } }),
    ];
    const out = prepareObjects(workloads, app, NS) as unknown as Array<{ spec: Tpl }>;
    expect(out[0]!.spec.template.metadata.labels).toEqual({ app: 'site', [LABEL_APP]: 'shop' });
    expect(out[0]!.spec.selector).toEqual({ matchLabels: { app: 'site' } });
    expect(out[1]!.spec.template.metadata.labels).toEqual({ app: 'site', [LABEL_APP]: 'shop' });
    expect(out[2]!.spec.template.metadata.labels).toEqual({ [LABEL_APP]: 'shop' });
    expect(out[3]!.spec.jobTemplate.spec.template.metadata.labels).toEqual({
      app: 'site',
      [LABEL_APP]: 'shop',
    });
    // The input is not changed.
    expect(template.metadata.labels).toEqual({ app: 'site' });
  });

  it('forces the namespace, labels the App, makes the App the owner and drops server fields', () => {
    const [out] = prepareObjects(
      [
        obj('v1', 'ConfigMap', 'c', {
          metadata: {
            name: 'c',
            labels: { team: 'a', [LABEL_APP]: 'someone-else' },
            annotations: { note: 'x' },
            uid: 'stale',
            resourceVersion: '42',
            ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' }],
          },
          data: { k: 'v' },
          status: { anything: true },
        }),
      ],
      app,
      NS,
    );
    expect(out).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        namespace: NS,
        labels: { team: 'a', [LABEL_APP]: 'shop' },
        annotations: { note: 'x' },
        ownerReferences: [
          {
            apiVersion: 'paas.kubeop.io/v1alpha1',
            kind: 'App',
            name: 'shop',
            uid: 'uid-1',
            controller: true,
          },
        ],
      },
      data: { k: 'v' },
    });
  });

  it('labels with a valid label value for the longest App names', () => {
    const long = `a.${'b'.repeat(200)}`;
    const v = appLabelValue(long);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(appLabelValue(`${long}x`)).not.toBe(v);
  });
});
