import { describe, expect, it } from 'vitest';
import { leadershipCheck } from './readiness.ts';

describe('leadershipCheck', () => {
  it('passes while leading', () => {
    expect(() => leadershipCheck({ state: 'leading', holder: 'me' })).not.toThrow();
  });

  it('says the lease was lost, when, and that the operator campaigns again', () => {
    expect(() =>
      leadershipCheck({ state: 'campaigning', lost: { at: '2026-12-01T23:00:00.000Z', terms: 1 } }),
    ).toThrow(/lost the leader lease at 2026-12-01T23:00:00.000Z; .*campaigning again/);
  });

  it('names the holder while another candidate leads', () => {
    expect(() => leadershipCheck({ state: 'campaigning', holder: 'other-1' })).toThrow(
      'not leading: campaigning; the lease is held by other-1',
    );
  });
});
