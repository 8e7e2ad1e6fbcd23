import Type from 'typebox';
import { Dns1123Label, StringMap } from './kube-types.ts';

/** REST schemas of clusters and member kubeconfigs. A cluster's kubeconfig is accepted, never returned. */
const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

export const ClusterName = Dns1123Label('Cluster name: lower-case letters, digits and dashes.');

export const RegisterCluster = Type.Object({
  name: ClusterName,
  kubeconfig: Type.String({
    minLength: 1,
    maxLength: 65_536,
    description:
      'The kubeconfig the manager uses for this cluster (YAML or JSON). Its current context only; credentials inline (token, or client certificate and key data; no exec plugins or file paths). Stored encrypted with the KMS and never returned.',
  }),
  default: Type.Optional(
    Type.Boolean({
      description:
        'Make this the default cluster for new projects. The first registered cluster becomes the default anyway.',
    }),
  ),
  labels: Type.Optional(StringMap({ maxProperties: 32, description: 'Labels, e.g. `stage: prod`.' })),
});

export const RegisterQuery = Type.Object({
  check: Type.Optional(
    Type.Boolean({
      default: true,
      description: 'Check that the API server answers (GET /version) before storing. Default true.',
    }),
  ),
});

export const DeregisterQuery = Type.Object({
  force: Type.Optional(
    Type.Boolean({
      default: false,
      description: 'Deregister even though projects are placed on the cluster (they become unplaced).',
    }),
  ),
});

export const ClusterResource = Type.Object({
  name: Type.String(),
  server: Type.String({ description: "The API server's URL." }),
  default: Type.Boolean(),
  labels: Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
  }),
  kubeconfigSource: Type.Unsafe<'stored' | 'manager'>({
    type: 'string',
    enum: ['stored', 'manager'],
    description:
      "stored: registered through the API, kept encrypted; manager: each manager's own kubeconfig (KUBEOP_KUBECONFIG).",
  }),
  serverVersion: Nullable(Type.String()),
  checkedAt: Nullable(Timestamp),
  checkError: Nullable(Type.String()),
  projects: Type.Integer({ minimum: 0, description: 'Projects placed on the cluster.' }),
  lane: Type.Union(
    [
      Type.Object({
        holder: Type.String({ description: 'The manager replica delivering to the cluster.' }),
        renewedAt: Timestamp,
      }),
      Type.Null(),
    ],
    { description: 'Who owns the delivery lane; null when no replica holds a live lease.' },
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: Type.Integer({ minimum: 1 }),
});

export const ClusterCheck = Type.Object({
  reachable: Type.Boolean(),
  cluster: ClusterResource,
});

export const ClusterParams = Type.Object({ cluster: Type.String({ maxLength: 63 }) });

export const MemberKubeconfigRequest = Type.Object({
  role: Type.Optional(
    Type.Unsafe<'admin' | 'edit' | 'view'>({
      type: 'string',
      enum: ['admin', 'edit', 'view'],
      description: "The project role to bind; at most the caller's own. Default: the caller's own.",
    }),
  ),
  expirationSeconds: Type.Optional(
    Type.Integer({
      minimum: 600,
      description:
        'Token lifetime; at most KUBEOP_MEMBER_KUBECONFIG_MAX_SECONDS. Default: one hour (or the maximum, if lower).',
    }),
  ),
});

export const MemberKubeconfig = Type.Object({
  kubeconfig: Type.String({ description: 'The kubeconfig (YAML). Shown once; not stored.' }),
  cluster: Type.String(),
  namespace: Type.String(),
  role: Type.String(),
  serviceAccount: Type.String(),
  expiresAt: Timestamp,
});
