import { describe, expect, it } from 'vitest';
import { allocateTenantQuota, type ProjectQuotaState } from './tenant-quota.ts';

const project = (
  name: string,
  createdAt: string,
  requested: number,
  hard?: number,
  used = 0,
): ProjectQuotaState => ({
  name,
  createdAt,
  requested: { pods: BigInt(requested) },
  hard: hard === undefined ? {} : { pods: BigInt(hard) },
  used: { pods: BigInt(used) },
});

const sum = (m: Map<string, Record<string, bigint>>) =>
  [...m.values()].reduce((s, r) => s + (r.pods ?? 0n), 0n);

describe('allocateTenantQuota', () => {
  it('grants requests that fit and never allocates more than the limit', () => {
    const a = allocateTenantQuota({ pods: 10n }, [
      project('a', '1', 4),
      project('b', '2', 4),
      project('c', '3', 4),
    ]);
    expect(a.shares.get('a')).toEqual({ pods: 4n });
    expect(a.shares.get('b')).toEqual({ pods: 4n });
    expect(a.shares.get('c')).toEqual({ pods: 0n });
    expect(a.denied.get('c')).toEqual(['pods']);
    expect(a.allocated.pods).toBe(8n);
  });

  it('considers older projects first, whatever the input order', () => {
    const a = allocateTenantQuota({ pods: 5n }, [project('young', '2030', 5), project('old', '2020', 5)]);
    expect(a.shares.get('old')).toEqual({ pods: 5n });
    expect(a.shares.get('young')).toEqual({ pods: 0n });
  });

  it('never takes an existing share away to satisfy an older project growing', () => {
    const a = allocateTenantQuota({ pods: 10n }, [project('old', '1', 8, 5), project('young', '2', 5, 5)]);
    expect(a.shares.get('young')).toEqual({ pods: 5n });
    expect(a.shares.get('old')).toEqual({ pods: 5n });
    expect(a.denied.get('old')).toEqual(['pods']);
  });

  it('holds back capacity freed by a decrease until the usage behind it is gone', () => {
    // a shrinks from 8 to 2 but still runs 7 pods: b may not grow into those 6 yet.
    const busy = allocateTenantQuota({ pods: 10n }, [project('a', '1', 2, 8, 7), project('b', '2', 8, 2)]);
    expect(busy.shares.get('a')).toEqual({ pods: 2n });
    expect(busy.shares.get('b')).toEqual({ pods: 2n });
    expect(busy.denied.get('b')).toEqual(['pods']);
    const drained = allocateTenantQuota({ pods: 10n }, [project('a', '1', 2, 2, 1), project('b', '2', 8, 2)]);
    expect(drained.shares.get('b')).toEqual({ pods: 8n });
  });

  it('writes decreases in a phase before increases', () => {
    const a = allocateTenantQuota({ pods: 10n }, [project('a', '1', 2, 8, 0), project('b', '2', 8, 2, 0)]);
    expect(a.phases[0]).toEqual(new Map([['a', { pods: 2n }]]));
    expect(a.phases[1]).toEqual(new Map([['b', { pods: 8n }]]));
  });

  it('keeps the sum of shares within the limit after every phase, for many random states', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const limit = BigInt(rand(20) + 1);
      const projects: ProjectQuotaState[] = [];
      let hardSum = 0;
      for (let i = 0; i < rand(6) + 1; i++) {
        const hard = Math.min(rand(8), Number(limit) - hardSum);
        hardSum += hard;
        projects.push(project(`p${i}`, String(rand(5)), rand(10), hard, rand(hard + 1)));
      }
      const a = allocateTenantQuota({ pods: limit }, projects);
      const current = new Map(projects.map((p) => [p.name, { ...p.hard }]));
      for (const phase of a.phases) {
        for (const [name, shares] of phase) current.set(name, shares);
        expect(sum(current)).toBeLessThanOrEqual(limit);
      }
      expect(sum(a.shares)).toBeLessThanOrEqual(limit);
      for (const p of projects) expect(a.shares.get(p.name)?.pods).toBe(current.get(p.name)?.pods ?? 0n);
    }
  });

  it('leaves resources the tenant does not limit alone', () => {
    const a = allocateTenantQuota({}, [project('a', '1', 4)]);
    expect(a.shares.get('a')).toEqual({});
    expect(a.phases[0].size + a.phases[1].size).toBe(0);
  });
});
