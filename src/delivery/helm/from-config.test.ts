import { describe, expect, it } from 'vitest';
import { normalizeKubeVersion } from './from-config.ts';

describe('the Kubernetes version charts see', () => {
  it('keeps major.minor.patch and drops vendor suffixes that would read as a pre-release', () => {
    expect(normalizeKubeVersion('v1.37.2')).toBe('v1.37.2');
    expect(normalizeKubeVersion('v1.29.3-eks-adc7111')).toBe('v1.29.3');
    expect(normalizeKubeVersion('1.30.0+k3s1')).toBe('v1.30.0');
    expect(normalizeKubeVersion('weird')).toBeUndefined();
    expect(normalizeKubeVersion(undefined)).toBeUndefined();
  });
});
