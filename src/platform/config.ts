import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { parseListenAddress } from './address.ts';

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
      secret: true,
    }),
  ),
  KUBEOP_API_RATE_LIMIT: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 600,
    description:
      'Manager API requests per minute per token (per client address before authentication); beyond it, 429.',
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

const formatChecks: Record<string, (value: string) => string | undefined> = {
  'listen-address': (v) =>
    parseListenAddress(v) ? undefined : 'expected host:port, for example 127.0.0.1:8080 or [::1]:8080',
  'https-url': (v) => {
    try {
      return new URL(v).protocol === 'https:' ? undefined : 'expected an https:// URL';
    } catch {
      return 'expected an https:// URL';
    }
  },
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
