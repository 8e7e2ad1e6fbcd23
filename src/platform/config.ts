import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { parseListenAddress } from './address.ts';
import { parseRoleMap } from '../domain/oidc-role-map.ts';
import { resourceAmountProblem } from '../domain/quantity.ts';
import type { ComputeQuota } from '../domain/quota.ts';

/**
 * The configuration schema: every `KUBEOP_*` variable, its type, default and meaning. It is the single
 * source for validation at startup, the matching command-line flags (`KUBEOP_HTTP_ADDR` ⇄ `--http-addr`)
 * and docs/reference/configuration.md.
 */
export const ConfigSchema = Type.Object({
  KUBEOP_HTTP_ADDR: Type.String({
    default: '127.0.0.1:8080',
    description:
      'Address the component serves HTTP on (`host:port`, IPv6 as `[::1]:8080`, port 0 picks a free port). `/healthz`, `/readyz`, `/version` and `/metrics` are served here.',
    examples: ['0.0.0.0:8080'],
    'x-kubeop-format': 'listen-address',
  }),
  KUBEOP_LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
    ],
    { default: 'info', description: 'Minimum level of the JSON log lines written to standard output.' },
  ),
  KUBEOP_SHUTDOWN_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 600,
    default: 25,
    description:
      'On SIGTERM or SIGINT, how long in-flight requests may take to finish before connections are closed. Keep it below the pod terminationGracePeriodSeconds.',
  }),
  KUBEOP_READINESS_CHECK_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 60000,
    default: 2000,
    description: 'Time each `/readyz` dependency check may take before it counts as failing.',
  }),
  KUBEOP_KUBECONFIG: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Kubeconfig of the cluster the operator and admission work on. Unset: `KUBECONFIG`, then the in-cluster service account.',
    }),
  ),
  KUBEOP_OPERATOR_WORKERS: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'Reconciles each operator controller runs in parallel (never two for the same object).',
  }),
  KUBEOP_RESYNC_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 86400,
    default: 600,
    description:
      'How often the operator re-reconciles every object from its cache to correct drift it missed.',
  }),
  KUBEOP_APP_RESYNC_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 300,
    description:
      'How often each App is reconciled even without any event: its source is rendered again and a hand edit of a delivered object the watches missed is set back.',
  }),
  KUBEOP_LEADER_ELECT: Type.Boolean({
    default: true,
    description:
      'Run leader election so only one operator replica reconciles; turn off only for a single replica.',
  }),
  KUBEOP_LEADER_ELECTION_NAMESPACE: Type.String({
    default: 'kubeop-system',
    minLength: 1,
    description: 'Namespace of the operator leader-election Lease (`kubeop-operator`).',
  }),
  KUBEOP_INGRESS_NAMESPACE: Type.String({
    default: 'ingress-nginx',
    minLength: 1,
    description:
      "Namespace of the cluster's ingress controller; project network policies admit traffic from it.",
  }),
  KUBEOP_PROJECT_QUOTA_CPU: Type.String({
    default: '8',
    minLength: 1,
    maxLength: 64,
    description:
      'Default CPU requests (`requests.cpu`) quota of every project namespace whose Project sets none (`spec.quota`) and whose tenant neither limits it nor sets `spec.projectQuotaDefaults`. A Kubernetes quantity, or `none` for no default (a Project opts out itself with `spec.quota.unlimitedCompute: true`).',
    'x-kubeop-format': 'project-quota',
  }),
  KUBEOP_PROJECT_QUOTA_MEMORY: Type.String({
    default: '16Gi',
    minLength: 1,
    maxLength: 64,
    description:
      'Default memory requests (`requests.memory`) quota of every project namespace whose Project sets none (`spec.quota`) and whose tenant neither limits it nor sets `spec.projectQuotaDefaults`. A Kubernetes quantity, or `none` for no default (a Project opts out itself with `spec.quota.unlimitedCompute: true`).',
    'x-kubeop-format': 'project-quota',
  }),
  KUBEOP_PROJECT_QUOTA_LIMITS_CPU: Type.String({
    default: '16',
    minLength: 1,
    maxLength: 64,
    description:
      'Default CPU limits (`limits.cpu`) quota of every project namespace whose Project sets none (`spec.quota`) and whose tenant neither limits it nor sets `spec.projectQuotaDefaults`. A Kubernetes quantity, or `none` for no default (a Project opts out itself with `spec.quota.unlimitedCompute: true`).',
    'x-kubeop-format': 'project-quota',
  }),
  KUBEOP_PROJECT_QUOTA_LIMITS_MEMORY: Type.String({
    default: '32Gi',
    minLength: 1,
    maxLength: 64,
    description:
      'Default memory limits (`limits.memory`) quota of every project namespace whose Project sets none (`spec.quota`) and whose tenant neither limits it nor sets `spec.projectQuotaDefaults`. A Kubernetes quantity, or `none` for no default (a Project opts out itself with `spec.quota.unlimitedCompute: true`).',
    'x-kubeop-format': 'project-quota',
  }),
  KUBEOP_EXPOSURE: Type.Union([Type.Literal('Ingress'), Type.Literal('HTTPRoute')], {
    default: 'Ingress',
    description:
      'How image Apps with `spec.expose` are reached: a networking.k8s.io `Ingress`, or a Gateway API `HTTPRoute` attached to `KUBEOP_GATEWAY`.',
  }),
  KUBEOP_INGRESS_CLASS: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
      maxLength: 253,
      description:
        "With `KUBEOP_EXPOSURE=Ingress`: the `ingressClassName` of App Ingresses. Unset: the cluster's default IngressClass.",
      examples: ['nginx'],
    }),
  ),
  KUBEOP_GATEWAY: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
      description:
        'With `KUBEOP_EXPOSURE=HTTPRoute` (then required): the parent Gateway of App HTTPRoutes, as `<namespace>/<name>`. Its listeners must allow routes from project namespaces and terminate TLS.',
      examples: ['gateway-system/public'],
    }),
  ),
  KUBEOP_CLUSTER_ISSUER: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
      maxLength: 253,
      description:
        'The cert-manager ClusterIssuer that issues certificates for Apps with TLS mode `Auto` (an App may name another). Unset: such Apps are Degraded until they name one.',
      examples: ['letsencrypt'],
    }),
  ),
  KUBEOP_EXTERNAL_DNS: Type.Boolean({
    default: true,
    description:
      'Annotate App Ingresses and HTTPRoutes for external-dns (`external-dns.alpha.kubernetes.io/hostname`) so their DNS records are created.',
  }),
  KUBEOP_EXTERNAL_DNS_TTL: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 86400,
      description: 'TTL in seconds of the DNS records external-dns creates for Apps. Unset: its default.',
    }),
  ),
  KUBEOP_HELM_BINARY: Type.String({
    default: 'helm',
    minLength: 1,
    description:
      'The `helm` CLI that renders Helm Apps (`helm template`) and pulls OCI charts: a path, or a name looked up on `PATH`.',
  }),
  KUBEOP_HELM_CACHE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Directory where downloaded chart packages are kept, keyed by repository, credentials and version (digest-verified); packages unused for 7 days are deleted. Unset: `kubeop-helm-cache` in the system temporary directory.',
    }),
  ),
  KUBEOP_HELM_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 600,
    default: 60,
    description:
      'Time each chart repository request, chart download, OCI pull and `helm template` run may take before the App reports `SourceUnreachable` or `RenderFailed`.',
  }),
  KUBEOP_WEBHOOK_ADDR: Type.String({
    default: '0.0.0.0:9443',
    description:
      'Address the admission webhooks serve HTTPS on (`host:port`; port 0 picks a free port). Separate from `KUBEOP_HTTP_ADDR`, which keeps `/healthz`, `/readyz` and `/metrics`.',
    'x-kubeop-format': 'listen-address',
  }),
  KUBEOP_WEBHOOK_NAMESPACE: Type.String({
    default: 'kubeop-system',
    minLength: 1,
    description:
      "kubeOP's own namespace: the webhook certificate Secret and Service live here, and no kubeOP webhook ever applies to it (nor to kube-system).",
  }),
  KUBEOP_WEBHOOK_SERVICE: Type.String({
    default: 'kubeop-webhook',
    minLength: 1,
    description:
      'Service (port 443, in `KUBEOP_WEBHOOK_NAMESPACE`) the API server calls the webhooks through when running inside the cluster and `KUBEOP_WEBHOOK_URL` is unset.',
  }),
  KUBEOP_WEBHOOK_URL: Type.Optional(
    Type.String({
      description:
        'Base HTTPS URL the API server calls the webhooks at (paths `/validate/...`, `/mutate/...` are appended), for an API server outside the cluster network. Unset: the Service inside a cluster, else `https://127.0.0.1:<port of KUBEOP_WEBHOOK_ADDR>`.',
      examples: ['https://127.0.0.1:9443'],
      'x-kubeop-format': 'https-url',
    }),
  ),
  KUBEOP_WEBHOOK_CERT_SOURCE: Type.Union([Type.Literal('self'), Type.Literal('cert-manager')], {
    default: 'self',
    description:
      'Where the webhook serving certificate comes from: `self` (kubeOP keeps its own CA in `KUBEOP_WEBHOOK_CERT_SECRET` and rotates it) or `cert-manager` (a Certificate issued by `KUBEOP_WEBHOOK_CERT_ISSUER`).',
  }),
  KUBEOP_WEBHOOK_CERT_SECRET: Type.String({
    default: 'kubeop-webhook-tls',
    minLength: 1,
    description: 'Secret (in `KUBEOP_WEBHOOK_NAMESPACE`) holding the webhook CA and serving certificate.',
  }),
  KUBEOP_WEBHOOK_CERT_ISSUER: Type.Optional(
    Type.String({
      pattern: '^(Issuer|ClusterIssuer)/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
      description:
        'With `KUBEOP_WEBHOOK_CERT_SOURCE=cert-manager`: the issuer, as `ClusterIssuer/<name>` or `Issuer/<name>` (in `KUBEOP_WEBHOOK_NAMESPACE`). It must record its CA in `ca.crt`.',
      examples: ['ClusterIssuer/kubeop-ca'],
    }),
  ),
  KUBEOP_WEBHOOK_CERT_VALIDITY_HOURS: Type.Integer({
    minimum: 1,
    maximum: 87600,
    default: 2160,
    description: 'Lifetime of a webhook serving certificate; it is renewed when a third of it is left.',
  }),
  KUBEOP_WEBHOOK_CA_VALIDITY_DAYS: Type.Integer({
    minimum: 1,
    maximum: 36500,
    default: 3650,
    description:
      'Lifetime of the self-managed webhook CA; a new CA is published when a third of it is left and signs only once every webhook configuration trusts it.',
  }),
  KUBEOP_WEBHOOK_CHECK_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description:
      'How often each admission replica re-reads the webhook certificate (rotation, other replicas) and keeps the webhook configurations current.',
  }),
  KUBEOP_WEBHOOK_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 30,
    default: 3,
    description:
      'timeoutSeconds of every kubeOP webhook: how long the API server waits before failing the request.',
  }),
  KUBEOP_OPERATOR_USERNAME: Type.String({
    default: 'system:serviceaccount:kubeop-system:kubeop',
    minLength: 1,
    description:
      "The operator's Kubernetes username. Admission lets it (with system:masters and the control plane) change what kubeOP manages in tenant namespaces; anyone else is refused.",
  }),
  KUBEOP_MANAGER_USERNAME: Type.String({
    default: 'system:serviceaccount:kubeop-system:kubeop-manager',
    minLength: 1,
    description:
      "The manager's Kubernetes username. Admission lets it create and delete the kubeop-member-* ServiceAccounts and RoleBindings behind member kubeconfigs, and nothing else kubeOP manages.",
  }),
  KUBEOP_IMAGE_PULL_POLICY: Type.Union([Type.Literal('Always'), Type.Literal('Keep')], {
    default: 'Always',
    description:
      'What the pod webhook does with imagePullPolicy in tenant namespaces: `Always` sets it to Always for every image not pinned by digest (multi-tenancy check PL1-CC-DI-1); `Keep` leaves it alone.',
  }),
  KUBEOP_DB_URL: Type.Optional(
    Type.String({
      description:
        'PostgreSQL connection URL (`postgres://user:pass@host:5432/db`). When unset the manager uses embedded PGlite under `KUBEOP_DATA_DIR`.',
      examples: ['postgres://kubeop@127.0.0.1:5432/kubeop'],
      'x-kubeop-format': 'postgres-url',
      secret: true,
    }),
  ),
  KUBEOP_BOOTSTRAP_TOKEN: Type.Optional(
    Type.String({
      description:
        'The first platform-admin API token (`kop_` + 32–128 base64url characters). Unset: on first start the manager generates one and prints it once to standard error.',
      'x-kubeop-format': 'api-token',
      secret: true,
    }),
  ),
  KUBEOP_API_RATE_LIMIT: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 600,
    description:
      'Manager API requests per minute per token, and per client address for requests without a valid token; every request counts, including those refused by validation. Beyond it, 429. Probes, `/metrics`, `/version` and the API document are not limited.',
  }),
  KUBEOP_OIDC_ISSUER: Type.Optional(
    Type.String({
      description:
        'Optional OIDC sign-in: the issuer URL of the identity provider (its `iss`). Bearer JWTs are then verified against the keys its discovery document names (`jwks_uri`). Must be https (http only on loopback, for tests). Needs `KUBEOP_OIDC_AUDIENCE`. See docs/security/authentication.md.',
      examples: ['https://login.example.com/realms/kubeop'],
      'x-kubeop-format': 'oidc-issuer',
    }),
  ),
  KUBEOP_OIDC_AUDIENCE: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'With `KUBEOP_OIDC_ISSUER`: the audience (`aud`) tokens must be issued for, usually the client id.',
      examples: ['kubeop'],
    }),
  ),
  KUBEOP_OIDC_GROUPS_CLAIM: Type.String({
    default: 'groups',
    minLength: 1,
    description: 'With `KUBEOP_OIDC_ISSUER`: the token claim that lists the groups of the caller.',
  }),
  KUBEOP_OIDC_ROLE_MAP: Type.Optional(
    Type.String({
      description:
        'With `KUBEOP_OIDC_ISSUER`: the kubeOP role each group grants, as `group=role[:tenant[/project]]` entries separated by commas, or a JSON object `{"group":"role[:tenant[/project]]"}`. The first entry matching a group of the caller wins; a caller in no mapped group is refused.',
      examples: ['kubeop-admins=platform-admin,acme-ops=tenant-admin:acme,acme-web=project-editor:acme/web'],
      'x-kubeop-format': 'oidc-role-map',
    }),
  ),
  KUBEOP_MEMBER_KUBECONFIG_MAX_SECONDS: Type.Integer({
    minimum: 600,
    maximum: 2_592_000,
    default: 28_800,
    description:
      'Longest lifetime of a kubeconfig the manager issues to a project member (`POST /v1/tenants/{t}/projects/{p}/kubeconfig`); its ServiceAccount token expires then.',
  }),
  KUBEOP_DATA_DIR: Type.String({
    default: '.kubeop-data',
    minLength: 1,
    description: 'Directory for embedded state (the PGlite database when `KUBEOP_DB_URL` is unset).',
  }),
  KUBEOP_KMS_MASTER_KEY: Type.Optional(
    Type.String({
      description:
        'Key-encryption key of the local KMS provider that protects stored secrets (cluster kubeconfigs, Git and registry credentials): 32 random bytes in base64 (`openssl rand -base64 32`). Its key id is `master`. See docs/security/kms.md.',
      secret: true,
    }),
  ),
  KUBEOP_KMS_KEYS: Type.Optional(
    Type.String({
      description:
        'A keyring for key rotation: comma-separated `<key id>:<base64 32-byte key>` entries, e.g. `k2:…,k1:…`. Keeps old keys readable while `kubeop kms rotate` moves records to the active one.',
      secret: true,
    }),
  ),
  KUBEOP_KMS_ACTIVE_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Id of the key new secrets are encrypted with and rotation moves to. Required when the keyring holds more than one key.',
    }),
  ),
  KUBEOP_KMS_DEV_MODE: Type.Boolean({
    default: false,
    description:
      'Development only: without any key, encrypt secrets with a random key kept unprotected in `KUBEOP_DATA_DIR/kms-dev-key`, with a warning at every start. Never in production.',
  }),
  KUBEOP_GIT_BINARY: Type.String({
    default: 'git',
    minLength: 1,
    description: 'The `git` executable the Git delivery source runs (a name looked up in PATH, or a path).',
  }),
  KUBEOP_KUBECTL_BINARY: Type.String({
    default: 'kubectl',
    minLength: 1,
    description:
      'The `kubectl` executable that renders kustomizations found in Git repositories (`kubectl kustomize`).',
  }),
  KUBEOP_GIT_CACHE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Directory of the Git cache: one bare repository per repository URL, shared by every App using it. Disposable. Unset: `kubeop-git-cache` under the OS temporary directory.',
    }),
  ),
  KUBEOP_GIT_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description:
      'Time each `git` command (ls-remote, fetch, checkout) and each `kubectl kustomize` may take before it is killed and the source reports SourceUnreachable.',
  }),
  KUBEOP_GIT_MAX_REPO_MB: Type.Integer({
    minimum: 1,
    maximum: 102400,
    default: 256,
    description:
      'Largest size, in MiB, of a cached repository after a fetch and of the files checked out for one render; beyond it the source reports SourceTooLarge.',
  }),
  KUBEOP_GIT_WEBHOOK_SECRET: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'Shared secret of `POST /hooks/git` on the operator: pushes signed with it (`X-Hub-Signature-256`, HMAC-SHA256 as GitHub and Gitea send) sync the Apps using the pushed repository at once. Unset: the endpoint answers 404.',
      secret: true,
    }),
  ),
  KUBEOP_CLUSTER_NAME: Type.String({
    pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
    default: 'default',
    description:
      'Name of the cluster this operator runs in, as usage events report it (part of each idempotency key); use the name it is registered under in the manager.',
  }),
  KUBEOP_METERING_INTERVAL_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description:
      'How often the operator samples usage (cpu, memory, storage, load balancers, pods) of every project and app; each sample covers one interval.',
  }),
  KUBEOP_MANAGER_URL: Type.Optional(
    Type.String({
      description:
        'Base URL of the manager API the operator sends usage to (`https://kubeop.example.com`). Unset: the operator does not meter.',
      'x-kubeop-format': 'http-url',
    }),
  ),
  KUBEOP_METERING_TOKEN: Type.Optional(
    Type.String({
      description:
        'API token with the `metering` role the operator sends usage with (created with `POST /v1/tokens`, `role: metering`). Required with `KUBEOP_MANAGER_URL`.',
      secret: true,
    }),
  ),
  KUBEOP_METERING_BUFFER_EVENTS: Type.Integer({
    minimum: 1000,
    maximum: 10_000_000,
    default: 100_000,
    description:
      'Usage events the operator keeps while the manager is unreachable; beyond it the oldest are dropped and counted in `kubeop_metering_dropped_samples_total`.',
  }),
});

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config & string;

