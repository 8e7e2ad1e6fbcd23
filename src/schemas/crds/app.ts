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

export const HelmValuesFrom = Type.Object({
  kind: StringEnum(['ConfigMap', 'Secret'] as const),
  name: Dns1123Label('ConfigMap or Secret in the project namespace.', 253),
  key: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 253,
      default: 'values.yaml',
      description: 'Key holding a YAML map of values. Default: `values.yaml`.',
    }),
  ),
  optional: Type.Optional(
    Type.Boolean({ default: false, description: 'Skip it when the object or key does not exist.' }),
  ),
});

export const HelmSource = withRules(
  Type.Object({
    chart: Type.String({
      minLength: 1,
      maxLength: 512,
      description: 'Chart name, or a full `oci://` reference.',
    }),
    repoURL: Type.Optional(
      Type.String({
        pattern: '^(https?|oci)://',
        maxLength: 2048,
        description: 'Chart repository (`https://…`, serving index.yaml) or OCI registry path (`oci://…`).',
      }),
    ),
    version: Type.Optional(
      Type.String({
        maxLength: 128,
        description:
          'Version or semver range (`1.2.3`, `^1.2`, `>=1.2 <2`). Default: the newest stable version.',
      }),
    ),
    values: Type.Optional(
      Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
    ),
    valuesFrom: Type.Optional(
      Type.Array(HelmValuesFrom, {
        maxItems: 16,
        description: 'Values files read from ConfigMaps/Secrets, merged in order before `values`.',
      }),
    ),
    credentialsSecretName: Type.Optional(
      Dns1123Label('Secret with `username`/`password` for the chart repository or OCI registry.', 253),
    ),
  }),
  [
    {
      rule: "has(self.repoURL) != self.chart.startsWith('oci://')",
      message:
        'set source.helm.repoURL with a chart name, or give source.helm.chart as a full oci:// reference (not both)',
    },
  ],
);

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
      Type.Object(
        {
          mode: StringEnum(['Auto', 'Secret', 'None'] as const, {
            default: 'Auto',
            description:
              "`Auto`: cert-manager issues a certificate from the platform's ClusterIssuer (or `clusterIssuer`). `Secret`: an existing TLS Secret. `None`: plain HTTP.",
          }),
          clusterIssuer: Type.Optional(
            Type.String({
              pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
              maxLength: 253,
              description: "With mode Auto: the cert-manager ClusterIssuer to use instead of the platform's.",
            }),
          ),
          secretName: Type.Optional(
            Dns1123Label('With mode Secret: an existing TLS Secret (`tls.crt`, `tls.key`).', 253),
          ),
        },
        { description: 'TLS for the hosts. Default: mode Auto.' },
      ),
    ),
  }),
  [
    {
      rule: "!has(self.tls) || self.tls.mode != 'Secret' || has(self.tls.secretName)",
      message:
        'expose.tls.secretName is required when expose.tls.mode is Secret: name a TLS Secret in this namespace, or use mode Auto',
    },
    {
      rule: "!has(self.tls) || self.tls.mode == 'Secret' || !has(self.tls.secretName)",
      message:
        'expose.tls.secretName applies only to expose.tls.mode Secret: set mode: Secret or remove secretName',
    },
    {
      rule: "!has(self.tls) || self.tls.mode == 'Auto' || !has(self.tls.clusterIssuer)",
      message:
        'expose.tls.clusterIssuer applies only to expose.tls.mode Auto: set mode: Auto or remove clusterIssuer',
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
    {
      rule: '!has(self.source.image) || !has(self.expose) || has(self.expose.port) || (has(self.ports) && size(self.ports) > 0)',
      message: 'expose needs a container port: set spec.ports (the first one is exposed) or expose.port',
      fieldPath: '.expose',
    },
    {
      rule: '!has(self.source.image) || !has(self.probes) || (has(self.ports) && size(self.ports) > 0) || (has(self.expose) && has(self.expose.port)) || ((!has(self.probes.readiness) || has(self.probes.readiness.port)) && (!has(self.probes.liveness) || has(self.probes.liveness.port)))',
      message: 'a probe needs a port: set its port, spec.ports or expose.port',
      fieldPath: '.probes',
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
        digest: Type.Optional(
          Type.String({ maxLength: 64, description: 'Digest of the objects the revision applied.' }),
        ),
        rollbackOf: Type.Optional(
          Type.Integer({ minimum: 1, description: 'Set when this revision re-applied an older one.' }),
        ),
      }),
      { maxItems: 10, description: 'The last 10 revisions, newest first.' },
    ),
  ),
  driftCorrections: Type.Optional(Type.Integer({ minimum: 0 })),
});

export type AppSpec = Static<typeof AppSpec>;
export type AppStatus = Static<typeof AppStatus>;
