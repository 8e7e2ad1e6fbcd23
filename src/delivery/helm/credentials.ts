import { SourceError, type SourceContext } from '../source.ts';
import { sha256 } from './cache.ts';
import type { HelmSourceSpec } from './spec.ts';

export interface RepoCredentials {
  username: string;
  password: string;
}

/**
 * The repository credentials an App names (`credentialsSecretName`: a Secret with `username` and
 * `password`), or undefined for a public repository. A missing Secret or key is CredentialsMissing.
 */
export async function readCredentials(
  spec: HelmSourceSpec,
  ctx: Pick<SourceContext, 'readSecret' | 'namespace'>,
): Promise<RepoCredentials | undefined> {
  const name = spec.credentialsSecretName;
  if (!name) return undefined;
  const data = await ctx.readSecret(name);
  if (!data) {
    throw new SourceError(
      'CredentialsMissing',
      `Secret ${name} (source.helm.credentialsSecretName) does not exist in namespace ${ctx.namespace}`,
      { retryable: true },
    );
  }
  const { username, password } = data;
  if (!username || !password) {
    throw new SourceError(
      'CredentialsMissing',
      `Secret ${name} (source.helm.credentialsSecretName) needs the keys username and password`,
      { retryable: true },
    );
  }
  return { username, password };
}

/**
 * What separates cache entries fetched with different credentials: a chart from a private
 * repository, cached for one App, must not be served to another App that cannot authenticate.
 */
export function credentialsKey(credentials: RepoCredentials | undefined): string {
  return credentials ? sha256(`${credentials.username}\n${credentials.password}`).slice(0, 16) : 'anonymous';
}

export function basicAuth(credentials: RepoCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
