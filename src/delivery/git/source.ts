import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { SourceError, type Rendered, type Source, type SourceContext } from '../source.ts';
import { RepoCache, checkRefName, type GitRef } from './cache.ts';
import { credentialsFor, materialize, secretValues } from './credentials.ts';
import { gitEnv } from './env.ts';
import { normalizeRepoPath, renderDirectory } from './render.ts';
import { RepoUrlError, parseRepoUrl } from './url.ts';

export interface GitSourceOptions {
  gitBinary: string;
  kubectlBinary: string;
  /** Shared cache directory (KUBEOP_GIT_CACHE_DIR). */
  cacheDir: string;
  /** Per git/kubectl command (KUBEOP_GIT_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** KUBEOP_GIT_MAX_REPO_MB in bytes. */
  maxRepoBytes: number;
  /**
   * Renders a chart directory found in a repository; wired to the helm source's `helm template`
   * runner. Without it a chart in a repository is a RenderFailed.
   */
  helmTemplate?: (opts: {
    chartDir: string;
    releaseName: string;
    namespace: string;
    signal?: AbortSignal;
  }) => Promise<KubeObject[]>;
  /** The operator's environment, for PATH and proxy variables only. */
  env?: Record<string, string | undefined>;
}

const DEFAULT_POLL_SECONDS = 300;

/** The ref an App's git source asks for. */
export function refOf(git: { branch?: string; tag?: string; commit?: string }): GitRef {
  if (git.commit) return { kind: 'commit', sha: git.commit.toLowerCase() };
  if (git.tag) {
    checkRefName(git.tag, 'tag');
    return { kind: 'tag', name: git.tag };
  }
  if (git.branch) {
    checkRefName(git.branch, 'branch');
    return { kind: 'branch', name: git.branch };
  }
  return { kind: 'default' };
}

/**
 * The git delivery source: resolves the App's branch, tag or commit with the `git` CLI against a
 * cache shared by Apps using the same repository, and renders the directory at `path`. The
 * resolved commit SHA is the revision. A branch, tag or the default branch is polled every
 * `pollIntervalSeconds` (the controller requeues after `requeueAfterMs`); a pinned commit is not.
 */
export function gitSource(opts: GitSourceOptions): Source {
  const cache = new RepoCache({
    gitBinary: opts.gitBinary,
    dir: opts.cacheDir,
    timeoutMs: opts.timeoutMs,
    maxRepoBytes: opts.maxRepoBytes,
  });
  return {
    async render(ctx: SourceContext): Promise<Rendered> {
      const spec = ctx.app.spec.source.git;
      if (!spec) throw new Error('gitSource.render called for an App without source.git');
      let url;
      try {
        url = parseRepoUrl(spec.url);
      } catch (err) {
        if (err instanceof RepoUrlError) {
          throw new SourceError('SourceUnreachable', `git.url: ${err.message}`, { retryable: false });
        }
        throw err;
      }
      const ref = refOf(spec);
      const path = normalizeRepoPath(spec.path);
      const secretName = spec.credentialsSecretName;
      const credentials = credentialsFor(
        url,
        secretName,
        secretName ? await ctx.readSecret(secretName) : undefined,
      );
      const { auth, home, cleanup } = await materialize(credentials, url, opts.cacheDir);
      let checkoutDir: string | undefined;
      try {
        const timeoutSeconds = Math.ceil(opts.timeoutMs / 1000);
        const env = gitEnv({ home, url, auth, timeoutSeconds, inherited: opts.env ?? process.env });
        const secrets = [...secretValues(credentials), home];
        const signal = ctx.signal;
        const { commit, dir } = await cache
          .checkout({ url, env, secrets, ...(signal ? { signal } : {}) }, ref)
          .catch((err: unknown) => {
            throw explainAuthFailure(err, url.display, secretName);
          });
        checkoutDir = dir;
        const helm = opts.helmTemplate;
        const objects = await renderDirectory(dir, path, {
          kubectlBinary: opts.kubectlBinary,
          timeoutMs: opts.timeoutMs,
          // kustomize may fetch remote bases: the same isolated git settings, without the App's
          // credentials (they are scoped to this repository's origin anyway).
          env: gitEnv({
            home,
            url: { ...url, protocol: 'https' },
            auth: { kind: 'none' },
            timeoutSeconds,
            inherited: opts.env ?? process.env,
          }),
          secrets: [...secrets, dirname(dir)],
          ...(signal ? { signal } : {}),
          ...(helm
            ? {
                helmTemplate: (chartDir: string) =>
                  helm({
                    chartDir,
                    releaseName: ctx.app.metadata.name,
                    namespace: ctx.namespace,
                    ...(signal ? { signal } : {}),
                  }),
              }
            : {}),
        });
        return {
          objects,
          sourceRevision: commit,
          ...(ref.kind === 'commit'
            ? {}
            : { requeueAfterMs: (spec.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS) * 1000 }),
        };
      } finally {
        if (checkoutDir) await rm(dirname(checkoutDir), { recursive: true, force: true });
        await cleanup();
      }
    },
  };
}

/** Git's own words for a refused login are cryptic; say what to fix, keeping them as detail. */
function explainAuthFailure(err: unknown, display: string, secretName: string | undefined): unknown {
  if (!(err instanceof SourceError) || err.reason !== 'CredentialsMissing') return err;
  const fix = secretName
    ? `${display} refused the credentials in Secret "${secretName}"`
    : `${display} requires credentials: set git.credentialsSecretName to a Secret with \`username\`/\`password\` (HTTPS) or \`ssh-privatekey\` (SSH)`;
  return new SourceError('CredentialsMissing', `${fix} (${err.message})`, { retryable: false, cause: err });
}
