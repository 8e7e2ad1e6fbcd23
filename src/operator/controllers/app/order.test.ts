import { describe, expect, it } from 'vitest';
import { applyOrder, kindRank, pruneOrder } from './order.ts';

const o = (kind: string, name = 'x') => ({ kind, metadata: { name } });
const names = (list: Array<{ kind: string; metadata: { name: string } }>) =>
  list.map((x) => `${x.kind}/${x.metadata.name}`);

describe('apply order', () => {
  it('applies config and RBAC, then Services, then workloads, then what points at them', () => {
    const rendered = [
      o('Ingress', 'web'),
      o('HorizontalPodAutoscaler', 'web'),
      o('Deployment', 'web'),
      o('Service', 'web'),
      o('PodDisruptionBudget', 'web'),
      o('ConfigMap', 'settings'),
      o('RoleBinding', 'reader'),
      o('StatefulSet', 'db'),
      o('PersistentVolumeClaim', 'data'),
      o('Secret', 'creds'),
      o('Role', 'reader'),
      o('ServiceAccount', 'web'),
      o('NetworkPolicy', 'allow'),
      o('HTTPRoute', 'web'),
    ];
    expect(names(applyOrder(rendered))).toEqual([
      'ServiceAccount/web',
      'Secret/creds',
      'ConfigMap/settings',
      'Role/reader',
      'RoleBinding/reader',
      'NetworkPolicy/allow',
      'PersistentVolumeClaim/data',
      'Service/web',
      'Deployment/web',
      'StatefulSet/db',
      'Ingress/web',
      'HTTPRoute/web',
      'HorizontalPodAutoscaler/web',
      'PodDisruptionBudget/web',
    ]);
  });

  it('is the same whatever order the source rendered in: by name within a kind, unknown kinds last', () => {
    const a = [o('Widget', 'w'), o('ConfigMap', 'b'), o('ConfigMap', 'a'), o('Deployment', 'z')];
    const b = [...a].reverse();
    expect(names(applyOrder(a))).toEqual(['ConfigMap/a', 'ConfigMap/b', 'Deployment/z', 'Widget/w']);
    expect(applyOrder(b)).toEqual(applyOrder(a));
    expect(kindRank('Widget')).toBeGreaterThan(kindRank('PodDisruptionBudget'));
  });

  it('prunes in the reverse order and leaves its input alone', () => {
    const input = [o('ConfigMap'), o('Deployment'), o('Service')];
    expect(names(pruneOrder(input))).toEqual(['Deployment/x', 'Service/x', 'ConfigMap/x']);
    expect(names(input)).toEqual(['ConfigMap/x', 'Deployment/x', 'Service/x']);
  });
});
