import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.ts';
import { appRoutes } from './app-routes.ts';
import { projectRoutes } from './project-routes.ts';
import type { ManagerService } from './service.ts';
import { tenantRoutes } from './tenant-routes.ts';

/** Tenants, projects and apps: one file of routes each. */
export function resourceRoutes(app: FastifyInstance, svc: ManagerService, db: Database): void {
  tenantRoutes(app, svc, db);
  projectRoutes(app, svc, db);
  appRoutes(app, svc, db);
}
