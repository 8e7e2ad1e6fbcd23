import { describe, expect, it } from 'vitest';
import { SourceError } from '../source.ts';
import { credentialsFor, secretValues } from './credentials.ts';
import { parseRepoUrl } from './url.ts';

const https = parseRepoUrl('https://git.example.com/a/b.git');
const ssh = parseRepoUrl('git@git.example.com:a/b.git');

function failure(fn: () => unknown): SourceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SourceError) return err;
  }
  throw new Error('expected a SourceError');
}

describe('git credentials', () => {
  it('uses no credentials for a public HTTPS repository', () => {
    expect(credentialsFor(https, undefined, undefined)).toEqual({ kind: 'none' });
  });

  it('reads username and password (or token) from the Secret', () => {
    expect(credentialsFor(https, 's', { username: 'bob', password: 'pw' })).toEqual({
      kind: 'basic',
      username: 'bob',
      password: 'pw',
    });
    expect(credentialsFor(https, 's', { token: 'tok' })).toEqual({
      kind: 'basic',
      username: 'git',
      password: 'tok',
    });
  });

  it('reads an SSH key and known_hosts', () => {
    expect(
      credentialsFor(ssh, 's', { 'ssh-privatekey': 'KEY', known_hosts: 'host ssh-ed25519 AAA' }),
    ).toEqual({
      kind: 'ssh',
      privateKey: 'KEY',
      knownHosts: 'host ssh-ed25519 AAA',
    });
  });

  it('says which Secret or key is missing', () => {
    expect(failure(() => credentialsFor(https, 'creds', undefined))).toMatchObject({
      reason: 'CredentialsMissing',
      message: expect.stringContaining('"creds" does not exist'),
    });
    expect(failure(() => credentialsFor(https, 'creds', { username: 'bob' })).message).toContain(
      '`password`',
    );
    expect(failure(() => credentialsFor(ssh, 'creds', { password: 'x' })).message).toContain(
      '`ssh-privatekey`',
    );
    expect(failure(() => credentialsFor(ssh, undefined, undefined)).reason).toBe('CredentialsMissing');
  });

  it('lists the secret values to scrub, including the encoded header', () => {
    const values = secretValues({ kind: 'basic', username: 'bob', password: 'pw12' });
    expect(values).toContain('pw12');
    expect(values).toContain(Buffer.from('bob:pw12').toString('base64'));
  });
});
