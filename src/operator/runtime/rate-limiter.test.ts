import { describe, expect, it } from 'vitest';
import { ExponentialRateLimiter } from './rate-limiter.ts';

describe('ExponentialRateLimiter', () => {
  it('doubles the delay from the base on each failure of a key', () => {
    const limiter = new ExponentialRateLimiter(5, 1000);
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.retries('a')).toBe(5);
  });

  it('caps the delay at the maximum, even after very many failures', () => {
    const limiter = new ExponentialRateLimiter(5, 100);
    const delays = Array.from({ length: 2000 }, () => limiter.when('a'));
    expect(delays.slice(0, 7)).toEqual([5, 10, 20, 40, 80, 100, 100]);
    expect(delays.at(-1)).toBe(100);
  });

  it('defaults to 5 ms doubling up to 5 minutes', () => {
    const limiter = new ExponentialRateLimiter();
    expect(limiter.when('a')).toBe(5);
    const delays = Array.from({ length: 30 }, () => limiter.when('a'));
    expect(delays.at(-1)).toBe(300_000);
  });

  it('keeps each key’s failures separate', () => {
    const limiter = new ExponentialRateLimiter(1, 1000);
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(1);
    expect(limiter.retries('a')).toBe(2);
    expect(limiter.retries('b')).toBe(1);
  });

  it('forgetting a key starts its backoff over', () => {
    const limiter = new ExponentialRateLimiter(5, 1000);
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.retries('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });
});
