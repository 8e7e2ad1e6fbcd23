import { describe, expect, it } from 'vitest';
import { gitEnv, sshCommand } from './env.ts';
import { parseRepoUrl } from './url.ts';

const config = (env: Record<string, string>) => {
  const out: Record<string, string> = {};
  for (let i = 0; i < Number(env.GIT_CONFIG_COUNT); i++)
    out[env[`GIT_CONFIG_KEY_${i}`]!] = env[`GIT_CONFIG_VALUE_${i}`]!;
  return out;
};

describe('git environment', () => {
  const url = parseRepoUrl('https://git.example.com:8443/acme/web.git');

  it('inherits nothing but PATH and proxies, and turns off prompts and system config', () => {
    const env = gitEnv({
      home: '/tmp/h',
      url,
      auth: { kind: 'none' },
      timeoutSeconds: 60,
      inherited: {
        PATH: '/bin',
        HTTPS_PROXY: 'http://proxy:3128',
        AWS_SECRET_ACCESS_KEY: 'x',
        GIT_DIR: '/evil',
      },
    });
    expect(env).toMatchObject({
      PATH: '/bin',
      HOME: '/tmp/h',
      HTTPS_PROXY: 'http://proxy:3128',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_ALLOW_PROTOCOL: 'https',
    });
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(env.GIT_DIR).toBeUndefined();
    expect(config(env)).toMatchObject({ 'core.symlinks': 'false', 'credential.helper': '' });
  });

  it('sends HTTPS credentials as a header scoped to the repository origin, through the environment', () => {
    const env = gitEnv({
      home: '/tmp/h',
      url,
      auth: { kind: 'basic', username: 'bob', password: 'tok' },
      timeoutSeconds: 60,
    });
    expect(config(env)['http.https://git.example.com:8443/.extraHeader']).toBe(
      `Authorization: Basic ${Buffer.from('bob:tok').toString('base64')}`,
    );
  });

  it('pins SSH host keys from the Secret strictly and trusts on first use otherwise', () => {
    const strict = sshCommand(
      { kind: 'ssh', keyFile: '/c/id', knownHostsFile: '/c/kh', strictHostKeys: true },
      60,
    );
    expect(strict).toContain('-i /c/id');
    expect(strict).toContain('StrictHostKeyChecking=yes');
    expect(strict).toContain('UserKnownHostsFile=/c/kh');
    expect(strict).toContain('BatchMode=yes');
    const tofu = sshCommand(
      { kind: 'ssh', keyFile: '/c/id', knownHostsFile: '/c/kh', strictHostKeys: false },
      60,
    );
    expect(tofu).toContain('StrictHostKeyChecking=accept-new');
  });

  it('refuses to put a path with shell characters into GIT_SSH_COMMAND', () => {
    expect(() =>
      sshCommand(
        { kind: 'ssh', keyFile: '/c/id; rm -rf /', knownHostsFile: '/c/kh', strictHostKeys: true },
        5,
      ),
    ).toThrow(/unsafe path/);
  });

  it('allows only the protocol of the URL', () => {
    const ssh = gitEnv({
      home: '/h',
      url: parseRepoUrl('git@github.com:a/b.git'),
      auth: { kind: 'ssh', keyFile: '/h/id', knownHostsFile: '/h/kh', strictHostKeys: true },
      timeoutSeconds: 5,
    });
    expect(ssh.GIT_ALLOW_PROTOCOL).toBe('ssh');
    expect(ssh.GIT_SSH_COMMAND).toContain('-i /h/id');
  });
});
