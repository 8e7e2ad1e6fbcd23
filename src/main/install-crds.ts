import type { KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNotFound, KubeClient } from '../kube/client.ts';
import type { Logger } from '../platform/logging.ts';
import { crdDefinitions, GROUP } from '../schemas/crds/definitions.ts';
import { renderCrd } from '../schemas/crds/render.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface CrdStatus {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/**
 * `kubeop all` only (development and the quick start): installs kubeOP's CRDs when the cluster has
 * none of them yet and creates the system namespace, so a bare cluster works at once. CRDs that
 * exist are left alone: changing them is an upgrade, done deliberately (docs/operations/upgrade.md).
 */
export async function installMissingCrds(
  kc: KubeConfig,
  systemNamespace: string,
  logger: Logger,
  timeoutMs = 60_000,
): Promise<string[]> {
  const client = new KubeClient(kc, { fieldManager: 'kubeop' });
  const installed: string[] = [];
  for (const def of crdDefinitions) {
    const name = `${def.plural}.${GROUP}`;
    const existing = await client.request('GET', `${CRDS}/${name}`).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (existing) continue;
    await client.request('PATCH', `${CRDS}/${name}?fieldManager=kubeop&force=true`, {
      body: renderCrd(def),
      contentType: 'application/apply-patch+yaml',
    });
    installed.push(name);
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of installed) {
    for (;;) {
      const crd = await client.request<CrdStatus>('GET', `${CRDS}/${name}`);
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not established within ${timeoutMs} ms`);
      await sleep(250);
    }
  }
  if (installed.length) logger.info({ crds: installed }, 'installed the kubeOP CRDs the cluster lacked');
  await client
    .request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: systemNamespace } },
    })
    .then(
      () => logger.info({ namespace: systemNamespace }, 'created the kubeOP system namespace'),
      (err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      },
    );
  return installed;
}
