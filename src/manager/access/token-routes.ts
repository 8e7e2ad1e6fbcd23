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
import { authorize } from './authorize.ts';
import { confinement, decide, mayGrant, scopeOfRole } from './policy.ts';
import { generateToken, hashToken } from './tokens.ts';
import { mintedTokenExpiry } from './token-expiry.ts';
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
      config: { public: false },
      schema: {
        'x-kubeop-action': 'token.create',
        tags: ['tokens'],
        summary: 'Create an API token (its secret is in this response only)',
        body: forRequest(CreateToken),
        response: { 201: CreatedToken, ...problems(...standardProblems, 403) },
      },
    },
    async (req, reply) => {
      const c = call(req);
      const { name, role, tenant, project, expiresInSeconds } = req.body;
      // The role's scope (policy.ts) says which of tenant and project the token names.
      const scope = scopeOfRole(role);
      if (scope !== 'platform' && !tenant) throw badRequest('TOKEN_SCOPE', `a ${role} token needs "tenant"`);
      if (scope === 'platform' && (tenant || project))
        throw badRequest('TOKEN_SCOPE', `a ${role} token has no tenant or project`);
      if ((scope === 'project') !== Boolean(project)) {
        throw badRequest(
          'TOKEN_SCOPE',
          scope === 'project' ? `a ${role} token needs "project"` : `a ${role} token has no "project"`,
        );
      }
      authorize(c, 'token.create');
      if (!mayGrant(c.principal, { role, ...(tenant ? { tenant } : {}), ...(project ? { project } : {}) }))
        throw forbidden(`a ${c.principal.role} token cannot create a ${role} token for this scope`);
      const expiresAt = mintedTokenExpiry(c.principal.expiresAt, expiresInSeconds, Date.now());
      const ids = await svc.scopeIds(tenant, project);
      const token = generateToken();
      const row = await db.transaction(async (tx) => {
        const inserted = await insertToken(tx, {
          name,
          hash: hashToken(token),
          role,
          tenantId: ids.tenantId ?? null,
          projectId: ids.projectId ?? null,
          expiresAt,
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
      config: { public: false },
      schema: {
        'x-kubeop-action': 'token.list',
        tags: ['tokens'],
        summary: 'List the tokens of your scope (never their secrets)',
        response: { 200: Page(TokenResource), ...problems(...standardProblems) },
      },
    },
    async (req) => {
      const c = call(req);
      authorize(c, 'token.list');
      const own = confinement(c.principal);
      const scope = own.tenant === undefined ? {} : await svc.scopeIds(own.tenant, own.project);
      return { items: await listTokens(db, scope) };
    },
  );

  r.delete(
    '/v1/tokens/:id',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'token.revoke',
        tags: ['tokens'],
        summary: 'Revoke a token',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...problems(...standardProblems, 403) },
      },
    },
    async (req, reply) => {
      const c = call(req);
      const row = await getToken(db, req.params.id);
      const granted = row && {
        role: row.role,
        ...(row.tenant ? { tenant: row.tenant } : {}),
        ...(row.project ? { project: row.project } : {}),
      };
      // A token the caller could not have granted is not there for it (404, not 403).
      if (
        !row ||
        !granted ||
        decide(c.principal, 'token.revoke') !== 'allow' ||
        !mayGrant(c.principal, granted)
      )
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
      config: { public: false },
      schema: {
        'x-kubeop-action': 'audit.read',
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
      const c = call(req);
      authorize(c, 'audit.read');
      const own = confinement(c.principal).tenant;
      const scope = own === undefined ? {} : await svc.scopeIds(own);
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
