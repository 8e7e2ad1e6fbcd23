import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/database.ts';
import { replayOrRun } from './idempotency.ts';
import Type from 'typebox';
import { ApiError } from '../../platform/problem.ts';
import { Problem } from '../../schemas/api.ts';
import { celViolations } from '../../schemas/cel.ts';
import type { Principal } from '../access/principal.ts';
import { badRequest } from './errors.ts';
import type { Call } from '../tenancy/service.ts';
import type { ResourceRow } from '../tenancy/store.ts';

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

/** Deeper than any real spec (Helm values, manifests); deeper input would only exhaust stacks. */
export const MAX_INPUT_DEPTH = 100;

/**
 * The first problem no row could hold in a JSON-like value: a NUL character in a string or key, or
 * nesting beyond MAX_INPUT_DEPTH. Iterative, so hostile nesting cannot overflow the stack.
 */
function unstorable(value: unknown): string | undefined {
  interface Node {
    value: unknown;
    key?: string;
    parent?: Node;
    depth: number;
  }
  const pathOf = (n: Node | undefined): string =>
    n?.parent ? `${pathOf(n.parent)}/${n.key!.replaceAll('~', '~0').replaceAll('/', '~1')}` : '';
  const stack: Node[] = [{ value, depth: 0 }];
  while (stack.length) {
    const n = stack.pop()!;
    if (typeof n.value === 'string') {
      if (n.value.includes('\0')) return `${pathOf(n) || '/'}: NUL characters are not allowed`;
      continue;
    }
    if (!n.value || typeof n.value !== 'object') continue;
    if (n.depth >= MAX_INPUT_DEPTH)
      return `${pathOf(n) || '/'}: nested deeper than ${MAX_INPUT_DEPTH} levels`;
    for (const [key, v] of Object.entries(n.value)) {
      const child: Node = { value: v, key, parent: n, depth: n.depth + 1 };
      if (key.includes('\0')) return `${pathOf(child)}: NUL characters are not allowed`;
      stack.push(child);
    }
  }
  return undefined;
}

/** Cursors are base64url of UTF-8 names; anything else was not handed out by this API. */
function validCursor(cursor: string): boolean {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  return Buffer.from(decoded).toString('base64url') === cursor && !decoded.includes('\0');
}

/**
 * Refuses, before validation, input no row can hold: PostgreSQL text and jsonb cannot store NUL
 * characters, and absurd nesting would exhaust a stack on the way (validation, CEL, jsonb), so
 * either anywhere in the path, query or body is a 400 naming where, instead of a 500. Also refuses
 * cursors the API never handed out, for every list route.
 */
export async function refuseUnstorableInput(req: FastifyRequest): Promise<void> {
  for (const [part, value] of [
    ['params', req.params],
    ['query', req.query],
    ['body', req.body],
  ] as const) {
    const problem = unstorable(value);
    if (problem) throw badRequest('VALIDATION', `${part} ${problem}`);
  }
  const cursor = (req.query as { cursor?: unknown } | undefined)?.cursor;
  if (typeof cursor === 'string' && !validCursor(cursor)) {
    throw badRequest('INVALID_CURSOR', 'cursor is not one this API returned; list again without it');
  }
}

/**
 * Fields the API once accepted and no longer does, by route and JSON pointer, with what to do
 * instead: a 400 that says so, instead of a bare "must NOT have additional properties".
 */
const removedFields: Array<{ routes: ReadonlySet<string>; path: readonly string[]; message: string }> = [
  {
    // One source of truth for a tenant's plan: the effective-dated plan assignments.
    routes: new Set(['/v1/tenants', '/v1/tenants/:tenant']),
    path: ['spec', 'billing'],
    message: 'spec.billing was removed; assign the tenant a plan with PUT /v1/tenants/{tenant}/plan',
  },
];

/** Refuses, before validation, a body that sets a field listed in removedFields. */
export async function refuseRemovedFields(req: FastifyRequest): Promise<void> {
  const url = req.routeOptions.url;
  if (url === undefined || req.body === undefined) return;
  const errors: Array<{ path: string; message: string }> = [];
  for (const { routes, path, message } of removedFields) {
    if (!routes.has(url)) continue;
    let node: unknown = req.body;
    for (const key of path) {
      node =
        node && typeof node === 'object' && Object.hasOwn(node, key)
          ? (node as Record<string, unknown>)[key]
          : undefined;
    }
    if (node !== undefined) errors.push({ path: `/${path.join('/')}`, message });
  }
  if (errors.length === 0) return;
  throw new ApiError(400, 'KUBEOP_ERR_VALIDATION', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}

/**
 * Refuses a body that breaks a CEL rule (`x-kubernetes-validations`) of its route's body schema, as
 * a 400 naming each rule's message — the same refusal the cluster would give later, but before a row
 * is stored. Runs after structural validation (a preHandler), so the rules see well-formed values.
 */
export async function enforceCelRules(req: FastifyRequest): Promise<void> {
  const schema = req.routeOptions.schema?.body;
  if (!schema || typeof schema !== 'object' || req.body === undefined) return;
  const violations = celViolations(schema, req.body);
  if (violations.length === 0) return;
  throw new ApiError(
    400,
    'KUBEOP_ERR_VALIDATION',
    violations.map((v) => `${v.path}: ${v.message}`).join('; '),
    {
      errors: violations,
    },
  );
}

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
