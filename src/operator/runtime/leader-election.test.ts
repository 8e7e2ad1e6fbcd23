import { KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logging.ts';
import {
  decideLease,
  LeaderElector,
  nextLeaseSpec,
  observeLease,
  releasedLeaseSpec,
} from './leader-election.ts';

const held = (holderIdentity: string, extra: Partial<V1LeaseSpec> = {}): V1LeaseSpec => ({
  holderIdentity,
  leaseDurationSeconds: 15,
  leaseTransitions: 3,
  ...extra,
});
const lease = (resourceVersion: string, spec: V1LeaseSpec): V1Lease => ({
  metadata: { name: 'kubeop-operator', resourceVersion },
  spec,
});
const decide = (spec: V1LeaseSpec | undefined, observedAtMs: number, nowMs: number) =>
  decideLease({ spec, identity: 'me', nowMs, observedAtMs });

describe('decideLease', () => {
  it('acquires when no Lease exists', () => {
    expect(decide(undefined, 0, 0)).toBe('acquire');
  });

  it('acquires a released Lease at once', () => {
    expect(decide({ leaseDurationSeconds: 1, leaseTransitions: 3 }, 1000, 1000)).toBe('acquire');
    expect(decide(held(''), 1000, 1000)).toBe('acquire');
  });

  it('renews a Lease it already holds', () => {
    expect(decide(held('me'), 0, 60_000)).toBe('renew');
  });

  it("waits while another holder's Lease has changed within its duration", () => {
    expect(decide(held('other'), 10_000, 10_000)).toBe('wait');
    expect(decide(held('other'), 10_000, 24_999)).toBe('wait');
  });

  it('acquires once the Lease has not changed for its full duration', () => {
    expect(decide(held('other'), 10_000, 25_000)).toBe('acquire');
  });

  it('ignores the remote renewTime, so a skewed clock on either side cannot shorten or extend a lease', () => {
    const hourMs = 3_600_000;
    const writtenByAClockAnHourBehind = held('other', { renewTime: new Date(Date.now() - hourMs) });
    const writtenByAClockAnHourAhead = held('other', { renewTime: new Date(Date.now() + hourMs) });
    expect(decide(writtenByAClockAnHourBehind, 5_000, 6_000)).toBe('wait');
    expect(decide(writtenByAClockAnHourAhead, 5_000, 20_000)).toBe('acquire');
  });

  it('treats a Lease without a duration as expired', () => {
    expect(decide(held('other', { leaseDurationSeconds: undefined }), 5_000, 5_000)).toBe('acquire');
  });
});

describe('observeLease', () => {
  it('keeps the first observation time while the resourceVersion is unchanged', () => {
    const first = observeLease(undefined, lease('7', held('other')), 100);
    const again = observeLease(first, lease('7', held('other')), 9_000);
    expect(again).toEqual({ resourceVersion: '7', holder: 'other', observedAtMs: 100 });
  });

  it('restarts the observation time when the Lease changes, so a renewing holder is never expired', () => {
    const first = observeLease(undefined, lease('7', held('other')), 100);
    const renewed = observeLease(first, lease('8', held('other')), 9_000);
    expect(renewed.observedAtMs).toBe(9_000);
    expect(decide(held('other'), renewed.observedAtMs, 15_100)).toBe('wait');
  });

  it('records a released Lease as having no holder', () => {
    expect(observeLease(undefined, lease('9', { leaseDurationSeconds: 1 }), 0).holder).toBeUndefined();
  });

  it('records a missing Lease', () => {
    expect(observeLease(undefined, undefined, 42)).toEqual({
      resourceVersion: undefined,
      holder: undefined,
      observedAtMs: 42,
    });
  });
});

describe('nextLeaseSpec', () => {
  const now = new Date('2030-01-02T03:04:05.678Z');

  it('creates a Lease with no transitions', () => {
    const spec = nextLeaseSpec(undefined, 'me', now, 15);
    expect(spec).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(spec.renewTime?.toISOString()).toBe('2030-01-02T03:04:05.678000Z');
    expect(spec.acquireTime?.getTime()).toBe(now.getTime());
  });

  it('renews without counting a transition and keeps the acquire time', () => {
    const acquired = new Date('2030-01-01T00:00:00Z');
    const spec = nextLeaseSpec(held('me', { acquireTime: acquired }), 'me', now, 15);
    expect(spec.leaseTransitions).toBe(3);
    expect(spec.acquireTime).toBe(acquired);
    expect(spec.renewTime?.getTime()).toBe(now.getTime());
  });

  it('counts one transition when the holder changes, also after a release', () => {
    expect(nextLeaseSpec(held('other'), 'me', now, 15)).toMatchObject({
      holderIdentity: 'me',
      leaseTransitions: 4,
    });
    const released = releasedLeaseSpec(held('other'), now);
    expect(nextLeaseSpec(released, 'me', now, 15).leaseTransitions).toBe(4);
    expect(nextLeaseSpec(released, 'me', now, 15).acquireTime?.getTime()).toBe(now.getTime());
  });
});

describe('releasedLeaseSpec', () => {
  it('clears the holder and shortens the duration but keeps the transition count', () => {
    const spec = releasedLeaseSpec(held('me'), new Date());
    expect(spec.holderIdentity).toBeUndefined();
    expect(spec.leaseDurationSeconds).toBe(1);
    expect(spec.leaseTransitions).toBe(3);
  });
});

describe('LeaderElector', () => {
  const base = {
    kc: new KubeConfig(),
    namespace: 'kubeop-system',
    name: 'kubeop-operator',
    identity: 'me',
    logger: createLogger({ service: 'test', level: 'silent' }),
    onStartedLeading: () => {},
    onStoppedLeading: () => {},
  };

  it('refuses timings where a leader could outlive its lease', () => {
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      /leaseDurationMs > renewDeadlineMs > retryPeriodMs > 0/,
    );
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(
      RangeError,
    );
  });

  it('refuses an empty identity', () => {
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
  });
});
