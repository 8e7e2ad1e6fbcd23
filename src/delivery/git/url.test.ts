import { describe, expect, it } from 'vitest';
import { cacheDirName, identityOf, parseRepoUrl, RepoUrlError } from './url.ts';

describe('repository URLs', () => {
  it('reads https, ssh and scp-like URLs', () => {
    expect(parseRepoUrl('https://github.com/acme/web.git')).toMatchObject({
      protocol: 'https',
      host: 'github.com',
      path: 'acme/web.git',
      fetchUrl: 'https://github.com/acme/web.git',
    });
    expect(parseRepoUrl('ssh://git@git.example.com:2222/acme/web.git')).toMatchObject({
      protocol: 'ssh',
      port: 2222,
      user: 'git',
      fetchUrl: 'ssh://git@git.example.com:2222/acme/web.git',
    });
    expect(parseRepoUrl('git@github.com:acme/web.git')).toMatchObject({
      protocol: 'ssh',
      host: 'github.com',
      user: 'git',
      path: 'acme/web.git',
      fetchUrl: 'ssh://git@github.com/acme/web.git',
    });
  });

  it('moves a password out of the URL git receives and out of the displayed URL', () => {
    const u = parseRepoUrl('https://bob:s3cr3t-token@git.example.com/acme/web.git');
    expect(u.password).toBe('s3cr3t-token');
    expect(u.user).toBe('bob');
    expect(u.fetchUrl).toBe('https://git.example.com/acme/web.git');
    expect(u.display).not.toContain('s3cr3t');
    expect(u.display).not.toContain('bob');
  });

  it('accepts plain http only for a loopback host', () => {
    expect(parseRepoUrl('http://127.0.0.1:8080/web.git').protocol).toBe('http');
    expect(() => parseRepoUrl('http://git.example.com/web.git')).toThrow(/http:\/\/ is refused/);
  });

  it.each([
    ['file:///etc/passwd', /scheme file/],
    ['ext::sh -c touch% /tmp/pwned', /spaces/],
    ['ssh://-oProxyCommand=touch/x', /host name|not a valid URL/],
    ['-oProxyCommand=x@host:repo', /not a valid URL|host/],
    ['https://github.com/', /no repository path/],
    ['git@github.com:../../etc/repo', /must not contain \.\./],
    ['https://github.com/a/b?x=1', /query/],
  ])('refuses %s', (raw, message) => {
    expect(() => parseRepoUrl(raw)).toThrow(RepoUrlError);
    expect(() => parseRepoUrl(raw)).toThrow(message);
  });

  it('gives one identity to every spelling of a repository, for webhook matching', () => {
    const id = 'github.com/acme/web';
    expect(identityOf('https://github.com/acme/web.git')).toBe(id);
    expect(identityOf('https://GitHub.com/Acme/Web')).toBe(id);
    expect(identityOf('git@github.com:acme/web.git')).toBe(id);
    expect(identityOf('ssh://git@github.com:22/acme/web.git')).toBe(id);
    expect(identityOf('https://github.com/acme/other.git')).not.toBe(id);
    expect(identityOf('not a url')).toBeUndefined();
  });

  it('names cache directories readably, one per repository, without credentials', () => {
    const a = cacheDirName(parseRepoUrl('https://user:pw@github.com/acme/web.git'));
    expect(a).toMatch(/^github\.com-web-[0-9a-f]{16}\.git$/);
    expect(cacheDirName(parseRepoUrl('https://github.com/acme/web'))).toBe(a);
    expect(cacheDirName(parseRepoUrl('https://github.com/other/web.git'))).not.toBe(a);
  });
});
