import { CoordinationV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logging.ts';
import { LeaderElector } from '../../src/operator/runtime/leader-election.ts';
import { adminConfig, CoreV1Api, createTestNamespace, eventually, kubeconfigPath } from '../support/e2e.ts';

const leaseDurationMs = 2_000;
const timings = { leaseDurationMs, renewDeadlineMs: 1_500, retryPeriodMs: 300 };

interface Candidate {
  identity: string;
  elector: LeaderElector;
  /** What its callbacks reported, with performance.now() times. */
  seen: { startedAt?: number; stoppedAt?: number; newLeaders: string[] };
  /** Deletes this candidate's RoleBinding: it can no longer read or write the Lease. */
  revoke: () => Promise<void>;
  /** Resolves when run() does; set once the candidate runs. */
  done?: Promise<void>;
}

// Each candidate runs as its own ServiceAccount with a token, so one can be cut off from the API
// server by RBAC (a leader whose renewals fail) while the others keep working.
describe.skipIf(!kubeconfigPath)('leader election on a Lease', () => {
  const kc = kubeconfigPath ? adminConfig() : undefined;
  const core = kc?.makeApiClient(CoreV1Api);
  const rbac = kc?.makeApiClient(RbacAuthorizationV1Api);
  const coordination = kc?.makeApiClient(CoordinationV1Api);
  const logger = createLogger({ service: 'test', level: 'silent' });
  let namespace: string;
  let removeNamespace: () => Promise<void>;
  let candidates: Candidate[] = [];
  // Samples isLeader() of every running candidate; any moment with two leaders is recorded.
  let sampler: NodeJS.Timeout;
  let samples = 0;
  let overlaps: string[] = [];

  beforeAll(async () => {
    ({ name: namespace, remove: removeNamespace } = await createTestNamespace(kc!, 'leader'));
    await rbac!.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'lease-holder' },
        rules: [
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        ],
      },
    });
  });
  afterAll(async () => {
    await removeNamespace?.();
  });

  beforeEach(() => {
    samples = 0;
    overlaps = [];
    sampler = setInterval(() => {
      samples++;
      const leaders = candidates.filter((c) => c.elector.isLeader()).map((c) => c.identity);
      if (leaders.length > 1) overlaps.push(leaders.join(' and '));
    }, 5);
  });
  afterEach(async () => {
    await Promise.all(candidates.map((c) => c.elector.stop()));
    clearInterval(sampler);
    candidates = [];
  });

  async function candidate(lease: string, identity: string): Promise<Candidate> {
    await core!.createNamespacedServiceAccount({ namespace, body: { metadata: { name: identity } } });
    await rbac!.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: identity },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease-holder' },
        subjects: [{ kind: 'ServiceAccount', name: identity, namespace }],
      },
    });
    const { status } = await core!.createNamespacedServiceAccountToken({
      name: identity,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = kc!.getCurrentCluster()!;
    const own = new KubeConfig();
    own.loadFromOptions({
      clusters: [cluster],
      users: [{ name: identity, token: status!.token }],
      contexts: [{ name: identity, cluster: cluster.name, user: identity }],
      currentContext: identity,
    });
    const seen: Candidate['seen'] = { newLeaders: [] };
    const elector = new LeaderElector({
      kc: own,
      namespace,
      name: lease,
      identity,
      ...timings,
      logger,
      onStartedLeading: () => (seen.startedAt = performance.now()),
      onStoppedLeading: () => (seen.stoppedAt = performance.now()),
      onNewLeader: (holder) => seen.newLeaders.push(holder),
    });
    const revoke = async () => {
      await rbac!.deleteNamespacedRoleBinding({ name: identity, namespace });
    };
    return { identity, elector, seen, revoke };
  }

  /** Starts two candidates on `lease` and waits until one leads. */
  async function election(lease: string): Promise<{ leader: Candidate; standby: Candidate }> {
    const pair = [await candidate(lease, `${lease}-a`), await candidate(lease, `${lease}-b`)];
    for (const c of pair) {
      c.done = c.elector.run();
      candidates.push(c);
    }
    const leader = await eventually('a leader', async () => pair.find((c) => c.elector.isLeader()), 10_000);
    return { leader, standby: pair.find((c) => c !== leader)! };
  }

  const readLease = (name: string): Promise<V1Lease> =>
    coordination!.readNamespacedLease({ name, namespace });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('elects exactly one of two candidates, which keeps the lease past its duration', async () => {
    const { leader, standby } = await election('one');
    // Longer than the lease: the leader must be renewing, and the standby must be respecting it.
    await sleep(2 * leaseDurationMs);
    expect(leader.elector.isLeader()).toBe(true);
    expect(standby.elector.isLeader()).toBe(false);
    expect(standby.seen.startedAt).toBeUndefined();
    expect(standby.seen.newLeaders).toEqual([leader.identity]);
    const lease = await readLease('one');
    expect(lease.spec).toMatchObject({
      holderIdentity: leader.identity,
      leaseDurationSeconds: 2,
      leaseTransitions: 0,
    });
    expect(samples).toBeGreaterThan(100);
    expect(overlaps).toEqual([]);
  });

  it('hands over to the standby at once when the leader stops gracefully', async () => {
    const { leader, standby } = await election('two');
    const before = (await readLease('two')).spec!.leaseTransitions!;
    const stopping = performance.now();
    await leader.elector.stop();
    await leader.done;
    expect(leader.seen.stoppedAt).toBeDefined();
    expect(leader.elector.isLeader()).toBe(false);
    await eventually('the standby to lead', async () => standby.seen.startedAt, 5_000);
    // A retry period plus a request or two, far less than the 2 s the lease would have run for.
    expect(standby.seen.startedAt! - stopping).toBeLessThan(leaseDurationMs / 2);
    const lease = await readLease('two');
    expect(lease.spec).toMatchObject({ holderIdentity: standby.identity, leaseTransitions: before + 1 });
    expect(overlaps).toEqual([]);
  });

  it('lets a leader that can no longer renew step down, and the standby take over only after expiry', async () => {
    const { leader, standby } = await election('three');
    // Track the leader's renewals as the API server stores them, to know its last successful one.
    let lastRenewal: Date | undefined;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const spec = (await readLease('three')).spec;
        if (spec?.holderIdentity === leader.identity) lastRenewal = new Date(String(spec.renewTime));
        await sleep(50);
      }
    })();
    await sleep(500);
    await leader.revoke();
    // The leader's run() resolves by itself: leadership lost, not stopped.
    await leader.done;
    expect(leader.seen.stoppedAt).toBeDefined();
    expect(leader.elector.isLeader()).toBe(false);
    await eventually('the standby to lead', async () => standby.seen.startedAt, 10_000);
    watching = false;
    await watcher;
    expect(standby.seen.startedAt!).toBeGreaterThan(leader.seen.stoppedAt!);
    const lease = await readLease('three');
    expect(lease.spec).toMatchObject({ holderIdentity: standby.identity, leaseTransitions: 1 });
    // Both timestamps come from this process's clock. The standby waited out the full lease after it
    // saw the leader's last renewal (a millisecond of slack for wall versus monotonic clock rates).
    const waitedMs = new Date(String(lease.spec!.acquireTime)).getTime() - lastRenewal!.getTime();
    expect(waitedMs).toBeGreaterThanOrEqual(leaseDurationMs - 5);
    expect(waitedMs).toBeLessThan(leaseDurationMs + 2_000);
    expect(overlaps).toEqual([]);
  });
});