/** The one-line configuration error shown to the operator; the process exits non-zero with it. */
export class ConfigError extends Error {
  readonly code = 'KUBEOP_ERR_CONFIG';
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** `KUBEOP_HTTP_ADDR` → `--http-addr`. */
export function flagForVariable(variable: string): string {
  return (
    '--' +
    variable
      .replace(/^KUBEOP_/, '')
      .toLowerCase()
      .replaceAll('_', '-')
  );
}

interface PropertyMeta {
  description?: string;
  'x-kubeop-format'?: string;
  secret?: boolean;
  default?: unknown;
  examples?: unknown[];
}

/** The configuration variables with the schema of each, in declaration order. */
export function configVariables(): Array<{
  name: ConfigKey;
  schema: TSchema & PropertyMeta;
  required: boolean;
}> {
  const required = new Set<string>(ConfigSchema.required ?? []);
  return Object.entries(ConfigSchema.properties).map(([name, schema]) => ({
    name: name as ConfigKey,
    schema: schema as TSchema & PropertyMeta,
    required: required.has(name) && (schema as PropertyMeta).default === undefined,
  }));
}

/** What kubeOP generates or an operator may supply as an API token (manager/access/tokens.ts). */
export const API_TOKEN_PATTERN = /^kop_[A-Za-z0-9_-]{32,128}$/;
export const API_TOKEN_EXPECTED =
  'expected "kop_" followed by 32 to 128 base64url characters (A-Z, a-z, 0-9, "_", "-"), for example kop_$(openssl rand -hex 24)';

const formatChecks: Record<string, (value: string) => string | undefined> = {
  'api-token': (v) => (API_TOKEN_PATTERN.test(v) ? undefined : API_TOKEN_EXPECTED),
  'listen-address': (v) =>
    parseListenAddress(v) ? undefined : 'expected host:port, for example 127.0.0.1:8080 or [::1]:8080',
  'https-url': (v) => {
    try {
      return new URL(v).protocol === 'https:' ? undefined : 'expected an https:// URL';
    } catch {
      return 'expected an https:// URL';
    }
  },
  'http-url': (v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol)
        ? undefined
        : 'expected an http:// or https:// URL';
    } catch {
      return 'expected an http:// or https:// URL';
    }
  },
  'oidc-issuer': (v) => {
    try {
      const u = new URL(v);
      const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
      return u.protocol === 'https:' || (u.protocol === 'http:' && loopback)
        ? undefined
        : 'expected an https:// URL (http:// only on 127.0.0.1, ::1 or localhost)';
    } catch {
      return 'expected an https:// URL';
    }
  },
  'oidc-role-map': (v) => {
    try {
      parseRoleMap(v);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
  'project-quota': (v) => (v === 'none' ? undefined : resourceAmountProblem(v)?.concat(', or none')),
  'postgres-url': (v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'postgres:' || u.protocol === 'postgresql:'
        ? undefined
        : 'expected a postgres:// or postgresql:// URL';
    } catch {
      return 'expected a postgres:// or postgresql:// URL';
    }
  },
};

