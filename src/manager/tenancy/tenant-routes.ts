import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateTenant,
  forRequest,
  forResponse,
  Page,
  PageQuery,
  TenantResource,
  UpdateTenant,
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
  resource,
  standardProblems,
  TenantParams,
  withEtag,
} from '../http/common.ts';

/** Tenants: list, create, read, replace and delete (platform-wide; see access/policy.ts). Thin handlers over the manager service. */
export function tenantRoutes(app: FastifyInstance, svc: ManagerService, db: Database): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tenantOut = forResponse(TenantResource);

  r.get(
    '/v1/tenants',
    {
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
}
