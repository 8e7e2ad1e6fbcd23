import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { removeWebhookConfigurations } from '../support/admission.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { startKubeop, type Started } from '../support/kubeop-process.ts';

// `kubeop all` runs the operator, metering and admission in one process; they used to watch
// Namespaces three times and Tenants, Projects and Apps twice. The process's informer cache
// (src/kube/cache.ts) reports one series per list-watch it keeps open.
describe.skipIf(!kubeconfigPath)('kubeop all', () => {
  let kubeop: Started | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubeop-watches-'));
    kubeop = await startKubeop(
      ['all'],
      {
        KUBEOP_HTTP_ADDR: '127.0.0.1:0',
        KUBEOP_WEBHOOK_ADDR: '127.0.0.1:0',
        KUBEOP_DATA_DIR: dataDir,
        KUBEOP_KUBECONFIG: kubeconfigPath!,
        KUBEOP_LOG_LEVEL: 'info',
      },
      120_000,
    );
    await eventually(
      'kubeop all ready',
      async () => ((await fetch(`${kubeop!.url}/readyz`)).status === 200 ? true : undefined),
      120_000,
    );
  }, 300_000);

  afterAll(async () => {
    await kubeop?.stop();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    await removeWebhookConfigurations(new KubeClient(kc, { fieldManager: 'e2e-watches' }));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  // Kinds read with different selectors keep a watch each (every Service for metering, the
  // App-labelled ones for the App controller): see the sharing contract in src/kube/cache.ts.
  it('opens one watch per kind the operator, metering and admission all read', async () => {
    const text = await (await fetch(`${kubeop!.url}/metrics`)).text();
    const watches = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const m = /^kubeop_informer_objects\{([^}]*)\}/.exec(line);
      if (!m) continue;
      const resource = /resource="([^"]*)"/.exec(m[1]!)![1]!;
      watches.set(resource, [...(watches.get(resource) ?? []), m[1]!]);
    }
    for (const resource of [
      'v1/Namespace',
      'paas.kubeop.io/v1alpha1/Tenant',
      'paas.kubeop.io/v1alpha1/Project',
      'paas.kubeop.io/v1alpha1/App',
    ]) {
      expect(watches.get(resource), resource).toHaveLength(1);
    }
  });
});
