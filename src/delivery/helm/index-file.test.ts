import { describe, expect, it } from 'vitest';
import { SourceError } from '../source.ts';
import {
  chartDownloadUrl,
  parseIndex,
  pickChartVersion,
  resolveVersion,
  toSemverRange,
} from './index-file.ts';

const digest = 'a'.repeat(64);
const indexYaml = `
apiVersion: v1
entries:
  web:
    - name: web
      version: 1.2.0
      digest: ${digest}
      urls: [charts/web-1.2.0.tgz]
    - name: web
      version: 1.10.0
      urls: [https://cdn.example.com/web-1.10.0.tgz]
    - name: web
      version: 2.0.0-rc.1
      urls: [web-2.0.0-rc.1.tgz]
    - name: web
      version: 0.9.0
    - name: web
      version: v1.3.0
      urls: [web-v1.3.0.tgz]
  db:
    - version: 5.0.0
      urls: [db-5.0.0.tgz]
generated: "2026-01-01T00:00:00Z"
`;

describe('Helm repository index', () => {
  it('parses entries with their digests and skips versions without a download URL', () => {
    const index = parseIndex(indexYaml, 'index');
    expect(index.get('web')?.map((v) => v.version)).toEqual(['1.2.0', '1.10.0', '2.0.0-rc.1', 'v1.3.0']);
    expect(index.get('web')?.[0]?.digest).toBe(digest);
    expect(index.get('web')?.[1]?.digest).toBeUndefined();
    expect(index.get('db')?.[0]?.name).toBe('db');
  });

  it('refuses a document that is not an index with a message naming it', () => {
    expect(() => parseIndex('<html>hello</html>', 'https://x/index.yaml')).toThrow(
      /not a Helm repository index/,
    );
    expect(() => parseIndex('a: [', 'https://x/index.yaml')).toThrow(SourceError);
  });

  it('resolves a download URL relative to the repository URL, with or without a trailing slash', () => {
    const [first, second] = parseIndex(indexYaml, 'index').get('web') ?? [];
    expect(chartDownloadUrl('http://127.0.0.1:9/repo', first!)).toBe(
      'http://127.0.0.1:9/repo/charts/web-1.2.0.tgz',
    );
    expect(chartDownloadUrl('http://127.0.0.1:9/repo/', first!)).toBe(
      'http://127.0.0.1:9/repo/charts/web-1.2.0.tgz',
    );
    expect(chartDownloadUrl('http://127.0.0.1:9/repo', second!)).toBe(
      'https://cdn.example.com/web-1.10.0.tgz',
    );
  });
});

describe('chart version constraints', () => {
  const versions = ['1.2.0', '1.10.0', '2.0.0-rc.1', 'v1.3.0', 'not-semver'];

  it('picks the highest matching version, comparing numerically rather than as text', () => {
    expect(resolveVersion(versions, '^1.0.0')).toBe('1.10.0');
    expect(resolveVersion(versions, '~1.2')).toBe('1.2.0');
    expect(resolveVersion(versions, '1.3.x')).toBe('v1.3.0');
  });

  it('takes the newest stable version when no constraint is given', () => {
    expect(resolveVersion(versions, undefined)).toBe('1.10.0');
    expect(resolveVersion(versions, '  ')).toBe('1.10.0');
  });

  it('matches pre-releases only when the constraint asks for one', () => {
    expect(resolveVersion(versions, '>=2.0.0-0')).toBe('2.0.0-rc.1');
    expect(resolveVersion(versions, '>=2.0.0')).toBeUndefined();
  });

  it('accepts Helm comma-separated AND constraints', () => {
    expect(toSemverRange('>= 1.2, < 1.5')).toBe('>= 1.2 < 1.5');
    expect(resolveVersion(versions, '>= 1.2, < 1.5')).toBe('v1.3.0');
    expect(resolveVersion(versions, '<1.0 || >=1.10, <2')).toBe('1.10.0');
  });

  it('matches an exact version string even when it is not semver', () => {
    expect(resolveVersion(versions, 'not-semver')).toBe('not-semver');
    expect(resolveVersion(versions, '1.2.0')).toBe('1.2.0');
    expect(resolveVersion(versions, '1.2.1')).toBeUndefined();
  });

  it('reports a missing version as RevisionNotFound listing what exists', () => {
    const index = parseIndex(indexYaml, 'index');
    const err = catchError(() => pickChartVersion(index, 'web', '^3', 'http://repo'));
    expect(err.reason).toBe('RevisionNotFound');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('no version matching "^3"');
    expect(err.message).toContain('1.10.0, v1.3.0, 1.2.0');
    expect(err.message).toContain('source.helm.version');
  });

  it('reports an unknown chart as RevisionNotFound listing the charts in the repository', () => {
    const err = catchError(() =>
      pickChartVersion(parseIndex(indexYaml, 'index'), 'api', '1.0.0', 'http://repo'),
    );
    expect(err.reason).toBe('RevisionNotFound');
    expect(err.message).toContain('charts there: db, web');
  });

  it('reports an unparseable constraint with examples', () => {
    const err = catchError(() =>
      pickChartVersion(parseIndex(indexYaml, 'index'), 'web', '>>1', 'http://repo'),
    );
    expect(err.message).toContain('not a semver version or range');
  });
});

function catchError(fn: () => unknown): SourceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
  throw new Error('expected a SourceError');
}
