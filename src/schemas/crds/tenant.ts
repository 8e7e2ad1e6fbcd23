import Type, { type Static } from 'typebox';
import { Conditions, Count, Quantity, StringEnum, StringMap, withRules } from '../kube-types.ts';

export const Subject = Type.Object({
  kind: StringEnum(['User', 'Group'] as const, {
    description: 'A user or a group as the API server authenticates them.',
  }),
  name: Type.String({ minLength: 1, maxLength: 253, description: 'User or group name.' }),
});

export const ServiceType = StringEnum(['ClusterIP', 'NodePort', 'LoadBalancer'] as const);

export const TenantQuota = Type.Object(
  {
    cpu: Type.Optional(Quantity('CPU requests summed over every namespace of the tenant.')),
    memory: Type.Optional(Quantity('Memory requests summed over every namespace of the tenant.')),
    storage: Type.Optional(Quantity('Persistent volume claim storage requested over every namespace.')),
    pods: Type.Optional(Count('Pods over every namespace of the tenant.')),
    services: Type.Optional(Count('Services over every namespace.')),
    loadBalancers: Type.Optional(Count('Services of type LoadBalancer.')),
  },
  {
    description:
      'Tenant-wide limits. Each project is allocated a share (its spec.quota); allocations never add up to more than these limits, so usage cannot either.',
  },
);

export const ProjectQuotaDefaults = Type.Object(
  {
    cpu: Type.Optional(Quantity('CPU requests of a project namespace.')),
    memory: Type.Optional(Quantity('Memory requests of a project namespace.')),
    limitsCpu: Type.Optional(Quantity('CPU limits of a project namespace.')),
    limitsMemory: Type.Optional(Quantity('Memory limits of a project namespace.')),
  },
  {
    description:
      "The compute quota of each of the tenant's projects that sets none in its spec.quota, field by field over the platform default (`KUBEOP_PROJECT_QUOTA_*`). Applies to resources the tenant does not limit itself; a project opts out with spec.quota.unlimitedCompute.",
  },
);

export const TenantPolicy = Type.Object({
  allowedRegistries: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
      maxItems: 64,
      description:
        'Registries images may come from (`docker.io`, `ghcr.io/acme`, `registry:5000`). Empty allows any.',
    }),
  ),
  allowedIngressDomains: Type.Optional(
    Type.Array(
      Type.String({
        pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,63}$',
        maxLength: 253,
        description: 'A DNS domain; the domain and its subdomains are allowed.',
      }),
      { maxItems: 64, description: 'Hostnames of ingresses and routes must lie under one of these domains.' },
    ),
  ),
  egressCIDRs: Type.Optional(
    withRules(
      Type.Array(Type.String({ maxLength: 43 }), {
        maxItems: 64,
        description: 'Destinations outside the cluster that workloads may reach, in CIDR notation.',
      }),
      [
        {
          rule: 'self.all(c, isCIDR(c))',
          message: 'every egressCIDRs entry must be a CIDR such as 10.0.0.0/8',
        },
      ],
    ),
  ),
  allowedServiceTypes: Type.Optional(
    Type.Array(ServiceType, {
      maxItems: 3,
      description: 'Service types tenants may create. Default: ClusterIP only.',
    }),
  ),
});

export const TenantSpec = withRules(
  Type.Object(
    {
      owners: Type.Array(Subject, {
        minItems: 1,
        maxItems: 64,
        description: 'Users and groups who administer the tenant (tenant-admin).',
      }),
      quota: Type.Optional(TenantQuota),
      projectQuotaDefaults: Type.Optional(ProjectQuotaDefaults),
      policy: Type.Optional(TenantPolicy),
    },
    {
      description:
        'What a tenant is. Its billing plan is not part of it: the manager API assigns plans with effective dates (`PUT /v1/tenants/{tenant}/plan`). `spec.billing.planRef`, accepted and ignored by earlier v1alpha1 builds, was removed.',
    },
  ),
  [
    {
      rule: 'self.owners.all(o, self.owners.exists_one(p, p.kind == o.kind && p.name == o.name))',
      message: 'owners must not list the same user or group twice',
      fieldPath: '.owners',
    },
  ],
);

export const TenantStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions()),
  namespaces: Type.Optional(Type.Array(Type.String(), { description: 'Namespaces of the tenant projects.' })),
  projects: Type.Optional(Type.Integer({ minimum: 0, description: 'Number of projects.' })),
  quota: Type.Optional(
    Type.Object({
      allowed: Type.Optional(StringMap({ description: 'Tenant limits by ResourceQuota resource name.' })),
      allocated: Type.Optional(StringMap({ description: 'Sum of project allocations.' })),
      used: Type.Optional(StringMap({ description: 'Usage summed over the tenant namespaces.' })),
    }),
  ),
});

export type TenantSpec = Static<typeof TenantSpec>;
export type TenantStatus = Static<typeof TenantStatus>;
export type TenantQuota = Static<typeof TenantQuota>;
export type TenantPolicy = Static<typeof TenantPolicy>;
export type Subject = Static<typeof Subject>;
