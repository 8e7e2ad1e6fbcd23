import Type, { type Static } from 'typebox';
import {
  Conditions,
  Count,
  Dns1123Label,
  Quantity,
  StringEnum,
  StringMap,
  withRules,
} from '../kube-types.ts';

export const ProjectRole = StringEnum(['admin', 'edit', 'view'] as const, {
  description:
    'admin: everything edit can, plus RoleBindings and NetworkPolicies in the namespace; edit: workloads and configuration; view: read only (no Secrets).',
});

export const Member = Type.Object({
  kind: StringEnum(['User', 'Group'] as const),
  name: Type.String({ minLength: 1, maxLength: 253 }),
  role: ProjectRole,
});

export const ProjectQuota = Type.Object(
  {
    cpu: Type.Optional(Quantity('CPU requests of all pods.')),
    memory: Type.Optional(Quantity('Memory requests of all pods.')),
    limitsCpu: Type.Optional(Quantity('CPU limits of all pods.')),
    limitsMemory: Type.Optional(Quantity('Memory limits of all pods.')),
    storage: Type.Optional(Quantity('Storage requested by persistent volume claims.')),
    pods: Type.Optional(Count()),
    services: Type.Optional(Count()),
    loadBalancers: Type.Optional(Count()),
    nodePorts: Type.Optional(Count()),
    secrets: Type.Optional(Count()),
    configMaps: Type.Optional(Count()),
    persistentVolumeClaims: Type.Optional(Count()),
    unlimitedCompute: Type.Optional(
      Type.Boolean({
        description:
          'Opt out of the default compute quota: cpu, memory, limitsCpu and limitsMemory left unset (and not limited by the tenant) get no quota, so the namespace may use a whole cluster. Default false: they get the tenant `spec.projectQuotaDefaults`, else the platform default (`KUBEOP_PROJECT_QUOTA_*`).',
      }),
    ),
  },
  {
    description:
      "The project's ResourceQuota. Resources the tenant limits are allocated from the tenant quota; a resource left unset gets nothing of a tenant-limited resource. Compute (cpu and memory requests and limits) left unset gets the tenant's `spec.projectQuotaDefaults`, else the platform default, unless `unlimitedCompute` is true.",
  },
);

const CpuMemory = (what: string) =>
  Type.Object({
    cpu: Type.Optional(Quantity(`${what} CPU.`)),
    memory: Type.Optional(Quantity(`${what} memory.`)),
  });

export const ProjectLimits = withRules(
  Type.Object(
    {
      defaultRequest: Type.Optional(CpuMemory('Request given to containers that set none:')),
      default: Type.Optional(CpuMemory('Limit given to containers that set none:')),
      max: Type.Optional(CpuMemory('Largest limit a container may set:')),
    },
    { description: "The project's LimitRange for containers." },
  ),
  [
    {
      rule: '!has(self.defaultRequest) || !has(self.default) || ((!has(self.defaultRequest.cpu) || !has(self.default.cpu) || quantity(self.defaultRequest.cpu).compareTo(quantity(self.default.cpu)) <= 0) && (!has(self.defaultRequest.memory) || !has(self.default.memory) || quantity(self.defaultRequest.memory).compareTo(quantity(self.default.memory)) <= 0))',
      message: 'limits.defaultRequest must not exceed limits.default',
    },
    {
      rule: '!has(self.default) || !has(self.max) || ((!has(self.default.cpu) || !has(self.max.cpu) || quantity(self.default.cpu).compareTo(quantity(self.max.cpu)) <= 0) && (!has(self.default.memory) || !has(self.max.memory) || quantity(self.default.memory).compareTo(quantity(self.max.memory)) <= 0))',
      message: 'limits.default must not exceed limits.max',
    },
  ],
);

export const ProjectSpec = withRules(
  Type.Object({
    tenantRef: withRules(Type.Object({ name: Dns1123Label('Name of the Tenant that owns this project.') }), [
      {
        rule: 'self == oldSelf',
        message: 'tenantRef is immutable; create a new Project in the other tenant instead',
      },
    ]),
    members: Type.Optional(
      Type.Array(Member, { maxItems: 256, description: 'Who may use the project namespace, and how.' }),
    ),
    quota: Type.Optional(ProjectQuota),
    limits: Type.Optional(ProjectLimits),
    network: Type.Optional(
      Type.Object({
        isolation: StringEnum(['Project', 'Tenant'] as const, {
          default: 'Project',
          description:
            'Project: only pods of this project (and the ingress controller) may connect in; Tenant: pods of every project of the same tenant may too. Traffic from other tenants is always denied.',
        }),
      }),
    ),
    environment: Type.Optional(
      StringMap({
        maxProperties: 32,
        description:
          'Target environment labels (for example `stage: prod`), matched against cluster labels by the manager.',
      }),
    ),
  }),
  [
    {
      rule: '!has(self.members) || self.members.all(m, self.members.exists_one(n, n.kind == m.kind && n.name == m.name))',
      message: 'members must not list the same user or group twice',
      fieldPath: '.members',
    },
  ],
);

export const ProjectStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions()),
  namespace: Type.Optional(Type.String({ description: 'The namespace kubeOP created for the project.' })),
  quota: Type.Optional(
    Type.Object({
      hard: Type.Optional(StringMap({ description: 'Limits in force (ResourceQuota hard).' })),
      used: Type.Optional(StringMap({ description: 'Current usage (ResourceQuota used).' })),
    }),
  ),
});

export type ProjectSpec = Static<typeof ProjectSpec>;
export type ProjectStatus = Static<typeof ProjectStatus>;
export type ProjectQuota = Static<typeof ProjectQuota>;
export type ProjectLimits = Static<typeof ProjectLimits>;
export type Member = Static<typeof Member>;
export type ProjectRole = Static<typeof ProjectRole>;
