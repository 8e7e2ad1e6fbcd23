import { describe, expect, it } from 'vitest';
import { formatImageReference, parseImageReference, registryAllows } from './image-reference.ts';

const sha = 'sha256:' + 'a'.repeat(64);

describe('image reference parsing', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/nginx', 'docker.io/library/nginx'],
    ['acme/web:2', 'docker.io/acme/web:2'],
    ['ghcr.io/acme/web:1.2', 'ghcr.io/acme/web:1.2'],
    ['GHCR.io/acme/web', 'ghcr.io/acme/web'],
    ['host:5000/x', 'host:5000/x'],
    ['host:5000/x:tag', 'host:5000/x:tag'],
    ['localhost/app', 'localhost/app'],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app:v2'],
    ['Registry/app', 'registry/app'],
    [`nginx@${sha}`, `docker.io/library/nginx@${sha}`],
    [`ghcr.io/acme/web:1.2@${sha}`, `ghcr.io/acme/web:1.2@${sha}`],
    ['[::1]:5000/app', '[::1]:5000/app'],
    ['10.0.0.1:5000/a/b/c', '10.0.0.1:5000/a/b/c'],
    ['a.b/c__d/e-f.g', 'a.b/c__d/e-f.g'],
  ])('%s is %s', (ref, canonical) => {
    expect(formatImageReference(parseImageReference(ref))).toBe(canonical);
  });

  it('keeps the tag and the digest apart', () => {
    expect(parseImageReference(`host:5000/x:v1@${sha}`)).toEqual({
      registry: 'host:5000',
      repository: 'x',
      tag: 'v1',
      digest: sha,
    });
  });

  it.each([
    ['', 'empty'],
    [' nginx', 'whitespace'],
    ['nginx:', 'tag'],
    ['Nginx', 'lower-case'],
    ['docker.io/Acme/web', 'lower-case'],
    ['ghcr.io/acme//web', 'repository path'],
    ['ghcr.io/', 'repository'],
    ['nginx@sha256:abc', 'digest'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'sha256'],
    ['a'.repeat(64), 'image ID'],
    ['ho_st:5000/x', 'registry host'],
    ['nginx:-bad', 'tag'],
    [`${'a/'.repeat(130)}x`, 'longer than 255'],
    ['ghcr.io/acme/web:1@', 'digest'],
  ])('refuses %j (%s)', (ref, reason) => {
    expect(() => parseImageReference(ref)).toThrow(reason);
  });
});

describe('allowed registry entries', () => {
  const allows = (entry: string, ref: string) => registryAllows(entry, parseImageReference(ref));

  it('docker.io covers short names and library images', () => {
    expect(allows('docker.io', 'nginx')).toBe(true);
    expect(allows('docker.io', 'library/nginx')).toBe(true);
    expect(allows('index.docker.io', 'acme/web')).toBe(true);
    expect(allows('docker.io', 'ghcr.io/acme/web')).toBe(false);
  });

  it('a path prefix matches whole segments only', () => {
    expect(allows('ghcr.io/acme', 'ghcr.io/acme/web')).toBe(true);
    expect(allows('ghcr.io/acme', 'ghcr.io/acme')).toBe(true);
    expect(allows('ghcr.io/acme/', 'ghcr.io/acme/team/web')).toBe(true);
    expect(allows('ghcr.io/acme', 'ghcr.io/acme-evil/web')).toBe(false);
    expect(allows('ghcr.io/acme', 'ghcr.io/other/web')).toBe(false);
    expect(allows('docker.io/library', 'nginx')).toBe(true);
    expect(allows('docker.io/library', 'acme/web')).toBe(false);
  });

  it('the port is part of the registry', () => {
    expect(allows('registry:5000', 'registry:5000/x')).toBe(true);
    expect(allows('registry', 'registry:5000/x')).toBe(false);
    expect(allows('registry:5000', 'registry:5001/x')).toBe(false);
  });

  it('a look-alike host is another registry', () => {
    expect(allows('ghcr.io', 'ghcr.io.evil.example/acme/web')).toBe(false);
    expect(allows('GHCR.IO', 'ghcr.io/acme/web')).toBe(true);
  });
});
