import type { RepoUrl } from './url.ts';

/** HTTPS credentials, or the paths of an SSH key and known_hosts file written for one run. */
export type GitAuth =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'ssh'; keyFile: string; knownHostsFile: string; strictHostKeys: boolean };

export interface GitEnvOptions {
  /** A private, empty directory: HOME, so no ~/.gitconfig, credential store or ssh config is read. */
  home: string;
  url: RepoUrl;
  auth: GitAuth;
  timeoutSeconds: number;
  /** Proxy variables passed through from the operator's environment. */
  inherited?: Record<string, string | undefined>;
}

const safePath = /^[A-Za-z0-9_./-]+$/;
const proxyVariables = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

/**
 * The complete environment of a git child process. Nothing is inherited except PATH and proxy
 * settings: no system or global config, no terminal or askpass prompts, only the protocols allowed
 * for this URL, and credentials as configuration carried by environment variables
 * (GIT_CONFIG_COUNT/KEY/VALUE) — never in argv, where every local user could read them in `ps`.
 * The HTTPS Authorization header is scoped to the repository's origin, so a redirect elsewhere
 * does not receive it.
 */
export function gitEnv(opts: GitEnvOptions): Record<string, string> {
  const inherited = opts.inherited ?? {};
  const env: Record<string, string> = {
    PATH: inherited.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: opts.home,
    XDG_CONFIG_HOME: opts.home,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'false',
    SSH_ASKPASS: 'false',
    GIT_ALLOW_PROTOCOL: opts.url.protocol === 'http' ? 'http' : opts.url.protocol,
    // A stalled transfer (under 1 KiB/s for 30 s) fails before the overall timeout kills it.
    GIT_HTTP_LOW_SPEED_LIMIT: '1024',
    GIT_HTTP_LOW_SPEED_TIME: String(Math.min(30, opts.timeoutSeconds)),
  };
  for (const name of proxyVariables) {
    const value = inherited[name];
    if (value) env[name] = value;
  }
  const config: Array<[string, string]> = [
    ['credential.helper', ''],
    ['core.askPass', 'false'],
    ['gc.auto', '0'],
    ['core.symlinks', 'false'],
    ['core.hooksPath', '/dev/null'],
    ['protocol.version', '2'],
    ['http.followRedirects', 'initial'],
  ];
  const auth = opts.auth;
  if (auth.kind === 'basic') {
    const port = opts.url.port ? `:${opts.url.port}` : '';
    const token = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    config.push([
      `http.${opts.url.protocol}://${opts.url.host}${port}/.extraHeader`,
      `Authorization: Basic ${token}`,
    ]);
  }
  if (opts.url.protocol === 'ssh') env.GIT_SSH_COMMAND = sshCommand(auth, opts.timeoutSeconds);
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * GIT_SSH_COMMAND is run by a shell, so it is built only from fixed words and paths this process
 * created (checked against a conservative character set). BatchMode stops any prompt; without a
 * `known_hosts` in the Secret the host key is trusted on first use and pinned in a file kept with the
 * cache (StrictHostKeyChecking=accept-new); with one, only the listed keys are accepted.
 */
export function sshCommand(auth: GitAuth, timeoutSeconds: number): string {
  const args = [
    'ssh',
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${Math.max(1, Math.min(30, timeoutSeconds))}`,
    '-o',
    'IdentitiesOnly=yes',
  ];
  if (auth.kind === 'ssh') {
    for (const p of [auth.keyFile, auth.knownHostsFile]) {
      if (!safePath.test(p)) throw new Error(`unsafe path for GIT_SSH_COMMAND: ${p}`);
    }
    args.push('-i', auth.keyFile, '-o', `UserKnownHostsFile=${auth.knownHostsFile}`);
    args.push('-o', `StrictHostKeyChecking=${auth.strictHostKeys ? 'yes' : 'accept-new'}`);
  } else {
    args.push('-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=/dev/null');
  }
  return args.join(' ');
}
