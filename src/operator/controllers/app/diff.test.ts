import { describe, expect, it } from 'vitest';
import type { KubeObject, ObjectMeta } from '../../../schemas/kube-object.ts';
import { driftPaths, listShape, ownedFields, projectOnto } from './diff.ts';

const M = 'kubeop';

/** What kubeOP applies: a Deployment with one container, a label and an annotation. */
function desired(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'acme-web',
      labels: { 'paas.kubeop.io/app': 'web', tier: 'front' },
      annotations: { 'paas.kubeop.io/applied-hash': 'abc' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { run: 'web' } },
      template: {
        metadata: { labels: { run: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'registry.example/app:1',
              ports: [{ containerPort: 8080 }],
              resources: { requests: { cpu: 0.5, memory: '64Mi' } },
              args: ['--listen', ':8080'],
            },
          ],
        },
      },
    },
  };
}

/** kubeOP's Apply entry, as the API server records it for desired(). */
const kubeopFields = {
  'f:metadata': {
    'f:annotations': { 'f:paas.kubeop.io/applied-hash': {} },
    'f:labels': { 'f:paas.kubeop.io/app': {}, 'f:tier': {} },
  },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:metadata': { 'f:labels': { 'f:run': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"app"}': {
            '.': {},
            'f:args': {},
            'f:image': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            'f:resources': { 'f:requests': { 'f:cpu': {}, 'f:memory': {} } },
          },
        },
      },
    },
  },
};

interface Entry {
  manager: string;
  operation: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  subresource?: string;
  fieldsV1: Record<string, unknown>;
}
type Live = KubeObject & { metadata: ObjectMeta & { managedFields?: Entry[] } };

/**
 * The live Deployment as the API server returns it after a mutating webhook (manager
 * "sidecar-injector") appended a sidecar and an annotation: defaults filled in, quantities
 * normalised, status and managedFields present.
 */
function live(): Live {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'acme-web',
      uid: '0d8f7c0e-6f3b-4b8e-9d55-2a7d1c3e9b10',
      resourceVersion: '48213',
      generation: 1,
      labels: { 'paas.kubeop.io/app': 'web', tier: 'front' },
      annotations: {
        'paas.kubeop.io/applied-hash': 'abc',
        'deployment.kubernetes.io/revision': '1',
        'sidecar.example/injected': 'true',
      },
      managedFields: [
        {
          manager: M,
          operation: 'Apply',
          apiVersion: 'apps/v1',
          time: '2026-12-01T22:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: kubeopFields,
        },
        {
          manager: 'sidecar-injector',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: '2026-12-01T22:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { 'f:sidecar.example/injected': {} } },
            'f:spec': {
              'f:template': {
                'f:spec': {
                  'f:containers': {
                    'k:{"name":"proxy"}': { '.': {}, 'f:image': {}, 'f:name': {} },
                  },
                },
              },
            },
          },
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          subresource: 'status',
          apiVersion: 'apps/v1',
          time: '2026-12-01T22:00:05Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:replicas': {} } },
        },
      ],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { run: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { run: 'web' } },
        spec: {
          containers: [
            { name: 'proxy', image: 'registry.example/proxy:2', imagePullPolicy: 'IfNotPresent' },
            {
              name: 'app',
              image: 'registry.example/app:1',
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              resources: { requests: { cpu: '500m', memory: '64Mi' } },
              args: ['--listen', ':8080'],
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
            },
          ],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
        },
      },
    },
    status: { observedGeneration: 1, replicas: 2 },
  };
}

