import { describe, expect, it } from 'vitest';
import { SourceError } from '../source.ts';
import { trimStderr } from './exec.ts';
import { parseManifests } from './manifests.ts';
import { redact } from './redact.ts';

describe('rendered manifests', () => {
  it('parses a multi-document stream, skipping empty documents and comments', () => {
    const text = [
      '---',
      '# Source: web/templates/empty.yaml',
      '---',
      '# Source: web/templates/svc.yaml',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web}',
      '---',
      '',
      '---',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web, labels: {a: "1"}}',
    ].join('\n');
    const objects = parseManifests(text, 'chart');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/web', 'Deployment/web']);
  });

  it('returns nothing for empty output', () => {
    expect(parseManifests('', 'chart')).toEqual([]);
    expect(parseManifests('---\n---\n', 'chart')).toEqual([]);
  });

  it('flattens List kinds', () => {
    const text =
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n';
    expect(parseManifests(text, 'chart').map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('refuses documents that are not objects with apiVersion, kind and metadata.name', () => {
    expect(() => parseManifests('kind: Service\nmetadata: {name: x}', 'chart')).toThrow(
      /document 1 has no apiVersion/,
    );
    expect(() => parseManifests('apiVersion: v1\nkind: Service\nmetadata: {}', 'chart')).toThrow(
      /\(Service\) has no metadata.name/,
    );
    expect(() => parseManifests('- a\n- b', 'chart')).toThrow(/not a YAML mapping/);
    try {
      parseManifests('apiVersion: v1\nkind: [', 'chart');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).reason).toBe('InvalidManifests');
    }
  });
});

describe('helm error messages', () => {
  it('keep the Error line and what follows, dropping warnings and usage noise before it', () => {
    const stderr =
      'WARNING: something\nwalk.go:74: found symbolic link\nError: execution error at (web/templates/a.yaml:3:4): boom\n';
    expect(trimStderr(stderr)).toBe('execution error at (web/templates/a.yaml:3:4): boom');
  });

  it('are cut to a bounded length', () => {
    expect(trimStderr(`Error: ${'x'.repeat(5000)}`, 100)).toHaveLength(101);
  });

  it('never show secret values or URL credentials', () => {
    const text = 'Error: value s3cr3t-token is wrong; fetching https://user:pa55@repo.example.com/index.yaml';
    const out = redact(text, ['s3cr3t-token', 'ab']);
    expect(out).not.toContain('s3cr3t-token');
    expect(out).not.toContain('pa55');
    expect(out).toContain('https://***@repo.example.com/index.yaml');
  });
});
