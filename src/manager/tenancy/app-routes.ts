import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AppResource,
  CreateApp,
  forRequest,
  forResponse,
  Page,
  PageQuery,
  UpdateApp,
} from '../../schemas/api.ts';
import type { Database } from '../../db/database.ts';
import type { ManagerService } from './service.ts';
import {
  AppParams,
  call,
  created,
  IdempotencyHeaders,
  ifMatch,
  NoContent,
  problems,
  ProjectParams,
  resource,
  standardProblems,
  withEtag,
} from '../http/common.ts';

/** A project's apps. Thin handlers over the manager service. */
export function appRoutes(app: FastifyInstance, svc: ManagerService, db: Database): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const appOut = forResponse(AppResource);

  const appResource = <S>(projectName: string, row: Parameters<typeof resource<S>>[0]) => ({
    ...resource(row),
    project: projectName,
  });
  const appsPath = '/v1/tenants/:tenant/projects/:project/apps';

  r.get(
    appsPath,
    {
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