type Container = { name: string; image?: string; args?: string[]; resources?: { requests: { cpu: string } } };
const containersOf = (o: KubeObject) =>
  (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;

const drift = (d: KubeObject, l: KubeObject) => driftPaths(d, l, listShape(l, M));

describe('drift on the fields kubeOP owns', () => {
  it('reads the Apply entry of kubeOP’s manager, not the entries of others or of status', () => {
    expect(ownedFields(live(), M)).toEqual(kubeopFields);
    expect(ownedFields(live(), 'sidecar-injector')).toBeUndefined(); // an Update, not an Apply
    expect(ownedFields(live(), 'kube-controller-manager')).toBeUndefined();
  });

  it('a sidecar and an annotation added by another manager are not drift', () => {
    expect(drift(desired(), live())).toEqual([]);
  });

  it('is no drift either when the webhook mutated kubeOP’s own apply, leaving its additions unowned', () => {
    // What kube-apiserver 1.37 records when a mutating webhook changes a server-side apply request
    // (seen in test/e2e/app-drift.test.ts): the sidecar and the annotation belong to no manager.
    const l = live();
    l.metadata.managedFields = l.metadata.managedFields!.filter((e) => e.manager !== 'sidecar-injector');
    expect(drift(desired(), l)).toEqual([]);
    containersOf(l)[1]!.image = 'registry.example/app:2';
    expect(drift(desired(), l)).toEqual(['spec.template.spec.containers[name=app].image']);
  });

  it('kubeOP’s container image changed by another manager is drift, wherever the container sits', () => {
    const l = live();
    containersOf(l)[1]!.image = 'registry.example/app:evil';
    expect(drift(desired(), l)).toEqual(['spec.template.spec.containers[name=app].image']);
  });

  it('kubeOP’s container removed is drift', () => {
    const l = live();
    containersOf(l).splice(1, 1);
    expect(drift(desired(), l)).toEqual(['spec.template.spec.containers[name=app]']);
  });

  it('kubeOP’s label removed or changed is drift; a label added by someone else is not', () => {
    const removed = live();
    delete removed.metadata.labels!.tier;
    expect(drift(desired(), removed)).toEqual(['metadata.labels.tier']);
    const changed = live();
    changed.metadata.labels!.tier = 'back';
    expect(drift(desired(), changed)).toEqual(['metadata.labels.tier']);
    const added = live();
    added.metadata.labels!.team = 'payments';
    expect(drift(desired(), added)).toEqual([]);
  });

  it('an atomic list (args) must match as a whole', () => {
    const l = live();
    containersOf(l)[1]!.args = ['--listen', ':8080', '--debug'];
    expect(drift(desired(), l)).toEqual(['spec.template.spec.containers[name=app].args']);
  });

  it('quantities compare by value and defaulted key fields (protocol) still match', () => {
    expect(drift(desired(), live())).toEqual([]);
    const l = live();
    containersOf(l)[1]!.resources!.requests.cpu = '600m';
    expect(drift(desired(), l)).toEqual(['spec.template.spec.containers[name=app].resources.requests.cpu']);
  });

  it('without managedFields lists are atomic: an added item is drift, as before', () => {
    const l = live();
    delete l.metadata.managedFields;
    expect(drift(desired(), l)).toEqual(['spec.template.spec.containers']);
  });

  it('learns list keys from another manager’s entry when kubeOP’s lost the list', () => {
    const l = live();
    const entries = l.metadata.managedFields!;
    entries.splice(0, 1);
    entries.push({
      manager: 'kubectl-edit',
      operation: 'Update',
      fieldsV1: kubeopFields,
    });
    expect(drift(desired(), l)).toEqual([]);
  });

  it('a set list (finalizers) needs kubeOP’s values present, in any order', () => {
    const d: KubeObject = { ...desired(), metadata: { ...desired().metadata, finalizers: ['a.example/x'] } };
    const l = live();
    l.metadata.finalizers = ['other.example/y', 'a.example/x'];
    const entries = l.metadata.managedFields!;
    entries[0]!.fieldsV1 = {
      ...kubeopFields,
      'f:metadata': { ...kubeopFields['f:metadata'], 'f:finalizers': { '.': {}, 'v:"a.example/x"': {} } },
    };
    expect(drift(d, l)).toEqual([]);
    l.metadata.finalizers = ['other.example/y'];
    expect(drift(d, l)).toEqual(['metadata.finalizers']);
  });

  it('projects the stored object onto kubeOP’s fields, list items by key', () => {
    const p = projectOnto(desired(), live(), listShape(live(), M)) as KubeObject;
    expect(containersOf(p)).toEqual([
      {
        name: 'app',
        image: 'registry.example/app:1',
        ports: [{ containerPort: 8080 }],
        resources: { requests: { cpu: '500m', memory: '64Mi' } },
        args: ['--listen', ':8080'],
      },
    ]);
    expect(p.metadata.annotations).toEqual({ 'paas.kubeop.io/applied-hash': 'abc' });
  });
});
