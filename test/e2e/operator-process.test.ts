import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import type { Project } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import type { Started } from '../support/kubeop-process.ts';
import { installKubeop, metricValue, startOperatorProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';

// Two real `kubeop operator` processes, as a Deployment with 2 replicas runs them.
describe.skipIf(!kubeconfigPath)('two operator processes', () => {
  let admin: KubeClient;
  const processes: Started[] = [];
  const tenant = `ha-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    for (let i = 0; i < 2; i++) processes.push(await startOperatorProcess(kubeconfigPath!));
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: { owners: [{ kind: 'User', name: 'o' }] },
    });
  });
  afterAll(async () => {
    await admin.delete({ apiVersion: API, kind: 'Tenant', name: tenant });
    await Promise.all(processes.map((p) => (p.child.exitCode === null ? p.stop() : undefined)));
  });

  const leaders = () =>
    processes.filter(
      (p) =>
        p.child.exitCode === null && p.logs().some((l) => l.msg === 'became leader; starting controllers'),
    );

  async function reconciled(project: string): Promise<void> {
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant } },
    });
    await eventually(`project ${project} Ready`, async () => {
      const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
  }

  it('elect one leader that reconciles, while both report ready', async () => {
    await eventually('one leader', async () => (leaders().length === 1 ? true : undefined));
    for (const p of processes) expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
    await reconciled(`first-${randomBytes(3).toString('hex')}`);
    const [leader] = leaders();
    const standby = processes.find((p) => p !== leader)!;
    expect(
      await metricValue(leader!.url, 'kubeop_controller_reconcile_total', { controller: 'project' }),
    ).toBeGreaterThan(0);
    expect(
      await metricValue(standby.url, 'kubeop_controller_reconcile_total', { controller: 'project' }),
    ).toBe(0);
    const lease = await admin.get<KubeObject & { spec: { holderIdentity?: string } }>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'kubeop-operator',
      namespace: 'kubeop-system',
    });
    expect(lease.spec.holderIdentity).toBeTruthy();
  });

  it('hand over to the standby when the leader stops, which then reconciles', async () => {
    const [leader] = leaders();
    const standby = processes.find((p) => p !== leader)!;
    const stoppedAt = Date.now();
    expect(await leader!.stop('SIGTERM')).toBe(0);
    await eventually('standby leads', async () => (leaders().includes(standby) ? true : undefined));
    // The leader released its Lease on the way out, so the takeover does not wait for it to expire.
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    await reconciled(`second-${randomBytes(3).toString('hex')}`);
    expect(
      await metricValue(standby.url, 'kubeop_controller_reconcile_total', { controller: 'project' }),
    ).toBeGreaterThan(0);
  });
});
