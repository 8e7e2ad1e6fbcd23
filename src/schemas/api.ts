import Type, { type Static, type TSchema } from 'typebox';
import { AppSpec, AppStatus } from './crds/app.ts';
import { ProjectSpec, ProjectStatus } from './crds/project.ts';
import { TenantSpec, TenantStatus } from './crds/tenant.ts';
import { Dns1123Label, withRules, type CelRule } from './kube-types.ts';

/**
 * The REST API's schemas, built from the same TypeBox schemas as the CRDs. `forRequest` makes
 * objects closed (an unknown field is a 400 naming it, not silently stored); `forResponse` keeps
 * free-form values (Helm values, raw manifests) intact through response serialisation.
 */
function transform(schema: unknown, mode: 'request' | 'response'): unknown {
  if (Array.isArray(schema)) return schema.map((s) => transform(s, mode));
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, transform(s, mode)]))
        : transform(v, mode);
  }
  const freeForm = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (freeForm) out.additionalProperties = true;
  else if (
    mode === 'request' &&
    out.type === 'object' &&
    out.properties &&
    out.additionalProperties === undefined
  )
    out.additionalProperties = false;
  return out;
}

const plain = (s: TSchema) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
export const forRequest = <T extends TSchema>(s: T): T => transform(plain(s), 'request') as T;
export const forResponse = <T extends TSchema>(s: T): T => transform(plain(s), 'response') as T;

const Timestamp = Type.String({ format: 'date-time' });
const Meta = {
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: Type.Integer({ minimum: 1, description: 'Increments on every change; the ETag.' }),
};
const Name = Dns1123Label(
  'Name: lower-case letters, digits and dashes, starting and ending with a letter or digit.',
);

// Type.Omit builds a new object schema and drops ProjectSpec's CEL rules; put them back (none of
// them mentions tenantRef), so the API enforces them as the cluster does.
export const ProjectSpecBody = withRules(
  Type.Omit(ProjectSpec, ['tenantRef']),
  (ProjectSpec as { 'x-kubernetes-validations'?: CelRule[] })['x-kubernetes-validations'] ?? [],
);

export const TenantResource = Type.Object({
  name: Type.String(),
  spec: TenantSpec,
  status: Type.Optional(TenantStatus),
  ...Meta,
});
export const ProjectResource = Type.Object({
  name: Type.String(),
  tenant: Type.String(),
  cluster: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description: 'The cluster the project is placed on; null until a cluster is registered.',
    }),
  ),
  spec: ProjectSpecBody,
  status: Type.Optional(ProjectStatus),
  ...Meta,
});
export const AppResource = Type.Object({
  name: Type.String(),
  project: Type.String(),
  spec: AppSpec,
  status: Type.Optional(AppStatus),
  ...Meta,
});

export const CreateTenant = Type.Object({ name: Name, spec: TenantSpec });
export const UpdateTenant = Type.Object({ spec: TenantSpec });
export const CreateProject = Type.Object({
  name: Name,
  cluster: Type.Optional(
    Dns1123Label(
      'Cluster to place the project on (immutable). Default: the default cluster, or the only one.',
    ),
  ),
  spec: ProjectSpecBody,
});
export const UpdateProject = Type.Object({ spec: ProjectSpecBody });
export const CreateApp = Type.Object({ name: Name, spec: AppSpec });
export const UpdateApp = Type.Object({ spec: AppSpec });

export const RoleName = Type.Unsafe<
  'platform-admin' | 'tenant-admin' | 'project-admin' | 'project-editor' | 'project-viewer' | 'metering'
>({
  type: 'string',
  enum: ['platform-admin', 'tenant-admin', 'project-admin', 'project-editor', 'project-viewer', 'metering'],
});

export const TokenResource = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  role: RoleName,
  tenant: Type.Union([Type.String(), Type.Null()]),
  project: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
});
export const CreateToken = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  role: RoleName,
  tenant: Type.Optional(Name),
  project: Type.Optional(Name),
  expiresInSeconds: Type.Optional(
    Type.Integer({
      minimum: 60,
      maximum: 31_536_000,
      description:
        'Default: never expires. At most the caller’s own remaining lifetime when its credentials expire (KUBEOP_ERR_TOKEN_EXPIRY).',
    }),
  ),
});
export const CreatedToken = Type.Object({
  ...TokenResource.properties,
  token: Type.String({ description: 'The secret. Shown once; only its hash is stored.' }),
});

export const AuditRecord = Type.Object({
  id: Type.String(),
  at: Timestamp,
  actor: Type.String(),
  action: Type.String(),
  resourceType: Type.String(),
  resourceName: Type.String(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  detail: Type.Union([
    Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true }),
    Type.Null(),
  ]),
});

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String({ description: 'Stable error code (KUBEOP_ERR_*); branch on it, not on detail.' }),
  detail: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page.' })),
  });
}

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export type TenantResource = Static<typeof TenantResource>;
export type ProjectResource = Static<typeof ProjectResource>;
export type AppResource = Static<typeof AppResource>;
export type CreateToken = Static<typeof CreateToken>;
