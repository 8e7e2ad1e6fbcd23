import { describe, expect, it } from 'vitest';
import { AbortedError, DeadlineExceededError, withDeadline } from './deadline.ts';

const never = () => new Promise<never>(() => {});

describe('withDeadline', () => {
  it('passes the result of work that settles in time through', async () => {
    await expect(withDeadline('w', 1000, Promise.resolve(7))).resolves.toBe(7);
    await expect(withDeadline('w', 1000, Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('gives up on work that never settles once the deadline passes', async () => {
    const started = performance.now();
    await expect(withDeadline('GET /x', 50, never())).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('gives up at once when the signal aborts, or was aborted already', async () => {
    const ac = new AbortController();
    const waiting = withDeadline('w', 60_000, never(), ac.signal);
    ac.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(withDeadline('w', 60_000, never(), ac.signal)).rejects.toBeInstanceOf(AbortedError);
  });
});
