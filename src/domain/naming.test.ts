import { describe, expect, it } from 'vitest';
import { isDns1123Label, projectNamespace } from './naming.ts';

describe('projectNamespace', () => {
  it('is readable and deterministic', () => {
    const ns = projectNamespace('acme', 'web');
    expect(ns).toMatch(/^acme-web-[0-9a-f]{8}$/);
    expect(projectNamespace('acme', 'web')).toBe(ns);
  });

  it('tells apart pairs whose readable parts coincide', () => {
    expect(projectNamespace('a-b', 'c')).not.toBe(projectNamespace('a', 'b-c'));
  });

  it('differs for the same project name in another tenant', () => {
    expect(projectNamespace('acme', 'web')).not.toBe(projectNamespace('globex', 'web'));
  });

  it('stays a valid DNS-1123 label of at most 63 characters for the longest names', () => {
    const long = 'x'.repeat(63);
    for (const [t, p] of [
      [long, long],
      [long, 'a'],
      ['a', long],
      ['a-'.repeat(31) + 'a', 'b-'.repeat(31) + 'b'],
    ] as const) {
      const ns = projectNamespace(t, p);
      expect(ns.length, ns).toBeLessThanOrEqual(63);
      expect(isDns1123Label(ns), ns).toBe(true);
    }
  });

  it('keeps long pairs distinct even when their shortened parts agree', () => {
    const t = 'tenant-' + 'x'.repeat(50);
    expect(projectNamespace(t, 'project-' + 'y'.repeat(50) + '1')).not.toBe(
      projectNamespace(t, 'project-' + 'y'.repeat(50) + '2'),
    );
  });

  it('has no collisions among many generated pairs', () => {
    const seen = new Map<string, string>();
    for (let t = 0; t < 200; t++) {
      for (let p = 0; p < 50; p++) {
        const pair = `t${t}/p${p}`;
        const ns = projectNamespace(`t${t}`, `p${p}`);
        expect(seen.get(ns), `${pair} collides with ${seen.get(ns)}`).toBeUndefined();
        seen.set(ns, pair);
      }
    }
  });
});
