/**
 * One accepted and one refused spec for every distinct CEL rule of the CRDs. The unit test of
 * celViolations (src/schemas/cel.test.ts) checks it covers every rule; the e2e test
 * test/e2e/cel-consistency.test.ts sends the same specs to a real API server, so the evaluator and
 * Kubernetes are proven to agree.
 */
export const tenant = { owners: [{ kind: 'User', name: 'alice' }] };
export const project = { tenantRef: { name: 'acme' } };
export const app = { source: { image: { ref: 'nginx:1.27' } } };
const git = (g: object) => ({ source: { git: { url: 'https://example.com/r.git', ...g } } });
const expose = (tls: object) => ({ ...app, expose: { hosts: ['web.example.com'], port: 8080, tls } });
const limits = (l: object) => ({ ...project, limits: l });

export interface CelCase {
  kind: 'Tenant' | 'Project' | 'App';
  message: string;
  accept: unknown;
  refuse: unknown;
  /** Where the refusal is reported. */
  path: string;
  /** The stored value, for transition rules. */
  old?: unknown;
}

export const celCases: CelCase[] = [
  {
    kind: 'Tenant',
    message: 'must be a Kubernetes quantity such as 500m, 2 or 4Gi',
    accept: { ...tenant, quota: { cpu: '500m', memory: '1.5Gi', storage: '1e3' } },
    refuse: { ...tenant, quota: { memory: 'lots' } },
    path: '/quota/memory',
  },
  {
    kind: 'Tenant',
    message: 'must not be negative: quotas, limits and requests are amounts of 0 or more',
    accept: { ...tenant, quota: { cpu: '0', memory: '+1Gi' } },
    refuse: { ...tenant, quota: { cpu: '-16' } },
    path: '/quota/cpu',
  },
  {
    kind: 'Tenant',
    message:
      'must be at most 9223372036854775807m (about 9.2e15 units): Kubernetes counts resources in int64 milli-units',
    accept: { ...tenant, quota: { cpu: '9223372036854775807m', memory: '8Pi' } },
    refuse: { ...tenant, quota: { memory: '1e30' } },
    path: '/quota/memory',
  },
  {
    kind: 'Tenant',
    message: 'every egressCIDRs entry must be a CIDR such as 10.0.0.0/8',
    accept: { ...tenant, policy: { egressCIDRs: ['10.0.0.0/8', '2001:db8::/32'] } },
    refuse: { ...tenant, policy: { egressCIDRs: ['10.0.0.0/8', '10.0.0.0/33'] } },
    path: '/policy/egressCIDRs',
  },
  {
    kind: 'Tenant',
    message: 'owners must not list the same user or group twice',
    accept: { owners: [...tenant.owners, { kind: 'Group', name: 'alice' }] },
    refuse: { owners: [...tenant.owners, { kind: 'User', name: 'alice' }] },
    path: '/owners',
  },
  {
    kind: 'Project',
    message: 'tenantRef is immutable; create a new Project in the other tenant instead',
    accept: project,
    refuse: { tenantRef: { name: 'other' } },
    path: '/tenantRef',
    old: project,
  },
  {
    kind: 'Project',
    message: 'members must not list the same user or group twice',
    accept: {
      ...project,
      members: [
        { kind: 'User', name: 'bob', role: 'edit' },
        { kind: 'Group', name: 'bob', role: 'view' },
      ],
    },
    refuse: {
      ...project,
      members: [
        { kind: 'User', name: 'bob', role: 'edit' },
        { kind: 'User', name: 'bob', role: 'view' },
      ],
    },
    path: '/members',
  },
  {
    kind: 'Project',
    message: 'limits.defaultRequest must not exceed limits.default',
    accept: limits({ defaultRequest: { cpu: '500m', memory: '1Gi' }, default: { cpu: '1', memory: '1Gi' } }),
    refuse: limits({ defaultRequest: { memory: '2Gi' }, default: { memory: '1024Mi' } }),
    path: '/limits',
  },
  {
    kind: 'Project',
    message: 'limits.default must not exceed limits.max',
    accept: limits({ default: { cpu: '1' }, max: { cpu: '1000m' } }),
    refuse: limits({ default: { cpu: '1001m' }, max: { cpu: '1' } }),
    path: '/limits',
  },
  {
    kind: 'App',
    message: 'set exactly one of source.image, source.git, source.helm and source.raw',
    accept: { source: { helm: { chart: 'oci://ghcr.io/acme/web' } } },
    refuse: { source: { image: { ref: 'nginx' }, helm: { chart: 'web' } } },
    path: '/source',
  },
  {
    kind: 'App',
    message:
      'set source.helm.repoURL with a chart name, or give source.helm.chart as a full oci:// reference (not both)',
    accept: { source: { helm: { chart: 'web', repoURL: 'https://charts.example.com' } } },
    refuse: { source: { helm: { chart: 'oci://ghcr.io/acme/web', repoURL: 'https://charts.example.com' } } },
    path: '/source/helm',
  },
  {
    kind: 'App',
    message: 'set at most one of git.branch, git.tag and git.commit',
    accept: git({ tag: 'v1' }),
    refuse: git({ branch: 'main', commit: 'abcdef0' }),
    path: '/source/git',
  },
  {
    kind: 'App',
    message: 'git.path must stay inside the repository (no ..)',
    accept: git({ path: 'deploy/prod' }),
    refuse: git({ path: 'deploy/../../etc' }),
    path: '/source/git',
  },
  {
    kind: 'App',
    message:
      'expose.tls.secretName is required when expose.tls.mode is Secret: name a TLS Secret in this namespace, or use mode Auto',
    accept: expose({ mode: 'Secret', secretName: 'tls' }),
    refuse: expose({ mode: 'Secret' }),
    path: '/expose',
  },
  {
    kind: 'App',
    message:
      'expose.tls.secretName applies only to expose.tls.mode Secret: set mode: Secret or remove secretName',
    accept: expose({ mode: 'None' }),
    refuse: expose({ mode: 'Auto', secretName: 'tls' }),
    path: '/expose',
  },
  {
    kind: 'App',
    message:
      'expose.tls.clusterIssuer applies only to expose.tls.mode Auto: set mode: Auto or remove clusterIssuer',
    accept: expose({ mode: 'Auto', clusterIssuer: 'letsencrypt' }),
    refuse: expose({ mode: 'None', clusterIssuer: 'letsencrypt' }),
    path: '/expose',
  },
  {
    kind: 'App',
    message: 'expose needs a container port: set spec.ports (the first one is exposed) or expose.port',
    accept: { ...app, ports: [{ containerPort: 8080 }], expose: { hosts: ['web.example.com'] } },
    refuse: { ...app, expose: { hosts: ['web.example.com'] } },
    path: '/expose',
  },
  {
    kind: 'App',
    message: 'a probe needs a port: set its port, spec.ports or expose.port',
    accept: { ...app, probes: { readiness: { path: '/ready', port: 8080 } } },
    refuse: { ...app, probes: { readiness: { path: '/ready', port: 8080 }, liveness: { path: '/live' } } },
    path: '/probes',
  },
  {
    kind: 'App',
    message: 'autoscaling.minReplicas must not exceed maxReplicas',
    accept: { ...app, autoscaling: { minReplicas: 2, maxReplicas: 2 } },
    refuse: { ...app, autoscaling: { minReplicas: 3, maxReplicas: 2 } },
    path: '/autoscaling',
  },
  {
    kind: 'App',
    message: 'an env entry sets either value or secretKeyRef, not both',
    accept: {
      ...app,
      env: [
        { name: 'A', value: '1' },
        { name: 'B', secretKeyRef: { name: 's', key: 'k' } },
      ],
    },
    refuse: { ...app, env: [{ name: 'A', value: '1', secretKeyRef: { name: 's', key: 'k' } }] },
    path: '/env',
  },
];

