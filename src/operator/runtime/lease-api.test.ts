import { describe, expect, it } from 'vitest';
import { microTime } from './lease-api.ts';

describe('lease times on the wire', () => {
  it('are RFC 3339 with six fractional digits, as metav1.MicroTime parses them', () => {
    expect(microTime(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02T03:04:05.678000Z');
    expect(microTime(new Date('2030-01-02T03:04:05.000Z'))).toBe('2030-01-02T03:04:05.000000Z');
  });
});
