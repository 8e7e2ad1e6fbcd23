import { describe, expect, it } from 'vitest';
import { ANNOTATION_APPLIED_HASH, isSubset, withAppliedHash, withoutEmptyCollections } from './compare.ts';

describe('isSubset', () => {
  it('ignores fields only the live object has (server defaults)', () => {
    expect(isSubset({ a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x', d: 2 }, e: 3 })).toBe(true);
  });

  it('sees a changed value', () => {
    expect(isSubset({ spec: { replicas: 2 } }, { spec: { replicas: 3 } })).toBe(false);
  });

  it('sees a missing field', () => {
    expect(isSubset({ metadata: { labels: { a: 'b' } } }, { metadata: {} })).toBe(false);
  });

  it('treats an extra list element as drift', () => {
    expect(isSubset({ subjects: [{ name: 'a' }] }, { subjects: [{ name: 'a' }, { name: 'mallory' }] })).toBe(
      false,
    );
  });

  it('compares list elements as subsets, in order', () => {
    expect(
      isSubset(
        { l: [{ a: 1 }, { a: 2 }] },
        {
          l: [
            { a: 1, x: 0 },
            { a: 2, x: 0 },
          ],
        },
      ),
    ).toBe(true);
    expect(isSubset({ l: [{ a: 1 }, { a: 2 }] }, { l: [{ a: 2 }, { a: 1 }] })).toBe(false);
  });

  it('compares quantities by value inside quantity maps only', () => {
    expect(
      isSubset(
        { spec: { hard: { 'requests.cpu': '2000m', pods: 10 } } },
        { spec: { hard: { 'requests.cpu': '2', pods: '10' } } },
      ),
    ).toBe(true);
    expect(
      isSubset({ limits: [{ default: { memory: '1024Mi' } }] }, { limits: [{ default: { memory: '1Gi' } }] }),
    ).toBe(true);
    expect(
      isSubset({ spec: { hard: { 'requests.cpu': '2' } } }, { spec: { hard: { 'requests.cpu': '3' } } }),
    ).toBe(false);
    expect(isSubset({ metadata: { labels: { v: '1.0' } } }, { metadata: { labels: { v: '1' } } })).toBe(
      false,
    );
  });
});

describe('withoutEmptyCollections', () => {
  it('drops empty maps and lists at every depth and keeps everything else', () => {
    expect(
      withoutEmptyCollections({
        a: {},
        b: [],
        c: { d: {}, e: 0, f: '' },
        g: [{ h: [] }, 1],
        i: false,
        j: undefined,
      }),
    ).toEqual({ c: { e: 0, f: '' }, g: [{}, 1], i: false });
  });
});

describe('withAppliedHash', () => {
  const obj = { metadata: { name: 'a', labels: { x: '1', y: '2' } }, spec: { b: 1, a: [1, 2] } };
  const h = (o: object) =>
    withAppliedHash(o as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.[
      ANNOTATION_APPLIED_HASH
    ];
  it('is stable across key order and changes with content', () => {
    expect(h(obj)).toBe(
      h({ spec: { a: [1, 2], b: 1 }, metadata: { labels: { y: '2', x: '1' }, name: 'a' } }),
    );
    expect(h(obj)).not.toBe(h({ ...obj, spec: { b: 2, a: [1, 2] } }));
    expect(h(obj)).toMatch(/^[0-9a-f]{16}$/);
  });
  it('keeps existing annotations', () => {
    const withAnn = withAppliedHash({ metadata: { name: 'a', annotations: { keep: 'me' } } });
    expect(withAnn.metadata.annotations?.keep).toBe('me');
  });
});
