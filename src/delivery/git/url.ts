import { createHash } from 'node:crypto';

/**
 * A repository URL taken apart. Git receives `fetchUrl` (never with a password in it: a password
 * given in the URL moves to `password` and travels as a header, see env.ts), messages show
 * `display` (no userinfo at all).
 */
export interface RepoUrl {
  protocol: 'https' | 'http' | 'ssh';
  host: string;
  port?: number;
  /** The path on the server, without leading slash (`acme/web.git`). */
  path: string;
  /** The SSH user (`git` in `git@github.com:acme/web.git`) or an HTTPS username given in the URL. */
  user?: string;
  /** A password or token given in an HTTPS URL; never passed to git in argv. */
  password?: string;
  fetchUrl: string;
  display: string;
}

export class RepoUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepoUrlError';
  }
}

const hostPattern = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const ipv6Pattern = /^\[[0-9a-f:.]+\]$/;
const scpLike = /^([A-Za-z0-9._~-]+)@([^:/\s]+):(?!\/\/)(.+)$/;
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a host is this machine: plain http is accepted only there (local test servers). */
export function isLoopback(host: string): boolean {
  return loopbackHosts.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Parses and vets an App's `spec.source.git.url`. Allowed: `https://`, `ssh://`, scp-like
 * `user@host:path`, and `http://` only for a loopback host. Hosts must be DNS names or IP literals
 * (a host starting with `-` could become an ssh option); paths must be printable without spaces.
 */
export function parseRepoUrl(raw: string): RepoUrl {
  const text = raw.trim();
  if (/[\s\0-\x1f\x7f]/.test(text))
    throw new RepoUrlError('the repository URL contains spaces or control characters');
  const scp = scpLike.exec(text);
  if (scp && !text.includes('://')) {
    // Every group of scpLike is required: the defaults only satisfy the type.
    const [, user = '', host = '', path = ''] = scp;
    return finish({ protocol: 'ssh', host: checkHost(host), path: checkPath(path), user });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RepoUrlError('the repository URL is not a valid URL');
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'https' && protocol !== 'http' && protocol !== 'ssh') {
    throw new RepoUrlError(`the repository URL scheme ${protocol}:// is not allowed: use https:// or ssh://`);
  }
  const host = checkHost(url.hostname.toLowerCase());
  if (protocol === 'http' && !isLoopback(host)) {
    throw new RepoUrlError(
      'plain http:// is refused (credentials and content would travel unprotected): use https://',
    );
  }
  if (url.search || url.hash) throw new RepoUrlError('the repository URL must not have a query or fragment');
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (protocol === 'ssh' && password) throw new RepoUrlError('an ssh:// URL must not carry a password');
  return finish({
    protocol,
    host,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: checkPath(decodeURIComponent(url.pathname).replace(/^\/+/, '')),
    ...(user ? { user } : {}),
    ...(password ? { password } : {}),
  });
}

function checkHost(host: string): string {
  const h = host.toLowerCase();
  if (!hostPattern.test(h) && !ipv6Pattern.test(h)) {
    throw new RepoUrlError(`the repository host "${h.slice(0, 64)}" is not a valid host name`);
  }
  return h;
}

function checkPath(path: string): string {
  if (path === '' || path.startsWith('-'))
    throw new RepoUrlError('the repository URL has no repository path');
  if (path.split('/').some((s) => s === '..'))
    throw new RepoUrlError('the repository path must not contain ..');
  return path;
}

function finish(u: Omit<RepoUrl, 'fetchUrl' | 'display'>): RepoUrl {
  const port = u.port ? `:${u.port}` : '';
  const encodedPath = u.path
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%7E/g, '~'))
    .join('/');
  let fetchUrl: string;
  if (u.protocol === 'ssh') {
    fetchUrl = `ssh://${u.user ? `${encodeURIComponent(u.user)}@` : ''}${u.host}${port}/${u.path}`;
  } else {
    // An HTTPS username without password stays in the URL (it is not secret); the password never does.
    const user = u.user && !u.password ? `${encodeURIComponent(u.user)}@` : '';
    fetchUrl = `${u.protocol}://${user}${u.host}${port}/${encodedPath}`;
  }
  const display = `${u.protocol}://${u.host}${port}/${u.path}`;
  return { ...u, fetchUrl, display };
}

/**
 * What identifies a repository regardless of how it is spelled: host and path, lower-cased, without
 * scheme, port, user or `.git`. Webhook pushes match Apps by it (an https clone URL in the payload
 * matches an App using the ssh URL of the same repository); a false match only costs one extra sync.
 */
export function repoIdentity(u: Pick<RepoUrl, 'host' | 'path'>): string {
  return `${u.host}/${u.path}`
    .toLowerCase()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}

/** The identity of a URL string, or undefined when it does not parse. */
export function identityOf(raw: string): string | undefined {
  try {
    return repoIdentity(parseRepoUrl(raw));
  } catch {
    return undefined;
  }
}

/**
 * The cache directory name of a repository: readable (`github.com-web-…`) and unique per
 * scheme, host, port and path, so two spellings of one server never share refs by accident.
 */
export function cacheDirName(u: RepoUrl): string {
  const key = `${u.protocol}://${u.host}:${u.port ?? ''}/${u.path.replace(/\/+$/, '').replace(/\.git$/, '')}`;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const last = u.path.replace(/\/+$/, '').split('/').pop() ?? 'repo';
  const slug = `${u.host}-${last}`
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 60);
  return `${slug}-${hash}.git`;
}