/**
 * Quantities as a quota, limit or request, with what Kubernetes answers: `true` accepted, else the
 * message of the refusal. The unit test checks the evaluator, the e2e test the real API server.
 */
const notQuantity = 'must be a Kubernetes quantity such as 500m, 2 or 4Gi';
const negative = 'must not be negative: quotas, limits and requests are amounts of 0 or more';
const tooLarge =
  'must be at most 9223372036854775807m (about 9.2e15 units): Kubernetes counts resources in int64 milli-units';
export const quantityCases: Array<[string, true | string]> = [
  ['0', true],
  ['500m', true],
  ['1.5Gi', true],
  ['+4k', true],
  ['.5', true],
  ['1e3', true],
  ['1E-3', true],
  ['100n', true],
  ['8Pi', true],
  ['9223372036854775807m', true],
  ['9223372036854775', true],
  ['-0', true],
  ['-1', negative],
  ['-16', negative],
  ['-500m', negative],
  ['-1Gi', negative],
  ['-1e-3', negative],
  ['9223372036854775808m', tooLarge],
  ['9223372036854776', tooLarge],
  ['9223372036854775808', tooLarge],
  ['99999999999999999999999', tooLarge],
  ['1e30', tooLarge],
  ['8Ei', tooLarge],
  ['lots', notQuantity],
  ['1Gb', notQuantity],
  ['1K', notQuantity],
  ['1e', notQuantity],
  ['--1', notQuantity],
  ['1.5.5', notQuantity],
  ['0x10', notQuantity],
];
