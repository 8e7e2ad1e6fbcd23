import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../kube/client.ts';
import { createLogger } from '../../platform/logging.ts';
import { certInfo, isSignedBy, splitPem } from './material.ts';
import { planRotation, type RotationPolicy } from './rotation.ts';
import { SelfManagedCertificates, type SecretObject, type SecretStore } from './self-managed.ts';
import type { ServingMaterial } from './source.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const names = { dnsNames: ['kubeop-webhook.kubeop-system.svc'], ipAddresses: ['127.0.0.1'] };
const logger = createLogger({ service: 'test', level: 'silent' });

/** An in-memory Secret with the API server's create and resourceVersion semantics. */
function memoryStore(): SecretStore & { writes: number; current(): SecretObject | undefined } {
  let secret: SecretObject | undefined;
  let rv = 0;
  let writes = 0;
  const copy = (s: SecretObject) => structuredClone(s);
  return {
    get writes() {
      return writes;
    },
    current: () => secret,
    async read() {
      return secret && copy(secret);
    },
    async create(s) {
      await Promise.resolve();
      if (secret) throw new KubeApiError(409, 'AlreadyExists', 'secrets "x" already exists');
      writes++;
      secret = { ...copy(s), metadata: { ...s.metadata, resourceVersion: String(++rv) } };
      return copy(secret);
    },
    async update(s) {
      await Promise.resolve();
      if (s.metadata.resourceVersion !== secret?.metadata.resourceVersion) {
        throw new KubeApiError(409, 'Conflict', 'the object has been modified');
      }
      writes++;
      secret = { ...copy(s), metadata: { ...s.metadata, resourceVersion: String(++rv) } };
      return copy(secret);
    },
  };
}

function replica(store: SecretStore, policy: RotationPolicy, clock: { now: Date }) {
  return new SelfManagedCertificates({
    secrets: store,
    namespace: 'kubeop-system',
    secretName: 'kubeop-webhook-tls',
    names,
    policy,
    logger,
    now: () => clock.now,
  });
}

describe('self-managed webhook certificates', () => {
  it('two replicas starting together end up with one CA and one certificate (create-or-get)', async () => {
    const store = memoryStore();
    const clock = { now: new Date() };
    const policy = { leafValidityMs: 90 * 24 * HOUR, caValidityMs: 3650 * 24 * HOUR, overlapMs: 10 * MIN };
    const [a, b] = await Promise.all([
      replica(store, policy, clock).reconcile(async () => false),
      replica(store, policy, clock).reconcile(async () => false),
    ]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.caBundlePem).toBe(b.caBundlePem);
    expect(store.writes).toBe(1);
    expect(isSignedBy(a.certPem, splitPem(a.caBundlePem)[0]!)).toBe(true);
    expect(certInfo(a.certPem)).toMatchObject({ dnsNames: names.dnsNames, ipAddresses: names.ipAddresses });
  });

  it('never touches a Secret of that name it did not create', async () => {
    const store = memoryStore();
    await store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'kubeop-webhook-tls' },
      data: {},
    });
    const policy = { leafValidityMs: HOUR, caValidityMs: 24 * HOUR, overlapMs: MIN };
    await expect(replica(store, policy, { now: new Date() }).reconcile(async () => false)).rejects.toThrow(
      'exists but was not created by kubeOP',
    );
    expect(store.writes).toBe(1);
  });

  it('plans nothing for a fresh state, and a new leaf when the names change', async () => {
    const store = memoryStore();
    const clock = { now: new Date() };
    const policy = { leafValidityMs: HOUR, caValidityMs: 24 * HOUR, overlapMs: MIN };
    await replica(store, policy, clock).reconcile(async () => false);
    const { stateFromSecret } = await import('./self-managed.ts');
    const state = stateFromSecret(store.current()!);
    expect(planRotation(state, clock.now, policy, names, false)).toEqual({ action: 'none' });
    expect(
      planRotation(state, clock.now, policy, { ...names, dnsNames: ['other.example'] }, false),
    ).toMatchObject({
      action: 'renew-leaf',
    });
    expect(planRotation({ ...state, tlsCert: 'garbage' }, clock.now, policy, names, false)).toMatchObject({
      action: 'reissue',
    });
  });

  it('rotates certificates and CAs over many lifetimes so that the API server trusts what every replica serves at every moment', async () => {
    // Two replicas, checking every minute at different offsets; the API server sees a changed
    // webhook configuration 20 s late; the configurations are whatever bundle a replica applied last.
    const policy: RotationPolicy = { leafValidityMs: 30 * MIN, caValidityMs: 3 * HOUR, overlapMs: 5 * MIN };
    const store = memoryStore();
    const start = Date.now();
    const clock = { now: new Date(start) };
    const replicas = [replica(store, policy, clock), replica(store, policy, clock)];
    const served: Array<ServingMaterial | undefined> = [undefined, undefined];
    let live = '';
    const history: Array<{ at: number; bundle: string }> = [];
    const isPublished = async (pem: string) => live.includes(pem.trim());
    const seenByApiServer = (t: number) =>
      [...history].reverse().find((h) => h.at <= t - 20_000)?.bundle ?? '';
    const leaves = new Set<string>();
    const cas = new Set<string>();

    for (let t = 0; t <= 10 * HOUR; t += 10_000) {
      clock.now = new Date(start + t);
      for (const [i, r] of replicas.entries()) {
        if ((t + i * 30_000) % MIN !== 0) continue;
        const m = await r.reconcile(isPublished);
        served[i] = m;
        leaves.add(m.fingerprint);
        for (const ca of splitPem(m.caBundlePem)) cas.add(certInfo(ca).fingerprint);
        if (m.caBundlePem !== live) {
          live = m.caBundlePem;
          history.push({ at: t, bundle: live });
        }
      }
      const trusted = splitPem(seenByApiServer(start + t - start));
      if (!trusted.length) continue; // before the configurations exist nobody calls the webhook
      for (const m of served) {
        if (!m) continue;
        const leaf = certInfo(m.certPem);
        expect(leaf.notAfter.getTime(), `serving an expired certificate at t=${t / 1000}s`).toBeGreaterThan(
          start + t,
        );
        const chain = trusted.filter(
          (ca) => isSignedBy(m.certPem, ca) && certInfo(ca).notAfter.getTime() > start + t,
        );
        expect(chain.length, `no trusted CA for a served certificate at t=${t / 1000}s`).toBeGreaterThan(0);
      }
    }
    // 10 hours: about 30 leaf renewals and 4 CA rotations happened, not a handful.
    expect(leaves.size).toBeGreaterThan(20);
    expect(cas.size).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
