import { projectNamespace } from '../../domain/naming.ts';
import { API_VERSION } from '../../schemas/crds/definitions.ts';
import type { App, Project, Tenant } from '../../schemas/crds/types.ts';
import type { AppSpec } from '../../schemas/crds/app.ts';
import type { ProjectSpec } from '../../schemas/crds/project.ts';
import type { TenantSpec } from '../../schemas/crds/tenant.ts';

/** The custom resources the manager delivers to clusters for what is stored in its database. */
const labels = { 'app.kubernetes.io/managed-by': 'kubeop-manager' };

export function tenantCr(name: string, spec: TenantSpec): Tenant {
  return { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name, labels }, spec };
}

export function projectCr(tenant: string, name: string, spec: Omit<ProjectSpec, 'tenantRef'>): Project {
  return {
    apiVersion: API_VERSION,
    kind: 'Project',
    metadata: { name, labels },
    spec: { ...spec, tenantRef: { name: tenant } },
  };
}

export function appCr(tenant: string, project: string, name: string, spec: AppSpec): App {
  return {
    apiVersion: API_VERSION,
    kind: 'App',
    metadata: { name, namespace: projectNamespace(tenant, project), labels },
    spec,
  };
}