function expectation(meta: TSchema & PropertyMeta): string {
  const schema = meta as Record<string, unknown>;
  if (Array.isArray(schema.anyOf)) {
    return 'one of ' + (schema.anyOf as Array<{ const: unknown }>).map((s) => String(s.const)).join(', ');
  }
  if (schema.type === 'integer') {
    const lo = schema.minimum as number | undefined;
    const hi = schema.maximum as number | undefined;
    return `an integer${lo !== undefined ? ` from ${lo}` : ''}${hi !== undefined ? ` to ${hi}` : ''}`;
  }
  if (schema.type === 'boolean') return 'true or false';
  if (schema.minLength) return 'a non-empty string';
  return 'a string';
}

/**
 * Reads configuration from the environment and flags (flags win), applies defaults and validates.
 * Throws a ConfigError naming the first bad variable and what is expected; never echoes the value of
 * a secret variable. Unknown `KUBEOP_*` variables are returned so the caller can warn about typos.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: Partial<Record<ConfigKey, string>> = {},
): { config: Config; unknown: string[] } {
  const raw: Record<string, unknown> = {};
  const vars = configVariables();
  const known = new Set<string>(vars.map((v) => v.name));
  for (const { name } of vars) {
    const value = flags[name] ?? env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  for (const { name, schema, required } of vars) {
    const value = raw[name];
    if (value === undefined) {
      if (required) throw new ConfigError(name, `${name} is required: expected ${expectation(schema)}`);
      continue;
    }
    const converted = Value.Convert(schema, value);
    const shown = schema.secret ? '(value hidden)' : JSON.stringify(value);
    if (!Value.Check(schema, converted)) {
      throw new ConfigError(name, `${name}=${shown} is invalid: expected ${expectation(schema)}`);
    }
    const formatError = schema['x-kubeop-format']
      ? formatChecks[schema['x-kubeop-format']]?.(converted as string)
      : undefined;
    if (formatError) throw new ConfigError(name, `${name}=${shown} is invalid: ${formatError}`);
    raw[name] = converted;
  }
  const config = Value.Default(ConfigSchema, raw) as Config;
  const unknown = Object.keys(env).filter((k) => k.startsWith('KUBEOP_') && !known.has(k));
  return { config, unknown };
}

/** KUBEOP_PROJECT_QUOTA_* → the platform default compute quota of project namespaces (`none` left out). */
export function projectComputeQuota(config: Config): ComputeQuota {
  const out: ComputeQuota = {};
  for (const [field, value] of [
    ['cpu', config.KUBEOP_PROJECT_QUOTA_CPU],
    ['memory', config.KUBEOP_PROJECT_QUOTA_MEMORY],
    ['limitsCpu', config.KUBEOP_PROJECT_QUOTA_LIMITS_CPU],
    ['limitsMemory', config.KUBEOP_PROJECT_QUOTA_LIMITS_MEMORY],
  ] as const) {
    if (value !== 'none') out[field] = value;
  }
  return out;
}
