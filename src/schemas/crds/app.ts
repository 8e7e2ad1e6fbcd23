import Type, { type Static } from 'typebox';
import { Conditions, Dns1123Label, Quantity, StringEnum, withRules } from '../kube-types.ts';

const SecretKeyRef = Type.Object({
  name: Dns1123Label('Secret name in the project namespace.', 253),
  key: Type.String({ minLength: 1, maxLength: 253 }),
});

export const ImageSource = Type.Object({
  ref: Type.String({
    minLength: 1,
    maxLength: 512,
    description: 'Image reference: `nginx:1.27`, `ghcr.io/acme/web@sha256:…`, `registry:5000/team/app:v2`.',
  }),
  pullSecretName: Type.Optional(Dns1123Label('Image pull Secret in the project namespace.', 253)),
});

export const GitSource = withRules(
  Type.Object({
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^(https://|http://|ssh://|git@)',
      description: 'Repository URL (HTTPS or SSH).',
    }),
    branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    commit: Type.Optional(Type.String({ pattern: '^[0-9a-f]{7,64}$' })),
    path: Type.Optional(
      Type.String({ maxLength: 1024, description: 'Directory inside the repository. Default: the root.' }),
    ),
    credentialsSecretName: Type.Optional(
      Dns1123Label('Secret with `username`/`password` (HTTPS) or `ssh-privatekey` (SSH).', 253),
    ),
    pollIntervalSeconds: Type.Optional(Type.Integer({ minimum: 15, maximum: 86400, default: 300 })),
  }),
  [
    {
      rule: '[has(self.branch), has(self.tag), has(self.commit)].filter(x, x).size() <= 1',
      message: 'set at most one of git.branch, git.tag and git.commit',
    },
    {
      rule: "!has(self.path) || !self.path.contains('..')",
      message: 'git.path must stay inside the repository (no ..)',
    },
  ],
);

export const HelmSource = Type.Object({
  chart: Type.String({
    minLength: 1,
    maxLength: 512,
    description: 'Chart name, or a full `oci://` reference.',
  }),
  repoURL: Type.Optional(Type.String({ pattern: '^(https?|oci)://', maxLength: 2048 })),
  version: Type.Optional(Type.String({ maxLength: 128 })),
  values: Type.Optional(
    Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
  ),
});

export const RawSource = Type.Object({
  manifests: Type.Array(
    Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-embedded-resource': true,
    }),
    {
      minItems: 1,
      maxItems: 500,
      description: 'Namespaced objects; they are placed in the project namespace.',
    },
  ),
});

export const AppSource = withRules(
  Type.Object({
    image: Type.Optional(ImageSource),
    git: Type.Optional(GitSource),
    helm: Type.Optional(HelmSource),
    raw: Type.Optional(RawSource),
  }),
  [
    {
      rule: '[has(self.image), has(self.git), has(self.helm), has(self.raw)].filter(x, x).size() == 1',
      message: 'set exactly one of source.image, source.git, source.helm and source.raw',
    },
  ],
);

const Resources = Type.Object({
  requests: Type.Optional(
    Type.Object({
      cpu: Type.Optional(Quantity('CPU request.')),
      memory: Type.Optional(Quantity('Memory request.')),
    }),
  ),
  limits: Type.Optional(
    Type.Object({
      cpu: Type.Optional(Quantity('CPU limit.')),
      memory: Type.Optional(Quantity('Memory limit.')),
    }),
  ),
});

