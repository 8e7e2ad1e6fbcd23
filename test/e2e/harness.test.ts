import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../../src/platform/pki.ts';
import {
  adminConfig,
  AppsV1Api,
  CoreV1Api,
  createTestNamespace,
  eventually,
  kubeconfigPath,
} from '../support/e2e.ts';

const run = promisify(execFile);

function kubectlAs(user: string, args: string[]) {
  return run('kubectl', ['--kubeconfig', kubeconfigPath!, '--as', user, ...args]);
}

const pod = (name: string) => ({
  metadata: { name },
  spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
});

// These prove the local control plane is a real one: controllers, scheduler, kwok nodes, quota
// admission, RBAC and webhooks all behave as on any conformant cluster.
describe.skipIf(!kubeconfigPath)('local control plane', () => {
  const kc = kubeconfigPath ? adminConfig() : undefined;
  const core = kc?.makeApiClient(CoreV1Api);
  const apps = kc?.makeApiClient(AppsV1Api);
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((c) => c()));
  });

  it('runs a 2-replica Deployment to 2 available pods on kwok nodes', async () => {
    const ns = await createTestNamespace(kc!, 'deploy');
    cleanups.push(ns.remove);
    await apps!.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
          },
        },
      },
    });
    await eventually('2 available replicas', async () => {
      const d = await apps!.readNamespacedDeployment({ name: 'web', namespace: ns.name });
      return d.status?.availableReplicas === 2 ? true : undefined;
    });
    const pods = await core!.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.status?.phase).toBe('Running');
      expect(p.spec?.nodeName).toMatch(/^kwok-node-\d+$/);
    }
  });

  it('refuses a pod beyond a ResourceQuota', async () => {
    const ns = await createTestNamespace(kc!, 'quota');
    cleanups.push(ns.remove);
    await core!.createNamespacedResourceQuota({
      namespace: ns.name,
      body: { metadata: { name: 'pods' }, spec: { hard: { pods: '1' } } },
    });
    // Quota admission needs the quota controller to have recorded usage first.
    await eventually('quota status', async () => {
      const q = await core!.readNamespacedResourceQuota({ name: 'pods', namespace: ns.name });
      return q.status?.hard?.pods === '1' ? true : undefined;
    });
    await core!.createNamespacedPod({ namespace: ns.name, body: pod('first') });
    const refused = await core!
      .createNamespacedPod({ namespace: ns.name, body: pod('second') })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<string>).code).toBe(403);
    expect(String((refused as ApiException<string>).body)).toContain('exceeded quota: pods');
  });

  it('forbids an impersonated user outside its namespace and allows it inside', async () => {
    const own = await createTestNamespace(kc!, 'rbac-own');
    const other = await createTestNamespace(kc!, 'rbac-other');
    cleanups.push(own.remove, other.remove);
    await run('kubectl', [
      '--kubeconfig',
      kubeconfigPath!,
      'create',
      'rolebinding',
      'alice-edit',
      '--clusterrole=edit',
      '--user=alice',
      '-n',
      own.name,
    ]);
    const allowed = await eventually('alice allowed in her namespace', async () => {
      const r = await kubectlAs('alice', ['get', 'configmaps', '-n', own.name, '-o', 'name']).catch(
        () => undefined,
      );
      return r;
    });
    expect(allowed.stdout).toContain('configmap/kube-root-ca.crt');
    const denied = await kubectlAs('alice', ['get', 'configmaps', '-n', other.name]).catch(
      (e: { stderr: string }) => e,
    );
    expect((denied as { stderr: string }).stderr).toMatch(
      new RegExp(
        `User "alice" cannot list resource "configmaps" in API group "" in the namespace "${other.name}"`,
      ),
    );
  });

  describe('a validating webhook on 127.0.0.1', () => {
    let server: Server;
    let calls = 0;
    const webhookName = `e2e-deny-${Date.now()}`;
    let namespace: string;

    beforeAll(async () => {
      const ca = await createCertificateAuthority('e2e-webhook-ca');
      const leaf = await issueCertificate(ca, {
        commonName: '127.0.0.1',
        ipAddresses: ['127.0.0.1'],
        usage: 'server',
      });
      server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          calls++;
          const review = JSON.parse(body) as { request: { uid: string; name: string } };
          const deny = review.request.name.startsWith('deny-');
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: {
                uid: review.request.uid,
                allowed: !deny,
                ...(deny
                  ? {
                      status: {
                        code: 403,
                        message: 'names starting with deny- are refused by the e2e webhook',
                      },
                    }
                  : {}),
              },
            }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const ns = await createTestNamespace(kc!, 'webhook', { 'kubeop.io/e2e-webhook': webhookName });
      namespace = ns.name;
      cleanups.push(ns.remove);
      const admission = kc!.makeApiClient(AdmissionregistrationV1Api);
      await admission.createValidatingWebhookConfiguration({
        body: {
          metadata: { name: webhookName },
          webhooks: [
            {
              name: 'deny.e2e.kubeop.io',
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              timeoutSeconds: 5,
              clientConfig: {
                url: `https://127.0.0.1:${port}/validate`,
                caBundle: Buffer.from(ca.certPem).toString('base64'),
              },
              namespaceSelector: { matchLabels: { 'kubeop.io/e2e-webhook': webhookName } },
              rules: [
                { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] },
              ],
            },
          ],
        },
      });
      cleanups.push(async () => {
        await admission.deleteValidatingWebhookConfiguration({ name: webhookName }).catch(() => {});
        server.close();
      });
    });

    it('is called by the API server and its denial reaches the client', async () => {
      // The API server picks up a new webhook configuration within a moment; probe until it does.
      let n = 0;
      const denial = await eventually('the webhook to deny', async () => {
        const err = await core!
          .createNamespacedConfigMap({ namespace, body: { metadata: { name: `deny-${n++}` } } })
          .then(() => undefined)
          .catch((e: unknown) => e);
        return err;
      });
      expect((denial as ApiException<string>).code).toBe(403);
      expect(String((denial as ApiException<string>).body)).toContain(
        'admission webhook \\"deny.e2e.kubeop.io\\" denied the request: names starting with deny- are refused by the e2e webhook',
      );
      const before = calls;
      await core!.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'allowed' } } });
      expect(calls).toBe(before + 1);
    });
  });

  it('serves the cert-manager and Gateway API kinds kubeOP creates, with their published schemas', async () => {
    const ns = await createTestNamespace(kc!, 'crds');
    cleanups.push(ns.remove);
    const custom = kc!.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'cert-manager.io',
      version: 'v1',
      namespace: ns.name,
      plural: 'certificates',
      body: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: 'web' },
        spec: {
          secretName: 'web-tls',
          dnsNames: ['web.example.com'],
          issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      namespace: ns.name,
      plural: 'httproutes',
      body: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web' },
        spec: { hostnames: ['web.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
      },
    });
    const invalid = await custom
      .createNamespacedCustomObject({
        group: 'cert-manager.io',
        version: 'v1',
        namespace: ns.name,
        plural: 'certificates',
        body: {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          metadata: { name: 'bad' },
          spec: { dnsNames: ['x'] },
        },
      })
      .catch((e: unknown) => e);
    expect((invalid as ApiException<string>).code).toBe(422);
    expect(String((invalid as ApiException<string>).body)).toContain('spec.secretName: Required value');
  });

  it('finishes deleting a namespace with workloads in it', async () => {
    const ns = await createTestNamespace(kc!, 'delete');
    await core!.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'data' } } });
    await core!.createNamespacedPod({ namespace: ns.name, body: pod('worker') });
    await eventually('pod running', async () => {
      const p = await core!.readNamespacedPod({ name: 'worker', namespace: ns.name });
      return p.status?.phase === 'Running' ? true : undefined;
    });
    await core!.deleteNamespace({ name: ns.name });
    const gone = await eventually(
      'namespace gone',
      async () => {
        const err = await core!
          .readNamespace({ name: ns.name })
          .then(() => undefined)
          .catch((e: unknown) => e);
        return err;
      },
      90_000,
    );
    expect((gone as ApiException<string>).code).toBe(404);
  });
});
