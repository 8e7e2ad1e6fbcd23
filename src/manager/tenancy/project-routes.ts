import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateProject,
  forRequest,
  forResponse,
  Page,
  PageQuery,
  ProjectResource,
  UpdateProject,
} from '../../schemas/api.ts';
import type { Database } from '../../db/database.ts';
import type { ManagerService } from './service.ts';
import {
  call,
  created,
  IdempotencyHeaders,
  ifMatch,
  NoContent,
  problems,
  ProjectParams,
  resource,
  standardProblems,
  TenantParams,
  withEtag,
} from '../http/common.ts';

/** A tenant's projects, each placed on one cluster. Thin handlers over the manager service. */
export function projectRoutes(app: FastifyInstance, svc: ManagerService, db: Database): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const projectOut = forResponse(ProjectResource);

  const project = <S>(tenant: string, row: Parameters<typeof resource<S>>[0]) => ({
    ...resource(row),
    tenant,
    cluster: row.cluster ?? null,
  });

  r.get(
    '/v1/tenants/:tenant/projects',
    {
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
}
