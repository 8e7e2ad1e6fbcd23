import { LABEL_PROJECT } from '../../../domain/naming.ts';
import type { Store } from '../../../kube/store.ts';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import { ControllerBuilder, type ControllerDeclaration } from '../../runtime/builder.ts';
import type { ControllerDeps } from '../deps.ts';
import {
  byNamespace,
  byTenant,
  INDEX_NAMESPACE,
  INDEX_TENANT,
  labelOf,
  MANAGED,
  MANAGED_NAMESPACES,
  MANAGED_QUOTAS,
  PROJECTS,
  TENANTS,
} from '../store.ts';
import { PROJECT_OWNED_KINDS, projectReconciler } from './controller.ts';
import type { ProjectRenderOptions } from './render.ts';

const ownerProject = (o: Parameters<typeof labelOf>[0]) => labelOf(o, LABEL_PROJECT);

/**
 * The Project controller and what it watches: its Tenant (policy, quota share), and everything it
 * creates in the project's namespace — the namespace itself, the ResourceQuota the Tenant controller
 * writes there, and the owned kinds — each mapped to its project by label.
 */
export function projectController(
  deps: ControllerDeps,
  options: ProjectRenderOptions,
): ControllerDeclaration {
  const projects = deps.informer<Project>(PROJECTS);
  projects.addIndex(INDEX_TENANT, byTenant);
  const tenants = deps.informer<Tenant>(TENANTS);
  const namespaces = deps.informer(MANAGED_NAMESPACES);
  const resourceQuotas = deps.informer(MANAGED_QUOTAS);
  const builder = ControllerBuilder.for('project', projects)
    .watches(tenants, (t) => projects.byIndex(INDEX_TENANT, t.metadata.name).map((p) => p.metadata.name))
    .owns(namespaces, ownerProject)
    .owns(resourceQuotas, ownerProject);
  const owned = new Map<string, Store>();
  for (const { apiVersion, kind } of PROJECT_OWNED_KINDS) {
    const inf = deps.informer({ apiVersion, kind, labelSelector: MANAGED });
    inf.addIndex(INDEX_NAMESPACE, byNamespace);
    builder.owns(inf, ownerProject);
    owned.set(`${apiVersion}/${kind}`, inf);
  }
  return builder.complete(
    projectReconciler({
      client: deps.client,
      projects,
      tenants,
      namespaces,
      resourceQuotas,
      owned,
      drift: deps.drift,
      events: deps.events,
      options,
      logger: deps.logger.child({ controller: 'project' }),
    }),
  );
}
