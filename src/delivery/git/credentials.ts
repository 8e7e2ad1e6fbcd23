import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from '../source.ts';
import type { GitAuth } from './env.ts';
import type { RepoUrl } from './url.ts';

/** What the credentials Secret (or the URL) supplies, before anything is written to disk. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'ssh'; privateKey: string; knownHosts?: string };

/**
 * Reads the credentials an App's repository needs from its Secret's data (already decoded):
 * `username`/`password` for HTTPS (a token goes in `password`; `username` defaults to `git`),
 * `ssh-privatekey` and optionally `known_hosts` for SSH — the keys of the kubernetes.io/basic-auth
 * and kubernetes.io/ssh-auth Secret types. Without a Secret, a password in an HTTPS URL is used.
 */
export function credentialsFor(
  url: RepoUrl,
  secretName: string | undefined,
  data: Record<string, string> | undefined,
): Credentials {
  if (secretName === undefined) {
    if (url.protocol === 'ssh') {
      throw new SourceError(
        'CredentialsMissing',
        'an SSH repository needs git.credentialsSecretName: a Secret with an `ssh-privatekey` key',
      );
    }
    if (url.password) return { kind: 'basic', username: url.user ?? 'git', password: url.password };
    return { kind: 'none' };
  }
  if (!data) {
    throw new SourceError(
      'CredentialsMissing',
      `the credentials Secret "${secretName}" does not exist in the project namespace`,
    );
  }
  if (url.protocol === 'ssh') {
    const privateKey = data['ssh-privatekey'] ?? data.identity;
    if (!privateKey?.trim()) {
      throw new SourceError(
        'CredentialsMissing',
        `the credentials Secret "${secretName}" has no \`ssh-privatekey\` key`,
      );
    }
    const knownHosts = data.known_hosts ?? data['ssh-knownhosts'];
    return { kind: 'ssh', privateKey, ...(knownHosts?.trim() ? { knownHosts } : {}) };
  }
  const password = data.password ?? data.token;
  if (!password) {
    throw new SourceError(
      'CredentialsMissing',
      `the credentials Secret "${secretName}" has no \`password\` key`,
    );
  }
  return { kind: 'basic', username: data.username || url.user || 'git', password };
}

/** Strings that must never appear in a message: the secret values themselves. */
export function secretValues(c: Credentials): string[] {
  switch (c.kind) {
    case 'basic':
      return [c.password, Buffer.from(`${c.username}:${c.password}`).toString('base64')];
    case 'ssh':
      return [c.privateKey.trim()];
    default:
      return [];
  }
}

/**
 * Turns credentials into what git gets. SSH material is written to a fresh private directory
 * (0700, key 0600) that `cleanup` removes; without a `known_hosts` in the Secret, host keys are
 * trusted on first use and pinned in `<cacheDir>/known_hosts/<host>` (see env.ts).
 */
export async function materialize(
  c: Credentials,
  url: RepoUrl,
  cacheDir: string,
): Promise<{ auth: GitAuth; home: string; cleanup: () => Promise<void> }> {
  await mkdir(join(cacheDir, 'tmp'), { recursive: true, mode: 0o700 });
  const home = await mkdtemp(join(cacheDir, 'tmp', 'home-'));
  const cleanup = () => rm(home, { recursive: true, force: true });
  try {
    if (c.kind === 'basic') return { auth: c, home, cleanup };
    if (c.kind === 'none') return { auth: { kind: 'none' }, home, cleanup };
    const keyFile = join(home, 'id');
    // OpenSSH refuses a key without its final newline; Secrets edited by hand often lose it.
    await writeFile(keyFile, c.privateKey.trim() + '\n', { mode: 0o600 });
    let knownHostsFile: string;
    if (c.knownHosts) {
      knownHostsFile = join(home, 'known_hosts');
      await writeFile(knownHostsFile, c.knownHosts.trim() + '\n', { mode: 0o600 });
    } else {
      const dir = join(cacheDir, 'known_hosts');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const host = `${url.host}:${url.port ?? 22}`;
      knownHostsFile = join(dir, createHash('sha256').update(host).digest('hex').slice(0, 24));
    }
    return {
      auth: { kind: 'ssh', keyFile, knownHostsFile, strictHostKeys: c.knownHosts !== undefined },
      home,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
