import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resourceType } from '../../../src/kube/resources.ts';
import { DELIVERABLE_KINDS } from '../../../src/operator/controllers/app/kinds.ts';
import { PROJECT_OWNED_KINDS } from '../../../src/operator/controllers/project/controller.ts';
import { DEPLOYER, ROLE_NAMES } from '../../../src/operator/controllers/project/rbac.ts';

// The operator's reviewed RBAC list against what the controllers are written to do: a controller
// that starts watching or writing a new kind fails here until the list (and its review) says so.
// Whether the list is enough on a real API server is test/e2e/chart.test.ts.
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const rules = parse(
  readFileSync(
    new URL('../../../deploy/chart/kubeop/files/operator-clusterrole-rules.yaml', import.meta.url),
    'utf8',
  ),
) as Rule[];

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
function allows(apiVersion: string, kind: string, verb: string, name?: string): boolean {
  const plural = resourceType(apiVersion, kind).plural;
  return rules.some(
    (r) =>
      r.apiGroups.includes(group(apiVersion)) &&
      r.resources.includes(plural) &&
      r.verbs.includes(verb) &&
      (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))),
  );
}

describe("the operator's reviewed RBAC list", () => {
  it('lets the operator watch every kind an App may deliver', () => {
    for (const { apiVersion, kind } of DELIVERABLE_KINDS) {
      for (const verb of ['list', 'watch'])
        expect(allows(apiVersion, kind, verb), `${verb} ${kind}`).toBe(true);
    }
  });

  it('never lets the operator write a delivered kind as itself, except its own revision Secrets', () => {
    for (const { apiVersion, kind } of DELIVERABLE_KINDS) {
      if (kind === 'Secret' || kind === 'ServiceAccount') continue;
      for (const verb of ['create', 'update', 'patch', 'delete']) {
        expect(allows(apiVersion, kind, verb), `${verb} ${kind}`).toBe(false);
      }
    }
  });

  it('lets the operator apply and prune every kind a Project owns', () => {
    for (const { apiVersion, kind } of [
      ...PROJECT_OWNED_KINDS,
      { apiVersion: 'v1', kind: 'ResourceQuota' },
    ]) {
      for (const verb of ['list', 'watch', 'create', 'patch', 'delete']) {
        expect(allows(apiVersion, kind, verb), `${verb} ${kind}`).toBe(true);
      }
    }
  });

  it('escalates and binds exactly the Roles a project renders, and impersonates only the deployer', () => {
    const roles = [...Object.values(ROLE_NAMES), DEPLOYER];
    for (const role of roles) {
      expect(allows('rbac.authorization.k8s.io/v1', 'Role', 'escalate', role), role).toBe(true);
      expect(allows('rbac.authorization.k8s.io/v1', 'Role', 'bind', role), role).toBe(true);
    }
    expect(allows('rbac.authorization.k8s.io/v1', 'Role', 'escalate', 'cluster-admin')).toBe(false);
    expect(rules.filter((r) => r.resources.includes('clusterroles'))).toEqual([]);
    const impersonation = rules.filter((r) => r.verbs.includes('impersonate'));
    expect(impersonation).toEqual([
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'], resourceNames: [DEPLOYER] },
    ]);
  });

  it('grants no wildcard and nothing cluster-scoped beyond namespaces and kubeOP resources', () => {
    for (const r of rules) {
      expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
    }
    expect(
      rules.some((r) =>
        r.resources.some((res) =>
          /clusterrole|webhookconfiguration|nodes|customresourcedefinition/.test(res),
        ),
      ),
    ).toBe(false);
  });
});
