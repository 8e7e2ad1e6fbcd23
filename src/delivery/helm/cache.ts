import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A chart package on disk, verified when it was stored. */
export interface CachedChart {
  name: string;
  version: string;
  /** sha256 of the package, hex. */
  digest: string;
  path: string;
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Packages no App has used for this long are deleted. */
export const DEFAULT_MAX_UNUSED_MS = 7 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

/**
 * Chart packages keyed by where they came from (repository URL or OCI reference, and which
 * credentials fetched them), chart name and version. Versions of a published chart are immutable
 * by Helm convention, so a hit needs no network. Files are written under a temporary name and
 * renamed: readers never see half a package and two reconciles storing the same chart at once both
 * succeed. A hit refreshes the file's time; packages unused for `maxUnusedMs` are deleted when
 * something new is stored (at most hourly), so the directory holds what Apps use.
 */
export class ChartCache {
  readonly dir: string;
  readonly maxUnusedMs: number;
  #lastPrune = 0;
  readonly #now: () => number;

  constructor(dir: string, opts: { maxUnusedMs?: number; now?: () => number } = {}) {
    this.dir = dir;
    this.maxUnusedMs = opts.maxUnusedMs ?? DEFAULT_MAX_UNUSED_MS;
    this.#now = opts.now ?? Date.now;
  }

  pathFor(origin: string, name: string, version: string): string {
    const key = sha256(`${origin}\n${name}\n${version}`).slice(0, 32);
    return join(this.dir, `${key}.tgz`);
  }

  async get(origin: string, name: string, version: string): Promise<CachedChart | undefined> {
    const path = this.pathFor(origin, name, version);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch {
      return undefined;
    }
    const now = new Date(this.#now());
    await utimes(path, now, now).catch(() => undefined);
    return { name, version, digest: sha256(data), path };
  }

  async put(origin: string, name: string, version: string, data: Buffer): Promise<CachedChart> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.prune();
    const path = this.pathFor(origin, name, version);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, data, { mode: 0o600 });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { name, version, digest: sha256(data), path };
  }

  /** Deletes packages (and leftover temporary files) unused for longer than `maxUnusedMs`. */
  async prune(): Promise<string[]> {
    const now = this.#now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return [];
    this.#lastPrune = now;
    const removed: string[] = [];
    for (const file of await readdir(this.dir).catch(() => [] as string[])) {
      if (!file.endsWith('.tgz') && !file.endsWith('.tmp')) continue;
      const path = join(this.dir, file);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > this.maxUnusedMs) {
        await rm(path, { force: true });
        removed.push(file);
      }
    }
    return removed;
  }
}
