import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceError, type SourceFailureReason } from '../source.ts';
import type { CachedChart, ChartCache } from './cache.ts';
import { credentialsKey, type RepoCredentials } from './credentials.ts';
import { runHelm } from './exec.ts';
import { isExactVersion } from './index-file.ts';

export interface OciOptions {
  helmBinary: string;
  cache: ChartCache;
  timeoutMs: number;
}

export interface OciRef {
  /** `oci://host[:port]/path/name`, without a tag. */
  ref: string;
  /** `host[:port]`, as registry logins are keyed. */
  host: string;
  /** The last path segment, which Helm requires to be the chart name. */
  name: string;
}

/** Parses `oci://host/path/chart` (a `:tag` or `@digest` is refused: versions go in `version`). */
export function parseOciRef(ref: string): OciRef {
  const bad = (why: string) =>
    new SourceError('RevisionNotFound', `"${ref}" is not a usable oci:// chart reference: ${why}`, {
      retryable: false,
    });
  if (!ref.startsWith('oci://')) throw bad('it must start with oci://');
  let url: URL;
  try {
    url = new URL(ref.replace(/^oci:/, 'https:'));
  } catch {
    throw bad('it is not a URL');
  }
  if (url.username || url.password) throw bad('credentials in the URL are not supported');
  const path = url.pathname.replace(/\/+$/, '');
  const name = path.split('/').at(-1) ?? '';
  if (name === '') throw bad('it names no chart (oci://registry/path/chart)');
  if (name.includes(':') || name.includes('@') || url.search || url.hash) {
    throw bad('put the version in source.helm.version, not in the reference');
  }
  return { ref: `oci://${url.host}${path}`, host: url.host, name };
}

/** The chart reference an App names: `chart` as a full oci:// reference, or `repoURL` + `chart`. */
export function ociRefOf(chart: string, repoURL: string | undefined): OciRef {
  if (chart.startsWith('oci://')) return parseOciRef(chart);
  return parseOciRef(`${(repoURL ?? '').replace(/\/+$/, '')}/${chart}`);
}

/** `host[:port]` is a loopback address: 127.0.0.0/8, [::1] or localhost. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** helm's OCI errors carry no codes; these phrases are the ones the registry client prints. */
export function classifyPullError(stderr: string): SourceFailureReason {
  if (
    /could not locate a version|unable to locate any tags|no matching version|: not found|manifest unknown|name unknown|repository name not known/i.test(
      stderr,
    )
  ) {
    return 'RevisionNotFound';
  }
  return 'SourceUnreachable';
}

/**
 * Pulls a chart from an OCI registry with `helm pull` (tags are versions; helm resolves a semver
 * range against the registry's tag list), into the cache. An exact version already cached needs no
 * network. Other registries are spoken to in HTTPS; helm itself falls back to HTTP when one answers
 * the TLS handshake in plain HTTP (its Helm v3 compatibility behaviour), without credentials.
 */
export async function pullOciChart(
  opts: OciOptions,
  req: {
    chart: string;
    repoURL?: string | undefined;
    version?: string | undefined;
    credentials?: RepoCredentials | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<CachedChart> {
  const ref = ociRefOf(req.chart, req.repoURL);
  const origin = `${ref.ref}#${credentialsKey(req.credentials)}`;
  const version = req.version?.trim() || undefined;
  if (isExactVersion(version)) {
    const hit = await opts.cache.get(origin, ref.name, version ?? '');
    if (hit) return hit;
  }
  const work = await mkdtemp(join(tmpdir(), 'kubeop-helm-pull-'));
  const dest = join(work, 'out');
  try {
    await mkdir(dest);
    const env: Record<string, string> = {};
    if (req.credentials) {
      // A registry login file private to this pull: never on the command line, never the host's.
      const auth = Buffer.from(`${req.credentials.username}:${req.credentials.password}`).toString('base64');
      const file = join(work, 'registry.json');
      await writeFile(file, JSON.stringify({ auths: { [ref.host]: { auth } } }), { mode: 0o600 });
      env.HELM_REGISTRY_CONFIG = file;
    }
    const args = ['pull', ref.ref, '--destination', dest];
    if (version) args.push('--version', version);
    // A registry on the operator's own loopback (a sidecar) is spoken to in plain HTTP, explicitly:
    // helm's implicit HTTPS→HTTP fallback would drop the credentials.
    if (isLoopbackHost(ref.host)) args.push('--plain-http');
    try {
      await runHelm({
        helmBinary: opts.helmBinary,
        args,
        timeoutMs: opts.timeoutMs,
        what: `pulling ${ref.ref}${version ? ` version ${version}` : ''}`,
        failureReason: 'SourceUnreachable',
        classify: classifyPullError,
        env,
        ...(req.credentials ? { secrets: [req.credentials.password] } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } catch (err) {
      if (err instanceof SourceError && err.reason === 'RevisionNotFound') {
        throw new SourceError(
          'RevisionNotFound',
          `${err.message}. Fix source.helm.version (a tag of ${ref.ref}) or the chart reference`,
          { cause: err },
        );
      }
      throw err;
    }
    const files = (await readdir(dest)).filter((f) => f.endsWith('.tgz'));
    const file = files[0];
    const prefix = `${ref.name}-`;
    if (files.length !== 1 || !file?.startsWith(prefix)) {
      throw new SourceError(
        'RenderFailed',
        `helm pull of ${ref.ref} did not produce one ${prefix}<version>.tgz package`,
      );
    }
    const resolved = file.slice(prefix.length, -'.tgz'.length);
    return await opts.cache.put(origin, ref.name, resolved, await readFile(join(dest, file)));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
