import { parse, stringify } from 'yaml';

/**
 * Kubeconfigs as the manager accepts and hands them out. Pure functions: no file, no network.
 *
 * A kubeconfig given to the manager is a credential the manager will use for years, from any replica,
 * so it must be self-contained and must not make the manager run anything:
 * - `exec` and `auth-provider` users are refused (they run a command or a plugin on the manager — a
 *   user-supplied command line is remote code execution);
 * - file references (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`) are
 *   refused: they would read the manager's own files;
 * - only the current context is kept; everything else in the file is dropped before it is sealed.
 * Error messages name the problem, never a value from the file.
 */
export const MAX_KUBECONFIG_BYTES = 64 * 1024;

export class KubeconfigError extends Error {
  readonly code = 'KUBEOP_ERR_KUBECONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export interface ClusterEndpoint {
  server: string;
  /** PEM of the CA that signs the API server's certificate, when the kubeconfig pins one. */
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface NormalisedKubeconfig {
  /** A kubeconfig with the current context only, credentials inline: what gets sealed. */
  text: string;
  endpoint: ClusterEndpoint;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function named(list: unknown, name: string, what: string): Obj {
  if (!Array.isArray(list)) throw new KubeconfigError(`the kubeconfig has no "${what}" list`);
  const hit = list.find((e) => isObj(e) && e.name === name) as Obj | undefined;
  const inner = hit?.[what.slice(0, -1)];
  if (!isObj(inner))
    throw new KubeconfigError(`the current context refers to a ${what.slice(0, -1)} the kubeconfig lacks`);
  return inner;
}

const userAllowed = new Set(['client-certificate-data', 'client-key-data', 'token']);
const clusterAllowed = new Set([
  'server',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
]);

function base64Pem(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(value))
    throw new KubeconfigError(`${field} must be base64`);
  const pem = Buffer.from(value, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN ')) throw new KubeconfigError(`${field} is not base64 of a PEM block`);
  return pem;
}

/** Validates a kubeconfig for registration and reduces it to its current context. */
export function normaliseKubeconfig(text: string): NormalisedKubeconfig {
  if (Buffer.byteLength(text) > MAX_KUBECONFIG_BYTES)
    throw new KubeconfigError(`the kubeconfig is larger than ${MAX_KUBECONFIG_BYTES / 1024} KiB`);
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0 });
  } catch {
    throw new KubeconfigError('the kubeconfig is not valid YAML or JSON');
  }
  if (!isObj(doc)) throw new KubeconfigError('the kubeconfig is not a YAML mapping');
  const current = doc['current-context'];
  if (typeof current !== 'string' || !current)
    throw new KubeconfigError('the kubeconfig has no current-context');
  const context = named(doc.contexts, current, 'contexts');
  const clusterName = context.cluster;
  const userName = context.user;
  if (typeof clusterName !== 'string' || typeof userName !== 'string')
    throw new KubeconfigError('the current context names no cluster or no user');
  const cluster = named(doc.clusters, clusterName, 'clusters');
  const user = named(doc.users, userName, 'users');

  if (user.exec !== undefined || user['auth-provider'] !== undefined)
    throw new KubeconfigError(
      'exec and auth-provider users are not accepted (the manager would run them); use a token or client certificate',
    );
  for (const key of Object.keys(user)) {
    if (!userAllowed.has(key))
      throw new KubeconfigError(
        `user field "${key}" is not accepted; give credentials inline (token, or client-certificate-data and client-key-data)`,
      );
  }
  const hasCert = user['client-certificate-data'] !== undefined || user['client-key-data'] !== undefined;
  if (hasCert) {
    base64Pem(user['client-certificate-data'], 'client-certificate-data');
    base64Pem(user['client-key-data'], 'client-key-data');
  } else if (typeof user.token !== 'string' || !user.token) {
    throw new KubeconfigError(
      'the user has no credentials: a token, or client-certificate-data and client-key-data',
    );
  }
  for (const key of Object.keys(cluster)) {
    if (!clusterAllowed.has(key))
      throw new KubeconfigError(
        `cluster field "${key}" is not accepted; give the CA inline as certificate-authority-data`,
      );
  }
  let url: URL;
  try {
    url = new URL(String(cluster.server));
  } catch {
    throw new KubeconfigError('the cluster server is not a URL');
  }
  if (url.protocol !== 'https:') throw new KubeconfigError('the cluster server must be an https:// URL');
  const endpoint: ClusterEndpoint = { server: url.toString().replace(/\/$/, '') };
  if (cluster['certificate-authority-data'] !== undefined)
    endpoint.caPem = base64Pem(cluster['certificate-authority-data'], 'certificate-authority-data');
  if (cluster['insecure-skip-tls-verify'] === true) endpoint.insecureSkipTlsVerify = true;
  if (endpoint.caPem && endpoint.insecureSkipTlsVerify)
    throw new KubeconfigError('certificate-authority-data and insecure-skip-tls-verify exclude each other');

  const reduced = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { ...cluster, server: endpoint.server } }],
    users: [{ name: userName, user }],
    contexts: [{ name: current, context: { cluster: clusterName, user: userName } }],
    'current-context': current,
  };
  return { text: stringify(reduced), endpoint };
}

/**
 * The kubeconfig handed to a project member: one cluster (the real server URL and CA), one
 * ServiceAccount token, the project's namespace as the default.
 */
export function memberKubeconfig(opts: {
  cluster: string;
  endpoint: ClusterEndpoint;
  namespace: string;
  user: string;
  token: string;
}): string {
  const cluster: Obj = { server: opts.endpoint.server };
  if (opts.endpoint.caPem)
    cluster['certificate-authority-data'] = Buffer.from(opts.endpoint.caPem).toString('base64');
  if (opts.endpoint.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  const context = `${opts.cluster}-${opts.namespace}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.cluster, cluster }],
    users: [{ name: opts.user, user: { token: opts.token } }],
    contexts: [
      { name: context, context: { cluster: opts.cluster, user: opts.user, namespace: opts.namespace } },
    ],
    'current-context': context,
  });
}
