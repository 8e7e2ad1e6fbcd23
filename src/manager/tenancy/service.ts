import type { Database } from '../../db/database.ts';
import type { ProjectSpec } from '../../schemas/crds/project.ts';
import type { Principal } from '../access/principal.ts';
import { notFound } from '../http/errors.ts';
import { appService } from './app-service.ts';
import { projects, tenants } from './lookup.ts';
import { projectService } from './project-service.ts';
import { tenantService } from './tenant-service.ts';

export type ProjectBody = Omit<ProjectSpec, 'tenantRef'>;

export interface Call {
  principal: Principal;
  requestId: string;
}

export interface Listed<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * The manager's operations on tenants, projects and apps. Every change commits in one transaction
 * with its audit entry and the outbox entry that delivers it to the cluster, so a change is never
 * stored without being delivered, nor delivered without being stored.
 */
export function managerService(db: Database) {
  return {
    ...tenantService(db),
    ...projectService(db),
    ...appService(db),

    /** Ids a token scope refers to, for token creation. */
    async scopeIds(tenant?: string, project?: string): Promise<{ tenantId?: string; projectId?: string }> {
      const t = tenant ? await tenants.get(db, tenant) : undefined;
      if (tenant && !t) throw notFound('tenant', tenant);
      const p = project && t ? await projects.get(db, project, t.id) : undefined;
      if (project && !p) throw notFound('project', project);
      return { ...(t ? { tenantId: t.id } : {}), ...(p ? { projectId: p.id } : {}) };
    },
  };
}

export type ManagerService = ReturnType<typeof managerService>;
