import { describe, expect, it } from 'vitest';
import { ApiError } from '../../platform/problem.ts';
import { mintedTokenExpiry } from './token-expiry.ts';

const now = Date.parse('2026-12-01T12:00:00Z');
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiError ? { status: err.status, code: err.code, message: err.message } : err;
  }
  return undefined;
};

describe('the expiry of a minted token', () => {
  it('a maker that never expires may mint a token that never expires, or one that does', () => {
    expect(mintedTokenExpiry(undefined, undefined, now)).toBeNull();
    expect(mintedTokenExpiry(undefined, 3600, now)).toBe('2026-12-01T13:00:00.000Z');
  });

  it('a maker that expires may mint a token expiring at or before it', () => {
    expect(mintedTokenExpiry('2026-12-01T13:00:00Z', 600, now)).toBe('2026-12-01T12:10:00.000Z');
    expect(mintedTokenExpiry('2026-12-01T13:00:00Z', 3600, now)).toBe('2026-12-01T13:00:00.000Z');
  });

  it('a maker that expires cannot mint a token that never expires', () => {
    expect(refusal(() => mintedTokenExpiry('2026-12-01T13:00:00Z', undefined, now))).toEqual({
      status: 400,
      code: 'KUBEOP_ERR_TOKEN_EXPIRY',
      message: expect.stringContaining('"expiresInSeconds" to at most 3600'),
    });
  });

  it('a maker that expires cannot mint a token that expires later', () => {
    expect(refusal(() => mintedTokenExpiry('2026-12-01T13:00:00Z', 3601, now))).toMatchObject({
      code: 'KUBEOP_ERR_TOKEN_EXPIRY',
      message: expect.stringContaining('at most 3600'),
    });
  });

  it('a maker with less than a minute left cannot mint at all', () => {
    expect(refusal(() => mintedTokenExpiry('2026-12-01T12:00:59Z', 60, now))).toMatchObject({
      code: 'KUBEOP_ERR_TOKEN_EXPIRY',
      message: expect.stringContaining('longer-lived credentials'),
    });
  });
});
