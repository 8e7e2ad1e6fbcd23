import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChartCache, sha256 } from './cache.ts';

describe('chart package cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubeop-chart-cache-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns a stored package by origin, name and version, with its digest', async () => {
    const cache = new ChartCache(join(dir, 'c'));
    const data = Buffer.from('package');
    await cache.put('http://repo#anonymous', 'web', '1.0.0', data);
    const hit = await cache.get('http://repo#anonymous', 'web', '1.0.0');
    expect(hit?.digest).toBe(sha256(data));
    expect(await cache.get('http://repo#other-credentials', 'web', '1.0.0')).toBeUndefined();
    expect(await cache.get('http://repo#anonymous', 'web', '1.0.1')).toBeUndefined();
  });

  it('deletes packages unused for longer than the limit, keeping those just used', async () => {
    let now = Date.now();
    const cache = new ChartCache(dir, { maxUnusedMs: 1000 * 3600 * 24, now: () => now });
    await cache.put('o', 'old', '1.0.0', Buffer.from('old'));
    await cache.put('o', 'used', '1.0.0', Buffer.from('used'));
    now += 1000 * 3600 * 30; // 30 h later, `used` is read again, `old` is not
    expect(await cache.get('o', 'used', '1.0.0')).toBeDefined();
    await cache.put('o', 'new', '1.0.0', Buffer.from('new'));
    const left = await readdir(dir);
    expect(left).toHaveLength(2);
    expect(left).toContain(cache.pathFor('o', 'used', '1.0.0').split('/').at(-1));
    expect(left).not.toContain(cache.pathFor('o', 'old', '1.0.0').split('/').at(-1));
  });
});
