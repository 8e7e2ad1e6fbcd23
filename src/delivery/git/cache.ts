import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from '../source.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { run } from './run.ts';
import { cacheDirName, type RepoUrl } from './url.ts';

/** What to deploy: a branch, a tag, a commit, or the remote's default branch. */
export type GitRef =
  | { kind: 'branch'; name: string }
  | { kind: 'tag'; name: string }
  | { kind: 'commit'; sha: string }
  | { kind: 'default' };

export interface CacheOptions {
  gitBinary: string;
  dir: string;
  timeoutMs: number;
  /** Largest cached repository (objects on disk) and largest checked-out tree, in bytes. */
  maxRepoBytes: number;
}

/** The git environment and the strings to scrub from messages, for one App's access. */
export interface Access {
  url: RepoUrl;
  env: Record<string, string>;
  secrets: string[];
  signal?: AbortSignal;
}

const refName = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[^\s~^:?*[\\\0-\x1f\x7f]+(?<![./])$/;

/** Refuses branch and tag names git would refuse (and anything that could read as an option). */
export function checkRefName(name: string, what: string): void {
  if (!refName.test(name) || name.endsWith('.lock')) {
    throw new SourceError(
      'RevisionNotFound',
      `git.${what} "${name.slice(0, 80)}" is not a valid ${what} name`,
    );
  }
}

/**
 * One bare repository per repository URL under `dir`, shared by every App that uses the URL.
 *
 * Contract: every resolve starts with `git ls-remote` using the calling App's own credentials, so
 * an App never reads commits from the cache that it could not fetch itself (another tenant's
 * private repository at the same URL). Work on one repository is serialised by a mutex; the
 * cache is disposable — a repository over the size limit or in a broken state is deleted and
 * fetched again.
 */
export class RepoCache {
  private readonly opts: CacheOptions;
  private readonly locks = new KeyedMutex();

  constructor(opts: CacheOptions) {
    this.opts = opts;
  }

  /**
   * Resolves `ref` to a commit, fetching it (depth 1) when the cache does not have it, and checks
   * the commit's files out into a fresh temporary directory the caller must remove.
   */
  async checkout(access: Access, ref: GitRef): Promise<{ commit: string; dir: string }> {
    const repo = join(this.opts.dir, cacheDirName(access.url));
    return this.locks.run(repo, async () => {
      const commit = await this.resolveAndFetch(repo, access, ref);
      await this.checkTreeSize(repo, access, commit);
      await mkdir(join(this.opts.dir, 'tmp'), { recursive: true });
      const dir = await mkdtemp(join(this.opts.dir, 'tmp', 'render-'));
      try {
        const index = join(dir, '.kubeop-index');
        const tree = join(dir, 'tree');
        await mkdir(tree);
        const env = { ...access.env, GIT_INDEX_FILE: index };
        // A private index and work tree per render: the shared bare repository's HEAD and index are
        // never touched, and core.symlinks=false (env.ts) turns symlinks into plain files so a
        // repository cannot make a render read files outside its checkout.
        await this.git(repo, { ...access, env }, ['--work-tree', tree, 'read-tree', commit], 'git read-tree');
        await this.git(
          repo,
          { ...access, env },
          ['--work-tree', tree, 'checkout-index', '-a', '-f'],
          'git checkout',
        );
        await rm(index, { force: true });
        return { commit, dir: tree };
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    });
  }

  private async resolveAndFetch(repo: string, access: Access, ref: GitRef): Promise<string> {
    await this.ensureRepo(repo, access);
    const remote = await this.lsRemote(repo, access, ref);
    if (ref.kind === 'commit') {
      const local = await this.localCommit(repo, access, ref.sha);
      if (local) return local;
      await this.fetchCommit(repo, access, ref.sha);
      const fetched = await this.localCommit(repo, access, ref.sha);
      if (!fetched) {
        throw new SourceError(
          'RevisionNotFound',
          `commit ${ref.sha} does not exist in ${access.url.display}`,
        );
      }
      return fetched;
    }
    if (remote && (await this.localCommit(repo, access, remote))) return remote;
    const remoteRef =
      ref.kind === 'branch'
        ? `refs/heads/${ref.name}`
        : ref.kind === 'tag'
          ? `refs/tags/${ref.name}`
          : 'HEAD';
    await this.fetchWithinLimit(repo, access, ['--depth', '1', access.url.fetchUrl, remoteRef]);
    // FETCH_HEAD, not the ls-remote answer: if the branch moved in between, what was fetched is
    // the newest commit and the revision reported is the one rendered.
    const head = await this.localCommit(repo, access, 'FETCH_HEAD');
    if (!head)
      throw new SourceError(
        'RevisionNotFound',
        `${describe(ref)} could not be fetched from ${access.url.display}`,
      );
    return head;
  }

  private async ensureRepo(repo: string, access: Access): Promise<void> {
    const exists = await stat(join(repo, 'objects')).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await rm(repo, { recursive: true, force: true });
    await mkdir(repo, { recursive: true });
    await run({
      binary: this.opts.gitBinary,
      args: ['init', '--bare', '--quiet', repo],
      env: access.env,
      timeoutMs: this.opts.timeoutMs,
      what: 'git init',
      secrets: access.secrets,
      defaultReason: 'RenderFailed',
    });
  }

  /**
   * Asks the server for the ref (proving the App may read the repository). Returns its commit, or
   * undefined for a commit pin (only access is checked). A missing branch or tag is RevisionNotFound.
   */
  private async lsRemote(repo: string, access: Access, ref: GitRef): Promise<string | undefined> {
    const pattern =
      ref.kind === 'branch'
        ? `refs/heads/${ref.name}`
        : ref.kind === 'tag'
          ? `refs/tags/${ref.name}`
          : 'HEAD';
    const out = await this.git(repo, access, ['ls-remote', access.url.fetchUrl, pattern], 'git ls-remote');
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, name] = line.split('\t');
      if (sha && name) refs.set(name, sha);
    }
    if (ref.kind === 'commit') return undefined;
    // An annotated tag is listed twice; `^{}` is the commit it points at.
    const sha = refs.get(`${pattern}^{}`) ?? refs.get(pattern);
    if (!sha) {
      throw new SourceError(
        'RevisionNotFound',
        ref.kind === 'default'
          ? `${access.url.display} has no default branch (is the repository empty?)`
          : `${describe(ref)} does not exist in ${access.url.display}`,
      );
    }
    return sha;
  }

  private async localCommit(repo: string, access: Access, rev: string): Promise<string | undefined> {
    try {
      const out = await this.git(
        repo,
        access,
        ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`],
        'git rev-parse',
      );
      return out.trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A commit pin: first the commit alone (servers that allow fetching any reachable commit — GitHub,
   * Gitea, git ≥ 2.x over protocol v2), then, for abbreviated SHAs or stricter servers, every branch
   * and tag with full history.
   */
  private async fetchCommit(repo: string, access: Access, sha: string): Promise<void> {
    if (sha.length === 40 || sha.length === 64) {
      try {
        await this.fetchWithinLimit(repo, access, ['--depth', '1', access.url.fetchUrl, sha]);
        return;
      } catch (err) {
        if (!(err instanceof SourceError) || err.reason !== 'RevisionNotFound') throw err;
      }
    }
    const shallow = (
      await this.git(repo, access, ['rev-parse', '--is-shallow-repository'], 'git rev-parse')
    ).trim();
    await this.fetchWithinLimit(repo, access, [
      ...(shallow === 'true' ? ['--unshallow'] : []),
      access.url.fetchUrl,
      '+refs/heads/*:refs/kubeop/heads/*',
      '+refs/tags/*:refs/kubeop/tags/*',
    ]);
  }

  /**
   * Fetches, then measures the repository. Git has no limit of its own on what a fetch receives, so
   * a watchdog sums the object files while the fetch runs and stops it once they pass the limit;
   * after the fetch `git count-objects` decides. Over the limit, the cache copy is deleted and, if it
   * held older objects, fetched once more from scratch (only the wanted commit); still over,
   * SourceTooLarge.
   */
  private async fetchWithinLimit(repo: string, access: Access, args: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const exceeded = await this.guardedFetch(repo, access, args);
      const size = exceeded ? undefined : await this.repoBytes(repo, access);
      if (size !== undefined && size <= this.opts.maxRepoBytes) return;
      await rm(repo, { recursive: true, force: true });
      if (attempt > 0) throw tooLarge(access, size, this.opts.maxRepoBytes, 'repository');
      await this.ensureRepo(repo, access);
    }
  }

  /** Runs `git fetch`; resolves true when the watchdog stopped it for size. */
  private async guardedFetch(repo: string, access: Access, args: string[]): Promise<boolean> {
    const guard = new AbortController();
    let exceeded = false;
    const timer = setInterval(() => {
      void dirBytes(join(repo, 'objects')).then(
        (bytes) => {
          if (bytes > this.opts.maxRepoBytes) {
            exceeded = true;
            guard.abort();
          }
        },
        () => {},
      );
    }, 500);
    const signal = access.signal ? AbortSignal.any([access.signal, guard.signal]) : guard.signal;
    try {
      await this.git(repo, { ...access, signal }, ['fetch', '--quiet', '--no-tags', ...args], 'git fetch');
      return false;
    } catch (err) {
      if (exceeded) return true;
      // A fetch killed half-way (timeout, crash) can leave lock files that would fail every later
      // fetch; the cache is disposable, so start over next time.
      if (err instanceof SourceError && /\.lock\b|did not finish|cancelled/.test(err.message)) {
        await rm(repo, { recursive: true, force: true });
      }
      throw err;
    } finally {
      clearInterval(timer);
    }
  }

  private async repoBytes(repo: string, access: Access): Promise<number> {
    const out = await this.git(repo, access, ['count-objects', '-v'], 'git count-objects');
    let kib = 0;
    for (const line of out.split('\n')) {
      const m = /^(size|size-pack|size-garbage): (\d+)$/.exec(line.trim());
      if (m) kib += Number(m[2]);
    }
    return kib * 1024;
  }

  /** The checked-out size is bounded too: a small, well-compressed pack can expand enormously. */
  private async checkTreeSize(repo: string, access: Access, commit: string): Promise<void> {
    const out = await this.git(
      repo,
      access,
      ['ls-tree', '-r', '-l', '-z', commit],
      'git ls-tree',
      256 * 1024 * 1024,
    );
    let total = 0;
    for (const entry of out.split('\0')) {
      const size = Number(/^\S+ blob \S+\s+(\d+)\t/.exec(entry)?.[1] ?? 0);
      total += size;
    }
    if (total > this.opts.maxRepoBytes) throw tooLarge(access, total, this.opts.maxRepoBytes, 'checkout');
  }

  private git(
    repo: string,
    access: Access,
    args: string[],
    what: string,
    maxOutputBytes?: number,
  ): Promise<string> {
    return run({
      binary: this.opts.gitBinary,
      args: ['--git-dir', repo, ...args],
      env: access.env,
      cwd: this.opts.dir,
      timeoutMs: this.opts.timeoutMs,
      what,
      secrets: access.secrets,
      defaultReason: what === 'git ls-remote' || what === 'git fetch' ? 'SourceUnreachable' : 'RenderFailed',
      ...(maxOutputBytes ? { maxOutputBytes } : {}),
      ...(access.signal ? { signal: access.signal } : {}),
    });
  }
}

function describe(ref: GitRef): string {
  switch (ref.kind) {
    case 'branch':
      return `branch "${ref.name}"`;
    case 'tag':
      return `tag "${ref.name}"`;
    case 'commit':
      return `commit ${ref.sha}`;
    default:
      return 'the default branch';
  }
}

function tooLarge(access: Access, bytes: number | undefined, limit: number, what: string): SourceError {
  const mib = (n: number) => `${Math.ceil(n / 1024 / 1024)} MiB`;
  const size = bytes === undefined ? 'is' : `is ${mib(bytes)},`;
  return new SourceError(
    'SourceTooLarge',
    `the ${what} of ${access.url.display} ${size} over the ${mib(limit)} limit (KUBEOP_GIT_MAX_REPO_MB); use a smaller repository or ask the platform team to raise the limit`,
  );
}

/** Total size of the files under `dir` (the object store during a fetch). */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    total += await stat(join(entry.parentPath, entry.name)).then(
      (s) => s.size,
      () => 0,
    );
  }
  return total;
}
