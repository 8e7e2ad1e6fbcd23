// The webhook certificates against the real API server: create-or-get between replicas, rotation of
// serving certificates and of the CA while the API server keeps calling, cert-manager mode, and the
// `kubeop admission` executable.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertManagerCertificates } from '../../src/admission/certificates/cert-manager.ts';
import { certInfo, isSignedBy, splitPem } from '../../src/admission/certificates/material.ts';
import { kubeSecretStore, SelfManagedCertificates } from '../../src/admission/certificates/self-managed.ts';
import { liveCaBundles, VALIDATING_CONFIGURATION } from '../../src/admission/configurations.ts';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeApiError, KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/platform/logging.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/platform/pki.ts';
import type { Project } from '../../src/schemas/crds/types.ts';
import {
  deleteTenantsAndWait,
  registryMetric,
  removeWebhookConfigurations,
  startAdmissionInProcess,
  SYSTEM_NAMESPACE,
} from '../support/admission.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { startKubeop } from '../support/kubeop-process.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const sfx = randomBytes(3).toString('hex');
const logger = createLogger({ service: 'e2e', level: 'silent' });
const names = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

describe.skipIf(!kubeconfigPath)('webhook certificates on the real API server', () => {
  let admin: KubeClient;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  const tenant = `cert-${sfx}`;
  const project = `load-${sfx}`;
  const ns = projectNamespace(tenant, project);
  const user = `${tenant}-owner`;
  const secretsToDelete: string[] = [];

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    operator = await startOperatorInProcess(kubeconfigPath!);
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: { owners: [{ kind: 'User', name: user }], policy: { allowedRegistries: ['ghcr.io/acme'] } },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant } },
    });
    await eventually('project Ready', async () => {
      const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
      return p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    });
  });

  afterAll(async () => {
    if (!admin) return;
    await removeWebhookConfigurations(admin);
    for (const name of secretsToDelete) {
      await admin.delete({ apiVersion: 'v1', kind: 'Secret', name, namespace: SYSTEM_NAMESPACE });
    }
    if (operator) await deleteTenantsAndWait(admin, [tenant]);
    await operator?.operator.stop();
  }, 180_000);

  it('three replicas starting together create one Secret and serve the same certificate', async () => {
    const secretName = `race-${sfx}`;
    secretsToDelete.push(secretName);
    const replica = () =>
      new SelfManagedCertificates({
        secrets: kubeSecretStore(admin, SYSTEM_NAMESPACE, secretName),
        namespace: SYSTEM_NAMESPACE,
        secretName,
        names,
        policy: { leafValidityMs: 3_600_000, caValidityMs: 86_400_000, overlapMs: 60_000 },
        logger,
      });
    const served = await Promise.all(
      [replica(), replica(), replica()].map((r) => r.reconcile(async () => false)),
    );
    expect(new Set(served.map((m) => m.fingerprint)).size).toBe(1);
    const secret = await admin.get({
      apiVersion: 'v1',
      kind: 'Secret',
      name: secretName,
      namespace: SYSTEM_NAMESPACE,
    });
    expect(secret.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kubeop');
    // A later start reads what is there and writes nothing.
    await replica().reconcile(async () => false);
    const again = await admin.get({
      apiVersion: 'v1',
      kind: 'Secret',
      name: secretName,
      namespace: SYSTEM_NAMESPACE,
    });
    expect(again.metadata.resourceVersion).toBe(secret.metadata.resourceVersion);
  });

  it('rotates serving certificates and the CA while the API server calls the webhooks, without one failed request', async () => {
    const secretName = `rotate-${sfx}`;
    secretsToDelete.push(secretName);
    // Lifetimes in seconds so that several renewals and one CA rotation happen within the test.
    const webhooks = await startAdmissionInProcess(kubeconfigPath!, {
      secretName,
      policy: { leafValidityMs: 12_000, caValidityMs: 45_000, overlapMs: 3_000 },
      checkIntervalMs: 1_000,
    });
    try {
      const body = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'load' },
        spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }] },
      };
      const create = () =>
        admin.request<{ spec: { securityContext?: { runAsNonRoot?: boolean } } }>(
          'POST',
          `/api/v1/namespaces/${ns}/pods?dryRun=All`,
          { body, impersonate: { user } },
        );
      await eventually('the API server calls the webhooks', async () =>
        (await create()).spec.securityContext?.runAsNonRoot ? true : undefined,
      );
      const bundles = new Set<string>();
      const failures: string[] = [];
      let ok = 0;
      const until = Date.now() + 40_000;
      // Four callers back to back: about as much as this 2-core machine gives without starving others.
      await Promise.all([
        ...Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            try {
              const pod = await create();
              if (pod.spec.securityContext?.runAsNonRoot !== true) failures.push('pod was not mutated');
              else ok++;
            } catch (err) {
              failures.push(err instanceof KubeApiError ? err.message : String(err));
            }
          }
        }),
        (async () => {
          while (Date.now() < until) {
            const live = await admin.get({
              apiVersion: 'admissionregistration.k8s.io/v1',
              kind: 'ValidatingWebhookConfiguration',
              name: VALIDATING_CONFIGURATION,
            });
            bundles.add(liveCaBundles(live)[0]!);
            await new Promise((r) => setTimeout(r, 500));
          }
        })(),
      ]);
      expect(failures.slice(0, 5)).toEqual([]);
      expect(ok).toBeGreaterThan(100);
      const steps = (action: string) =>
        registryMetric(webhooks.registry, 'kubeop_admission_certificate_rotations_total', { action });
      expect(await steps('renew-leaf')).toBeGreaterThanOrEqual(2);
      expect(await steps('stage-ca')).toBeGreaterThanOrEqual(1);
      expect(await steps('promote-ca')).toBeGreaterThanOrEqual(1);
      // The published bundle went from one CA to two (staged) and on to the promoted CA.
      expect(bundles.size).toBeGreaterThanOrEqual(2);
      const current = webhooks.admission.material();
      expect(splitPem(current.caBundlePem).some((ca) => isSignedBy(current.certPem, ca))).toBe(true);
    } finally {
      await webhooks.stop();
    }
  }, 120_000);

  it('with cert-manager, applies a Certificate and serves the Secret cert-manager writes', async () => {
    const secretName = `cm-${sfx}`;
    secretsToDelete.push(secretName);
    const source = new CertManagerCertificates({
      client: admin,
      namespace: SYSTEM_NAMESPACE,
      secretName,
      names,
      issuer: { kind: 'ClusterIssuer', name: 'kubeop-ca' },
      leafValidityHours: 2160,
      logger,
    });
    await expect(source.reconcile()).rejects.toThrow(
      `waiting for cert-manager to issue Secret ${SYSTEM_NAMESPACE}/${secretName}`,
    );
    const certificate = await admin.get({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      name: secretName,
      namespace: SYSTEM_NAMESPACE,
    });
    expect(certificate.spec).toMatchObject({
      secretName,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      duration: '2160h',
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'kubeop-ca' },
    });
    // No cert-manager controller runs here: write the Secret the way it would.
    const ca = await createCertificateAuthority('cm-ca');
    const leaf = await issueCertificate(ca, {
      commonName: 'localhost',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    await admin.request('POST', `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets`, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: secretName },
        data: { 'tls.crt': b64(leaf.certPem), 'tls.key': b64(leaf.keyPem), 'ca.crt': b64(ca.certPem) },
      },
    });
    const material = await source.reconcile();
    expect(material.caBundlePem).toBe(ca.certPem);
    expect(material.fingerprint).toBe(certInfo(leaf.certPem).fingerprint);
    await admin.delete({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      name: secretName,
      namespace: SYSTEM_NAMESPACE,
    });
  });

  it('`kubeop admission` serves the webhooks, registers them, reports ready, and stops cleanly', async () => {
    const secretName = `exe-${sfx}`;
    secretsToDelete.push(secretName);
    const svc = await startKubeop(['admission'], {
      KUBEOP_KUBECONFIG: kubeconfigPath!,
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_WEBHOOK_ADDR: '127.0.0.1:0',
      KUBEOP_WEBHOOK_CERT_SECRET: secretName,
      KUBEOP_LOG_LEVEL: 'info',
    });
    try {
      const ready = await (await fetch(`${svc.url}/readyz`)).json();
      expect(ready).toMatchObject({
        status: 'ok',
        checks: { 'admission-caches': { status: 'ok' }, 'webhook-certificate': { status: 'ok' } },
      });
      const listening = svc.logs().find((l) => l.msg === 'admission webhooks listening (HTTPS)');
      expect(listening?.endpoint).toEqual({ url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/) });
      const err = await eventually('the API server calls the executable', async () => {
        const e = await admin
          .request('POST', `/api/v1/namespaces/${ns}/services?dryRun=All`, {
            body: { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } },
            impersonate: { user },
          })
          .then(
            () => undefined,
            (e: unknown) => e as KubeApiError,
          );
        return e?.message.includes('kubeOP rule service-type') ? e : undefined;
      });
      expect(err.code).toBe(403);
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).toMatch(
        /kubeop_admission_requests_total\{webhook="services.validate.paas.kubeop.io",operation="CREATE",decision="denied"\} [1-9]/,
      );
      expect(metrics).toContain('kubeop_admission_certificate_expiry_timestamp_seconds');
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
      await removeWebhookConfigurations(admin);
    }
    expect(svc.logs().map((l) => l.msg)).toContain('shutdown complete');
  }, 120_000);
});

describe('kubeop admission without a cluster', () => {
  it('says it is idle and serves its endpoints', async () => {
    const svc = await startKubeop(['admission'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBECONFIG: '/nonexistent/kubeconfig',
      HOME: '/nonexistent',
    });
    try {
      expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
    }
    expect(svc.logs().map((l) => l.msg)).toContain(
      'no cluster configured (KUBEOP_KUBECONFIG, KUBECONFIG, in-cluster): admission webhooks are idle',
    );
  });
});
