import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/database.ts';
import { replayOrRun } from '../idempotency.ts';
import Type from 'typebox';
import { ApiError } from '../../platform/problem.ts';
import { Problem } from '../../schemas/api.ts';
import type { Principal } from '../auth/principal.ts';
import type { Call } from '../service.ts';
import type { ResourceRow } from '../store/resources.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The problem responses a route can give, for its schema (and so the OpenAPI document). */
export function problems(...codes: number[]): Record<number, typeof Problem> {
  return Object.fromEntries(codes.map((c) => [c, Problem]));
}

export const standardProblems = [400, 401, 404, 429];

export function call(req: FastifyRequest): Call {
  if (!req.principal) throw new ApiError(401, 'KUBEOP_ERR_UNAUTHENTICATED', 'not authenticated');
  return { principal: req.principal, requestId: req.id };
}

/** `If-Match: "<version>"` → version; absent → undefined. Anything else cannot match. */
export function ifMatch(req: FastifyRequest): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined || header === '*') return undefined;
  const m = /^"(\d+)"$/.exec(String(header).trim());
  return m ? Number(m[1]) : -1;
}

export function withEtag(reply: FastifyReply, row: ResourceRow): void {
  void reply.header('etag', `"${row.version}"`);
}

export function resource<S>(row: ResourceRow<S>) {
  return {
    name: row.name,
    spec: row.spec,
    ...(row.status ? { status: row.status } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    version: row.version,
  };
}

export const TenantParams = Type.Object({ tenant: Type.String({ maxLength: 63 }) });
export const ProjectParams = Type.Object({
  tenant: Type.String({ maxLength: 63 }),
  project: Type.String({ maxLength: 63 }),
});
export const AppParams = Type.Object({
  tenant: Type.String({ maxLength: 63 }),
  project: Type.String({ maxLength: 63 }),
  app: Type.String({ maxLength: 63 }),
});
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

/** A 201 with its ETag, honouring Idempotency-Key: a retried POST gets the first response again. */
export async function created(
  db: Database,
  req: FastifyRequest,
  reply: FastifyReply,
  route: string,
  create: () => Promise<{ version: number }>,
): Promise<FastifyReply> {
  const key = req.headers['idempotency-key'];
  const out = await replayOrRun(
    db,
    {
      tokenId: req.principal?.tokenId,
      key: typeof key === 'string' ? key : undefined,
      body: req.body,
      route,
    },
    async () => ({ status: 201, body: await create() }),
  );
  if (out.replayed) void reply.header('idempotent-replayed', 'true');
  void reply.header('etag', `"${(out.body as { version: number }).version}"`);
  return reply.code(out.status).send(out.body);
}
