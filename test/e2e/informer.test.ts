import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logging.ts';
import { Informer, isGone, kubeListWatch, type ListWatch } from '../../src/kube/informer.ts';
import { adminConfig, CoreV1Api, createTestNamespace, eventually, kubeconfigPath } from '../support/e2e.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

const logger = createLogger({ service: 'test', level: 'silent' });

describe.skipIf(!kubeconfigPath)('informer on a real API server', () => {
  const kc = kubeconfigPath ? adminConfig() : undefined;
  const core = kc?.makeApiClient(CoreV1Api);
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('follows ConfigMaps being created, updated and deleted', async () => {
    const ns = await createTestNamespace(kc!, 'informer');
    cleanups.push(ns.remove);
    await core!.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'before', labels: { tier: 'web' } }, data: { v: '0' } },
    });

    const informer = new Informer<ConfigMap>({
      listWatch: kubeListWatch(kc!, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        plural: 'configmaps',
        namespace: ns.name,
      }),
      logger,
    });
    informer.addIndex('tier', (cm) => (cm.metadata?.labels?.tier ? [cm.metadata.labels.tier] : []));
    const changes: Array<[string, ConfigMap | undefined]> = [];
    informer.onChange((key, cm) => changes.push([key, cm]));
    cleanups.push(() => informer.stop());
    informer.start();
    await informer.waitForSync();

    // Listed objects carry apiVersion and kind like watched ones do, and the server's JSON as is.
    expect(informer.get(`${ns.name}/before`)).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      data: { v: '0' },
      metadata: { creationTimestamp: expect.any(String) },
    });

    await core!.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'app', labels: { tier: 'web' } }, data: { v: '1' } },
    });
    await eventually('app in the cache', async () => informer.get(`${ns.name}/app`));
    expect(
      informer
        .byIndex('tier', 'web')
        .map((cm) => cm.metadata?.name)
        .sort(),
    ).toEqual(['app', 'before']);

    await core!.replaceNamespacedConfigMap({
      name: 'app',
      namespace: ns.name,
      body: { metadata: { name: 'app', labels: { tier: 'db' } }, data: { v: '2' } },
    });
    await eventually('app updated in the cache', async () =>
      informer.get(`${ns.name}/app`)?.data?.v === '2' ? true : undefined,
    );
    expect(informer.byIndex('tier', 'db').map((cm) => cm.metadata?.name)).toEqual(['app']);
    expect(informer.byIndex('tier', 'web').map((cm) => cm.metadata?.name)).toEqual(['before']);

    await core!.deleteNamespacedConfigMap({ name: 'app', namespace: ns.name });
    await eventually('app gone from the cache', async () =>
      informer.get(`${ns.name}/app`) === undefined ? true : undefined,
    );
    expect(changes).toContainEqual([`${ns.name}/app`, undefined]);
    expect(informer.byIndex('tier', 'db')).toEqual([]);
  });

  // What the real server does with `watch?resourceVersion=1`: for ConfigMaps on a fresh cluster the
  // watch cache still holds every event since the API server started, so it replays history instead
  // of failing. A custom resource's watch cache starts when its CRD is established, so for it
  // resourceVersion 1 is always too old: HTTP 200 and then an ERROR event
  // `{code: 410, message: "too old resource version: 1 (…)"}`. Issuers (cert-manager's CRD, installed
  // with the control plane) give that answer on every cluster.
  it('relists when the watch starts from a too-old resourceVersion and converges', async () => {
    const ns = await createTestNamespace(kc!, 'informer-gone');
    cleanups.push(ns.remove);
    const issuers = kc!.makeApiClient(CustomObjectsApi);
    const ref = { group: 'cert-manager.io', version: 'v1', namespace: ns.name, plural: 'issuers' };
    const issuer = (name: string) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name },
      spec: { selfSigned: {} },
    });
    await issuers.createNamespacedCustomObject({ ...ref, body: issuer('kept') });
    await issuers.createNamespacedCustomObject({ ...ref, body: issuer('vanishes') });

    // The real list-watch, except that its first watch asks for resourceVersion 1. Between the first
    // list and that watch one issuer appears and another goes: only a relist can see both.
    const real = kubeListWatch(kc!, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      plural: 'issuers',
      namespace: ns.name,
    });
    let lists = 0;
    let watches = 0;
    const watchErrors: unknown[] = [];
    const listWatch: ListWatch = {
      list: () => {
        lists++;
        return real.list();
      },
      watch: async (resourceVersion, onEvent, onDone) => {
        const first = watches++ === 0;
        if (first) {
          await issuers.createNamespacedCustomObject({ ...ref, body: issuer('appears') });
          await issuers.deleteNamespacedCustomObject({ ...ref, name: 'vanishes' });
        }
        return real.watch(first ? '1' : resourceVersion, onEvent, (err) => {
          if (err) watchErrors.push(err);
          onDone(err);
        });
      },
    };

    const informer = new Informer({ listWatch, logger });
    const changes: Array<[string, KubeObject | undefined]> = [];
    informer.onChange((key, obj) => changes.push([key, obj]));
    cleanups.push(() => informer.stop());
    informer.start();
    await informer.waitForSync();
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['kept', 'vanishes']);

    await eventually('the cache to converge after the relist', async () => {
      const names = informer
        .list()
        .map((o) => o.metadata?.name)
        .sort();
      return names.join() === 'appears,kept' ? names : undefined;
    });
    expect(watchErrors).toHaveLength(1);
    expect(isGone(watchErrors[0])).toBe(true);
    expect(String(watchErrors[0])).toMatch(/too old resource version/);
    expect(lists).toBe(2);
    expect(changes).toContainEqual([`${ns.name}/vanishes`, undefined]);

    // And after the relist it is watching again: a new issuer arrives as an event, not a list.
    await issuers.createNamespacedCustomObject({ ...ref, body: issuer('later') });
    await eventually('later in the cache', async () => informer.get(`${ns.name}/later`));
    expect(lists).toBe(2);
  });
});
