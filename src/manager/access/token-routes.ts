import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Database } from '../../db/database.ts';
import {
  AuditRecord,
  CreatedToken,
  CreateToken,
  forRequest,
  Page,
  TokenResource,
} from '../../schemas/api.ts';
import { mayGrant } from './principal.ts';
import { generateToken, hashToken } from './tokens.ts';
import { badRequest, forbidden, notFound } from '../http/errors.ts';
import type { ManagerService } from '../tenancy/service.ts';
import { appendAudit, listAudit } from './audit-store.ts';
import { getToken, insertToken, listTokens, revokeToken } from './token-store.ts';
import { call, problems, standardProblems } from '../http/common.ts';

/** API tokens (shown once, stored hashed) and the audit log. */
export function tokenRoutes(app: FastifyInstance, svc: ManagerService, db: Database): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token (its secret is in this response only)',
        body: forRequest(CreateToken),
        response: { 201: CreatedToken, ...problems(...standardProblems, 403) },
      },
    },
    async (req, reply) => {
      const c = call(req);
      const { name, role, tenant, project, expiresInSeconds } = req.body;
      // platform-admin and metering tokens are platform-wide; every other role is scoped to a tenant.
      const platformWide = role === 'platform-admin' || role === 'metering';
      if (!platformWide && !tenant) throw badRequest('TOKEN_SCOPE', `a ${role} token needs "tenant"`);
      if (platformWide && (tenant || project))
        throw badRequest('TOKEN_SCOPE', `a ${role} token has no tenant or project`);
      if (role.startsWith('project-') !== Boolean(project)) {
        throw badRequest(
          'TOKEN_SCOPE',
          role.startsWith('project-')
            ? `a ${role} token needs "project"`
            : `a ${role} token has no "project"`,
        );
      }
      if (!mayGrant(c.principal, role, tenant, project))
        throw forbidden(`a ${c.principal.role} token cannot create a ${role} token for this scope`);
      const ids = await svc.scopeIds(tenant, project);
      const token = generateToken();
      const row = await db.transaction(async (tx) => {
        const inserted = await insertToken(tx, {
          name,
          hash: hashToken(token),
          role,
          tenantId: ids.tenantId ?? null,
          projectId: ids.projectId ?? null,
          expiresAt: expiresInSeconds ? new Date(Date.now() + expiresInSeconds * 1000).toISOString() : null,
          createdBy: c.principal.tokenId ?? null,
        });
        await appendAudit(tx, {
          actor: c.principal.actor,
          action: 'create',
          resourceType: 'token',
          resourceName: inserted.id,
          tenantId: ids.tenantId ?? null,
          requestId: c.requestId,
          outcome: 'success',
          detail: { role, name },
        });
        return inserted;
      });
      return reply.code(201).send({ ...row, token });
    },
  );

  r.get(
    '/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List the tokens of your scope (never their secrets)',
        response: { 200: Page(TokenResource), ...problems(...standardProblems) },
      },
    },
    async (req) => {
      const p = call(req).principal;
      if (p.role === 'project-editor' || p.role === 'project-viewer' || p.role === 'metering')
        throw forbidden('listing tokens needs project-admin or more');
      const scope =
        p.role === 'platform-admin'
          ? {}
          : await svc.scopeIds(p.tenant, p.role === 'project-admin' ? p.project : undefined);
      return { items: await listTokens(db, scope) };
    },
  );

  r.delete(
    '/v1/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a token',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...problems(...standardProblems, 403) },
      },
    },
    async (req, reply) => {
      const c = call(req);
      const row = await getToken(db, req.params.id);
      if (!row || !mayGrant(c.principal, row.role, row.tenant ?? undefined, row.project ?? undefined))
        throw notFound('token', req.params.id);
      // Resolved before the transaction: embedded PGlite has one connection, held by the transaction.
      const ids = await svc.scopeIds(row.tenant ?? undefined);
      await db.transaction(async (tx) => {
        await revokeToken(tx, row.id);
        await appendAudit(tx, {
          actor: c.principal.actor,
          action: 'revoke',
          resourceType: 'token',
          resourceName: row.id,
          tenantId: ids.tenantId ?? null,
          requestId: c.requestId,
          outcome: 'success',
        });
      });
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log of mutations, newest first (platform-admin: all; tenant-admin: own tenant)',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
          resourceType: Type.Optional(Type.String({ maxLength: 64 })),
          actor: Type.Optional(Type.String({ maxLength: 128 })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(AuditRecord), nextBefore: Type.Optional(Type.String()) }),
          ...problems(...standardProblems, 403),
        },
      },
    },
    async (req) => {
      const p = call(req).principal;
      if (p.role !== 'platform-admin' && p.role !== 'tenant-admin')
        throw forbidden('the audit log needs tenant-admin or platform-admin');
      const scope = p.role === 'tenant-admin' ? await svc.scopeIds(p.tenant) : {};
      const limit = req.query.limit ?? 50;
      const rows = await listAudit(db, {
        limit,
        ...(scope.tenantId ? { tenantId: scope.tenantId } : {}),
        ...(req.query.before ? { before: req.query.before } : {}),
        ...(req.query.resourceType ? { resourceType: req.query.resourceType } : {}),
        ...(req.query.actor ? { actor: req.query.actor } : {}),
      });
      const items = rows.slice(0, limit);
      return { items, ...(rows.length > limit ? { nextBefore: items.at(-1)!.id } : {}) };
    },
  );
}
