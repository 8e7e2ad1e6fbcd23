import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { KubeApiError } from '../../src/kube/client.ts';

/** The e2e cluster's admin kubeconfig path, or null when the suite is being skipped. */
export const kubeconfigPath = inject('kubeconfig');

export function adminConfig(): KubeConfig {
  if (!kubeconfigPath) throw new Error('no e2e cluster');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/** Polls until `check` returns a value other than undefined, or fails with what was last seen. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  );
}

/**
 * A namespace of the test's own (`e2e-<prefix>-<random>`), ready for pods (its default
 * ServiceAccount exists). Returns the name and a cleanup that deletes it.
 */
export async function createTestNamespace(
  kc: KubeConfig,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<{ name: string; remove: () => Promise<void> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `e2e-${prefix}-${randomBytes(3).toString('hex')}`;
  const body: V1Namespace = { metadata: { name, labels: { 'kubeop.io/e2e': 'true', ...labels } } };
  await core.createNamespace({ body });
  await eventually(`ServiceAccount default in ${name}`, async () =>
    (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ? true : undefined,
  );
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => {});
    },
  };
}

export { AppsV1Api, CoreV1Api };

/** The API server's refusal of `p`; fails the test when `p` succeeds or fails some other way. */
export async function errorOf(p: Promise<unknown>): Promise<KubeApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KubeApiError))
    throw new Error(`expected the API server to refuse, got ${String(err)}`);
  return err;
}
