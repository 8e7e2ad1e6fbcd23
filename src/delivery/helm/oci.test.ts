import { describe, expect, it } from 'vitest';
import { classifyPullError, isLoopbackHost, ociRefOf, parseOciRef } from './oci.ts';

describe('OCI chart references', () => {
  it('take the chart name from the last path segment', () => {
    expect(parseOciRef('oci://ghcr.io/acme/charts/web')).toEqual({
      ref: 'oci://ghcr.io/acme/charts/web',
      host: 'ghcr.io',
      name: 'web',
    });
    expect(ociRefOf('web', 'oci://127.0.0.1:5000/charts/').ref).toBe('oci://127.0.0.1:5000/charts/web');
  });

  it('refuse a tag or digest in the reference, pointing at source.helm.version', () => {
    expect(() => parseOciRef('oci://ghcr.io/acme/web:1.0.0')).toThrow(/source.helm.version/);
    expect(() => parseOciRef('oci://ghcr.io/acme/web@sha256:abc')).toThrow(/source.helm.version/);
    expect(() => parseOciRef('oci://ghcr.io')).toThrow(/names no chart/);
    expect(() => parseOciRef('oci://u:p@ghcr.io/acme/web')).toThrow(/credentials/);
  });

  it('recognise loopback registries, with or without a port', () => {
    expect(isLoopbackHost('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackHost('[::1]:5000')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.nip.io:5000')).toBe(false);
    expect(isLoopbackHost('10.0.0.1:5000')).toBe(false);
  });

  it('classify a missing tag as RevisionNotFound and a dead registry as SourceUnreachable', () => {
    expect(classifyPullError('Error: could not locate a version matching provided version string ^9')).toBe(
      'RevisionNotFound',
    );
    expect(classifyPullError('Error: oci://127.0.0.1:5000/charts/web:9.9.9: not found')).toBe(
      'RevisionNotFound',
    );
    expect(
      classifyPullError(
        'Error: Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      ),
    ).toBe('SourceUnreachable');
  });
});
