import { describe, expect, it } from 'vitest';
import { appConditions } from './conditions.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:05:00Z');
const byType = <T extends { type: string }>(list: T[]) => Object.fromEntries(list.map((c) => [c.type, c]));

describe('App conditions', () => {
  it('an available revision is Ready, not Progressing, not Degraded', () => {
    const { phase, conditions } = appConditions(
      undefined,
      { kind: 'Deployed', revision: 2, sourceRevision: 'nginx:1', readiness: { state: 'Available' } },
      4,
      t0,
    );
    expect(phase).toBe('Ready');
    const c = byType(conditions);
    expect(c.Ready).toMatchObject({
      status: 'True',
      reason: 'Available',
      message: 'revision 2 (nginx:1) is available',
      observedGeneration: 4,
    });
    expect(c.Progressing).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(c.Degraded).toMatchObject({ status: 'False' });
  });

  it('a failure with an older revision running is Degraded and says so; without one it is Failed', () => {
    const failed = {
      kind: 'Failed' as const,
      reason: 'SourceUnreachable',
      message: 'git.example.com timed out',
    };
    const degraded = appConditions(undefined, { ...failed, running: true }, 1, t0);
    expect(degraded.phase).toBe('Degraded');
    expect(byType(degraded.conditions).Degraded).toMatchObject({
      status: 'True',
      reason: 'SourceUnreachable',
      message: 'git.example.com timed out; the last good revision keeps running',
    });
    expect(byType(degraded.conditions).Ready).toMatchObject({ status: 'False', reason: 'SourceUnreachable' });
    expect(appConditions(undefined, { ...failed, running: false }, 1, t0).phase).toBe('Failed');
  });

  it('keeps lastTransitionTime while a status holds and moves it when it flips', () => {
    const rolling = appConditions(
      undefined,
      {
        kind: 'Deployed',
        revision: 1,
        sourceRevision: 's',
        readiness: { state: 'Progressing', message: 'Deployment/web: 0 of 1 replicas available' },
      },
      1,
      t0,
    );
    expect(rolling.phase).toBe('Progressing');
    const still = appConditions(
      rolling.conditions,
      {
        kind: 'Deployed',
        revision: 1,
        sourceRevision: 's',
        readiness: { state: 'Progressing', message: 'other' },
      },
      1,
      t1,
    );
    expect(byType(still.conditions).Ready!.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const ready = appConditions(
      still.conditions,
      { kind: 'Deployed', revision: 1, sourceRevision: 's', readiness: { state: 'Available' } },
      1,
      t1,
    );
    expect(byType(ready.conditions).Ready!.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });

  it('a stalled rollout is Degraded with the deadline reason', () => {
    const { phase, conditions } = appConditions(
      undefined,
      {
        kind: 'Deployed',
        revision: 1,
        sourceRevision: 's',
        readiness: { state: 'Stalled', message: 'Deployment/web: too slow' },
      },
      1,
      t0,
    );
    expect(phase).toBe('Degraded');
    expect(byType(conditions).Degraded).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
  });
});
