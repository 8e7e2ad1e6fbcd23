import { describe, expect, it } from 'vitest';
import { normalizeRepoPath, renderKind } from './render.ts';
import { refOf } from './source.ts';

describe('git rendering choices', () => {
  it('prefers a kustomization, then a chart, then plain files', () => {
    expect(renderKind(['kustomization.yaml', 'Chart.yaml', 'a.yaml'])).toBe('kustomize');
    expect(renderKind(['Kustomization'])).toBe('kustomize');
    expect(renderKind(['Chart.yaml', 'values.yaml'])).toBe('helm');
    expect(renderKind(['a.yaml', 'b.json'])).toBe('plain');
  });

  it('normalises the path inside the repository', () => {
    expect(normalizeRepoPath(undefined)).toBe('');
    expect(normalizeRepoPath('/')).toBe('');
    expect(normalizeRepoPath('./deploy/app/')).toBe('deploy/app');
    expect(normalizeRepoPath('deploy//app')).toBe('deploy/app');
    expect(normalizeRepoPath('a/../../etc')).toBe('etc');
  });

  it('asks for a commit, tag, branch or the default branch', () => {
    expect(refOf({ commit: 'ABCDEF1' })).toEqual({ kind: 'commit', sha: 'abcdef1' });
    expect(refOf({ tag: 'v1.2.0' })).toEqual({ kind: 'tag', name: 'v1.2.0' });
    expect(refOf({ branch: 'release/2026' })).toEqual({ kind: 'branch', name: 'release/2026' });
    expect(refOf({})).toEqual({ kind: 'default' });
  });

  it.each(['-upload-pack=x', 'a..b', 'a:b', 'a b', 'x.lock', 'a/'])('refuses the branch name %s', (name) => {
    expect(() => refOf({ branch: name })).toThrow(/not a valid branch name/);
  });
});