const Probe = Type.Object({
  path: Type.String({ pattern: '^/', maxLength: 1024 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  initialDelaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  periodSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
});

export const Expose = withRules(
  Type.Object({
    hosts: Type.Array(
      Type.String({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,63}$', maxLength: 253 }),
      { minItems: 1, maxItems: 16 },
    ),
    paths: Type.Optional(Type.Array(Type.String({ pattern: '^/', maxLength: 1024 }), { maxItems: 16 })),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'Container port. Default: the first port.' }),
    ),
    tls: Type.Optional(
      Type.Object({
        mode: StringEnum(['None', 'ClusterIssuer', 'Secret'] as const, { default: 'None' }),
        clusterIssuer: Type.Optional(Type.String({ maxLength: 253 })),
        secretName: Type.Optional(Dns1123Label('Existing TLS Secret.', 253)),
      }),
    ),
  }),
  [
    {
      rule: "!has(self.tls) || self.tls.mode != 'ClusterIssuer' || has(self.tls.clusterIssuer)",
      message: 'expose.tls.clusterIssuer is required when expose.tls.mode is ClusterIssuer',
    },
    {
      rule: "!has(self.tls) || self.tls.mode != 'Secret' || has(self.tls.secretName)",
      message: 'expose.tls.secretName is required when expose.tls.mode is Secret',
    },
  ],
);

export const AppSpec = withRules(
  Type.Object({
    source: AppSource,
    replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 1 })),
    resources: Type.Optional(Resources),
    ports: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 15 })),
          containerPort: Type.Integer({ minimum: 1, maximum: 65535 }),
          protocol: Type.Optional(StringEnum(['TCP', 'UDP'] as const)),
        }),
        { maxItems: 16 },
      ),
    ),
    env: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String({ pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$', maxLength: 253 }),
          value: Type.Optional(Type.String({ maxLength: 32768 })),
          secretKeyRef: Type.Optional(SecretKeyRef),
        }),
        { maxItems: 256 },
      ),
    ),
    envFromSecrets: Type.Optional(
      Type.Array(Dns1123Label('Secret whose keys become variables.', 253), { maxItems: 32 }),
    ),
    probes: Type.Optional(Type.Object({ readiness: Type.Optional(Probe), liveness: Type.Optional(Probe) })),
    expose: Type.Optional(Expose),
    autoscaling: Type.Optional(
      withRules(
        Type.Object({
          minReplicas: Type.Integer({ minimum: 1, maximum: 1000 }),
          maxReplicas: Type.Integer({ minimum: 1, maximum: 1000 }),
          targetCPUUtilizationPercentage: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100, default: 80 }),
          ),
        }),
        [
          {
            rule: 'self.minReplicas <= self.maxReplicas',
            message: 'autoscaling.minReplicas must not exceed maxReplicas',
          },
        ],
      ),
    ),
    disruptionBudget: Type.Optional(
      Type.Object({ minAvailable: Type.Integer({ minimum: 0, maximum: 1000 }) }),
    ),
    rollbackTo: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Revision (from status.history) to roll back to; delivery pins it.',
      }),
    ),
  }),
  [
    {
      rule: '!has(self.env) || self.env.all(e, !(has(e.value) && has(e.secretKeyRef)))',
      message: 'an env entry sets either value or secretKeyRef, not both',
      fieldPath: '.env',
    },
  ],
);

export const InventoryEntry = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  namespace: Type.Optional(Type.String()),
  name: Type.String(),
});

export const AppStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  phase: Type.Optional(StringEnum(['Pending', 'Progressing', 'Ready', 'Degraded', 'Failed'] as const)),
  revision: Type.Optional(Type.Integer({ minimum: 0 })),
  sourceRevision: Type.Optional(
    Type.String({ description: 'Image digest/tag, Git commit or chart version deployed.' }),
  ),
  url: Type.Optional(Type.String()),
  conditions: Type.Optional(Conditions()),
  inventory: Type.Optional(
    Type.Array(InventoryEntry, { description: 'Objects applied for the current revision.' }),
  ),
  history: Type.Optional(
    Type.Array(
      Type.Object({
        revision: Type.Integer({ minimum: 1 }),
        sourceRevision: Type.String(),
        deployedAt: Type.String({ format: 'date-time' }),
      }),
      { maxItems: 10, description: 'The last 10 revisions, newest first.' },
    ),
  ),
  driftCorrections: Type.Optional(Type.Integer({ minimum: 0 })),
});

export type AppSpec = Static<typeof AppSpec>;
export type AppStatus = Static<typeof AppStatus>;
