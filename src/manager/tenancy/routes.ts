import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import {
  AppResource,
  CreateApp,
  CreateProject,
  CreateTenant,
  forRequest,
  forResponse,
  Page,
  PageQuery,
  ProjectResource,
  TenantResource,
  UpdateApp,
  UpdateProject,
  UpdateTenant,
} from '../../schemas/api.ts';
import type { Database } from '../../db/database.ts';
import type { ManagerService } from './service.ts';
import {
  AppParams,
  call,
  created,
  IdempotencyHeaders,
  ifMatch,
  problems,
  ProjectParams,
  resource,
  standardProblems,
  TenantParams,
  withEtag,
} from '../http/common.ts';

const NoContent = Type.Null({ description: 'Deleted.' });

/** Tenants, projects and apps: thin handlers over the manager service. */
export function resourceRoutes(app: FastifyInstance, svc: ManagerService, db: Database): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tenantOut = forResponse(TenantResource);
  const projectOut = forResponse(ProjectResource);
  const appOut = forResponse(AppResource);

  // ---- tenants
  r.get(
    '/v1/tenants',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'tenant.list',
        tags: ['tenants'],
        summary: 'List tenants',
        querystring: PageQuery,
        response: { 200: Page(tenantOut), ...problems(...standardProblems) },
      },
    },
    async (req) => {
      const page = await svc.listTenants(call(req), {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
      return { items: page.items.map(resource), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  r.post(
    '/v1/tenants',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'tenant.create',
        tags: ['tenants'],
        summary: 'Create a tenant (platform-admin)',
        headers: IdempotencyHeaders,
        body: forRequest(CreateTenant),
        response: { 201: tenantOut, ...problems(...standardProblems, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      return created(db, req, reply, 'POST /v1/tenants', async () => {
        const row = await svc.createTenant(call(req), req.body.name, req.body.spec);
        return resource(row);
      });
    },
  );

  r.get(
    '/v1/tenants/:tenant',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'tenant.read',
        tags: ['tenants'],
        summary: 'Get a tenant',
        params: TenantParams,
        response: { 200: tenantOut, ...problems(...standardProblems) },
      },
    },
    async (req, reply) => {
      const row = await svc.getTenant(call(req), req.params.tenant);
      withEtag(reply, row);
      return resource(row);
    },
  );

  r.put(
    '/v1/tenants/:tenant',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'tenant.update',
        tags: ['tenants'],
        summary: 'Replace a tenant spec (platform-admin; If-Match supported)',
        params: TenantParams,
        body: forRequest(UpdateTenant),
        response: { 200: tenantOut, ...problems(...standardProblems, 403, 412) },
      },
    },
    async (req, reply) => {
      const row = await svc.updateTenant(call(req), req.params.tenant, req.body.spec, ifMatch(req));
      withEtag(reply, row);
      return resource(row);
    },
  );

  r.delete(
    '/v1/tenants/:tenant',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'tenant.delete',
        tags: ['tenants'],
        summary: 'Delete an empty tenant (platform-admin)',
        params: TenantParams,
        response: { 204: NoContent, ...problems(...standardProblems, 403, 409, 412) },
      },
    },
    async (req, reply) => {
      await svc.deleteTenant(call(req), req.params.tenant, ifMatch(req));
      return reply.code(204).send(null);
    },
  );

  // ---- projects
  const project = <S>(tenant: string, row: Parameters<typeof resource<S>>[0]) => ({
    ...resource(row),
    tenant,
    cluster: row.cluster ?? null,
  });

  r.get(
    '/v1/tenants/:tenant/projects',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'project.list',
        tags: ['projects'],
        summary: 'List the projects of a tenant',
        params: TenantParams,
        querystring: PageQuery,
        response: { 200: Page(projectOut), ...problems(...standardProblems) },
      },
    },
    async (req) => {
      const page = await svc.listProjects(call(req), req.params.tenant, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
      return {
        items: page.items.map((p) => project(req.params.tenant, p)),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  );

  r.post(
    '/v1/tenants/:tenant/projects',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'project.create',
        tags: ['projects'],
        summary: 'Create a project (tenant-admin)',
        params: TenantParams,
        headers: IdempotencyHeaders,
        body: forRequest(CreateProject),
        response: { 201: projectOut, ...problems(...standardProblems, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const route = `POST /v1/tenants/${req.params.tenant}/projects`;
      return created(db, req, reply, route, async () => {
        const row = await svc.createProject(
          call(req),
          req.params.tenant,
          req.body.name,
          req.body.spec,
          req.body.cluster,
        );
        return project(req.params.tenant, row);
      });
    },
  );

  r.get(
    '/v1/tenants/:tenant/projects/:project',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'project.read',
        tags: ['projects'],
        summary: 'Get a project',
        params: ProjectParams,
        response: { 200: projectOut, ...problems(...standardProblems) },
      },
    },
    async (req, reply) => {
      const row = await svc.getProject(call(req), req.params.tenant, req.params.project);
      withEtag(reply, row);
      return project(req.params.tenant, row);
    },
  );

  r.put(
    '/v1/tenants/:tenant/projects/:project',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'project.update',
        tags: ['projects'],
        summary: 'Replace a project spec (If-Match supported)',
        params: ProjectParams,
        body: forRequest(UpdateProject),
        response: { 200: projectOut, ...problems(...standardProblems, 403, 412) },
      },
    },
    async (req, reply) => {
      const row = await svc.updateProject(
        call(req),
        req.params.tenant,
        req.params.project,
        req.body.spec,
        ifMatch(req),
      );
      withEtag(reply, row);
      return project(req.params.tenant, row);
    },
  );

  r.delete(
    '/v1/tenants/:tenant/projects/:project',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'project.delete',
        tags: ['projects'],
        summary: 'Delete a project, its apps and its namespace',
        params: ProjectParams,
        response: { 204: NoContent, ...problems(...standardProblems, 403, 412) },
      },
    },
    async (req, reply) => {
      await svc.deleteProject(call(req), req.params.tenant, req.params.project, ifMatch(req));
      return reply.code(204).send(null);
    },
  );

  // ---- apps
  const appResource = <S>(projectName: string, row: Parameters<typeof resource<S>>[0]) => ({
    ...resource(row),
    project: projectName,
  });
  const appsPath = '/v1/tenants/:tenant/projects/:project/apps';

  r.get(
    appsPath,
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'app.read',
        tags: ['apps'],
        summary: 'List the apps of a project',
        params: ProjectParams,
        querystring: PageQuery,
        response: { 200: Page(appOut), ...problems(...standardProblems) },
      },
    },
    async (req) => {
      const page = await svc.listApps(call(req), req.params.tenant, req.params.project, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
      return {
        items: page.items.map((a) => appResource(req.params.project, a)),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  );

  r.post(
    appsPath,
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'app.write',
        tags: ['apps'],
        summary: 'Create an app',
        params: ProjectParams,
        headers: IdempotencyHeaders,
        body: forRequest(CreateApp),
        response: { 201: appOut, ...problems(...standardProblems, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const route = `POST /v1/tenants/${req.params.tenant}/projects/${req.params.project}/apps`;
      return created(db, req, reply, route, async () => {
        const row = await svc.createApp(
          call(req),
          req.params.tenant,
          req.params.project,
          req.body.name,
          req.body.spec,
        );
        return appResource(req.params.project, row);
      });
    },
  );

  r.get(
    `${appsPath}/:app`,
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'app.read',
        tags: ['apps'],
        summary: 'Get an app',
        params: AppParams,
        response: { 200: appOut, ...problems(...standardProblems) },
      },
    },
    async (req, reply) => {
      const row = await svc.getApp(call(req), req.params.tenant, req.params.project, req.params.app);
      withEtag(reply, row);
      return appResource(req.params.project, row);
    },
  );

  r.put(
    `${appsPath}/:app`,
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'app.write',
        tags: ['apps'],
        summary: 'Replace an app spec (If-Match supported)',
        params: AppParams,
        body: forRequest(UpdateApp),
        response: { 200: appOut, ...problems(...standardProblems, 403, 412) },
      },
    },
    async (req, reply) => {
      const row = await svc.updateApp(
        call(req),
        req.params.tenant,
        req.params.project,
        req.params.app,
        req.body.spec,
        ifMatch(req),
      );
      withEtag(reply, row);
      return appResource(req.params.project, row);
    },
  );

  r.delete(
    `${appsPath}/:app`,
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'app.write',
        tags: ['apps'],
        summary: 'Delete an app',
        params: AppParams,
        response: { 204: NoContent, ...problems(...standardProblems, 403, 412) },
      },
    },
    async (req, reply) => {
      await svc.deleteApp(call(req), req.params.tenant, req.params.project, req.params.app, ifMatch(req));
      return reply.code(204).send(null);
    },
  );
}
