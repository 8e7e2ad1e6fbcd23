import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Git without the machine's config, for the tests' own commits. */
const gitEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'kubeop test',
  GIT_AUTHOR_EMAIL: 'test@kubeop.invalid',
  GIT_COMMITTER_NAME: 'kubeop test',
  GIT_COMMITTER_EMAIL: 'test@kubeop.invalid',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: gitEnv });
  return stdout.trim();
}

/**
 * Local repositories for tests: bare repositories under `root`, each with a working clone the test
 * commits to and pushes from (`commit`), served by a real git server (see the start functions).
 */
export class LocalRepos {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  static async create(): Promise<LocalRepos> {
    return new LocalRepos(await mkdtemp(join(tmpdir(), 'kubeop-git-repos-')));
  }

  bare(name: string): string {
    return join(this.root, 'srv', `${name}.git`);
  }

  private work(name: string): string {
    return join(this.root, 'work', name);
  }

  /** Creates a repository whose default branch `main` holds `files`; returns the commit. */
  async init(name: string, files: Record<string, string>): Promise<string> {
    await mkdir(this.bare(name), { recursive: true });
    await git(this.bare(name), 'init', '--bare', '--quiet', '--initial-branch=main');
    await mkdir(this.work(name), { recursive: true });
    await git(this.work(name), 'init', '--quiet', '--initial-branch=main');
    await git(this.work(name), 'remote', 'add', 'origin', this.bare(name));
    return this.commit(name, files);
  }

  /**
   * Writes (string) or deletes (null) files on `branch` (default main), commits and pushes; returns
   * the new commit.
   */
  async commit(name: string, files: Record<string, string | null>, branch = 'main'): Promise<string> {
    const work = this.work(name);
    const branches = await git(work, 'branch', '--list');
    if (branches !== '') {
      const exists = (await git(work, 'branch', '--list', branch)) !== '';
      await git(work, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch]));
    }
    for (const [path, content] of Object.entries(files)) {
      const full = join(work, path);
      if (content === null) await rm(full, { force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
    await git(work, 'add', '--all');
    await git(work, 'commit', '--quiet', '--allow-empty', '-m', `change ${Object.keys(files).join(', ')}`);
    await git(work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
    return git(work, 'rev-parse', 'HEAD');
  }

  /** An annotated tag on `ref`; returns the commit it points at. */
  async tag(name: string, tag: string, ref = 'HEAD'): Promise<string> {
    const work = this.work(name);
    await git(work, 'tag', '--annotate', '-m', tag, tag, ref);
    await git(work, 'push', '--quiet', 'origin', `refs/tags/${tag}`);
    return git(work, 'rev-parse', `${tag}^{commit}`);
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>/<name>.git` (no credentials in it). */
  url(name: string): string;
  /** Requests served so far (each git command makes one or more). */
  requests(): number;
  stop(): Promise<void>;
}

/**
 * `git http-backend` (the CGI program that ships with git) behind a small node HTTP server on
 * 127.0.0.1, optionally with HTTP basic auth — the smart HTTP protocol GitHub and Gitea speak,
 * protocol v2 included (the Git-Protocol header is passed through).
 */
export async function startGitHttpServer(
  repos: LocalRepos,
  opts: { auth?: { username: string; password: string } } = {},
): Promise<GitHttpServer> {
  const execPath = (await exec('git', ['--exec-path'])).stdout.trim();
  let count = 0;
  const expected = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`
    : undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    count++;
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('unauthorized\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cgi = spawn(join(execPath, 'git-http-backend'), [], {
      env: {
        ...gitEnv,
        GIT_PROJECT_ROOT: join(repos.root, 'srv'),
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        REMOTE_USER: opts.auth?.username ?? '',
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
          : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const key = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (key.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(key, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => {
      if (!headersDone) res.writeHead(500);
      res.end();
    });
    cgi.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    requests: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SshServer {
  /** `ssh://root@127.0.0.1:<port>/<path of the bare repository>`. */
  url(name: string): string;
  /** The client key (OpenSSH format) and the server's known_hosts line. */
  privateKey: string;
  knownHosts: string;
  stop(): Promise<void>;
}

export const SSHD = '/usr/sbin/sshd';

/** A free TCP port on 127.0.0.1 (bound and released; good enough for a test's own server). */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A private sshd on 127.0.0.1 that accepts one generated key for the current user (the test runs
 * as root in CI containers), serving the repositories by absolute path. Needs openssh-server.
 */
export async function startSshServer(repos: LocalRepos): Promise<SshServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeop-sshd-'));
  await chmod(dir, 0o700);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  const user = (await exec('id', ['-un'])).stdout.trim();
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AllowUsers ${user}`,
      'SetEnv GIT_CONFIG_NOSYSTEM=1',
    ].join('\n') + '\n',
  );
  await mkdir('/run/sshd', { recursive: true }).catch(() => {});
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const listening = await new Promise<boolean>((resolve) => {
      const s = createNetServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (listening) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const hostKey = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  return {
    url: (name) => `ssh://${user}@127.0.0.1:${port}${repos.bare(name)}`,
    privateKey: await readFile(join(dir, 'client_key'), 'utf8'),
    knownHosts: `[127.0.0.1]:${port} ${hostKey}\n`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
