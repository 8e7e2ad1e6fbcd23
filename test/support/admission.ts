// Admission assembled in the test process (so coverage sees it), against a real API server: the
// same caches, certificate source and server as `kubeop admission`, with knobs for the tests.
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { FIELD_MANAGER, removeWebhookConfigurations, startAdmission } from '../../src/admission/admission.ts';
import { HostnameClaims } from '../../src/admission/claims.ts';
import type { RotationPolicy } from '../../src/admission/certificates/rotation.ts';
import { kubeSecretStore, SelfManagedCertificates } from '../../src/admission/certificates/self-managed.ts';
import { createAdmissionMetrics } from '../../src/admission/metrics.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { startTenancyCaches } from '../../src/main/admission.ts';
import { createLogger } from '../../src/platform/logging.ts';

export const SYSTEM_NAMESPACE = 'kubeop-system';
export const OPERATOR_USERNAME = 'system:serviceaccount:kubeop-system:kubeop';

export interface InProcessAdmission {
  url: string;
  registry: Registry;
  client: KubeClient;
  admission: Awaited<ReturnType<typeof startAdmission>>;
  /** Deletes the webhook configurations, then stops the server and caches, then deletes the Secret. */
  stop(): Promise<void>;
}

export { removeWebhookConfigurations };

/**
 * Admission runs with `KUBEOP_TEST_ADMISSION_KUBECONFIG` when set (the chart's admission
 * ServiceAccount, see test/support/chart-cli.ts), so a suite proves the chart's RBAC is enough. The
 * chart scopes that ServiceAccount to its certificate Secret, so the chart's Secret name is used
 * then; cleanup always runs with the test's own kubeconfig.
 */
export const CHART_CERT_SECRET = 'kubeop-webhook-tls';

export async function startAdmissionInProcess(
  kubeconfig: string,
  options: { secretName: string; policy?: RotationPolicy; checkIntervalMs?: number; claimGraceMs?: number },
): Promise<InProcessAdmission> {
  const own = process.env.KUBEOP_TEST_ADMISSION_KUBECONFIG;
  const opts = own ? { ...options, secretName: CHART_CERT_SECRET } : options;
  const kc = new KubeConfig();
  kc.loadFromFile(own || kubeconfig);
  const cleanupKc = new KubeConfig();
  cleanupKc.loadFromFile(kubeconfig);
  const cleanup = new KubeClient(cleanupKc, { fieldManager: FIELD_MANAGER });
  const logger = createLogger({
    service: 'e2e-admission',
    level: process.env.KUBEOP_TEST_LOG_LEVEL ?? 'silent',
  });
  const client = new KubeClient(kc, { fieldManager: FIELD_MANAGER });
  const registry = new Registry();
  const metrics = createAdmissionMetrics(registry);
  const caches = await startTenancyCaches(kc, logger, 600_000, SYSTEM_NAMESPACE);
  const policy = opts.policy ?? {
    leafValidityMs: 24 * 3_600_000,
    caValidityMs: 30 * 86_400_000,
    overlapMs: 60_000,
  };
  const admission = await startAdmission({
    client,
    view: caches.view,
    source: new SelfManagedCertificates({
      secrets: kubeSecretStore(client, SYSTEM_NAMESPACE, opts.secretName),
      namespace: SYSTEM_NAMESPACE,
      secretName: opts.secretName,
      names: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
      policy,
      logger,
      onRotated: (action) => metrics.rotations.inc({ action }),
    }),
    listen: { host: '127.0.0.1', port: 0 },
    endpoint: (port) => ({ url: `https://127.0.0.1:${port}` }),
    systemNamespace: SYSTEM_NAMESPACE,
    trusted: { operatorUsername: OPERATOR_USERNAME },
    imagePullPolicy: 'Always',
    timeoutSeconds: 5,
    checkIntervalMs: opts.checkIntervalMs ?? 60_000,
    logger,
    metrics,
    claims: new HostnameClaims({
      client,
      namespace: SYSTEM_NAMESPACE,
      store: caches.claims,
      view: caches.view,
      logger,
      ...(opts.claimGraceMs !== undefined ? { graceMs: opts.claimGraceMs } : {}),
    }),
  });
  return {
    url: `https://127.0.0.1:${admission.address.port}`,
    registry,
    client,
    admission,
    async stop() {
      // Configurations first: a configuration pointing at a stopped server would fail every
      // request in tenant namespaces for the test files that run after this one.
      await removeWebhookConfigurations(cleanup);
      await admission.stop();
      caches.stop();
      await cleanup.delete({
        apiVersion: 'v1',
        kind: 'Secret',
        name: opts.secretName,
        namespace: SYSTEM_NAMESPACE,
      });
    },
  };
}

/** One sample (summed over matching series) of a metric in a registry. */
export async function registryMetric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? [])
    .filter((v) =>
      Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val),
    )
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * Deletes tenants and waits until they are gone, with the caller's operator still running to work
 * their finalizers: a tenant left half-deleted would be finished by the next test file's operator,
 * whose write counters would then see it.
 */
export async function deleteTenantsAndWait(client: KubeClient, tenants: string[]): Promise<void> {
  const ref = (name: string) => ({ apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', name });
  for (const t of tenants) await client.delete(ref(t));
  // Polled here rather than with e2e.ts's `eventually`, which needs vitest (benchmarks use this too).
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    const left = await Promise.all(tenants.map((t) => client.find(ref(t))));
    if (left.every((x) => x === undefined)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`tenants ${tenants.join(', ')} still exist after 150 s`);
}
