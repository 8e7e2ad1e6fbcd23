import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SourceError, type Source } from '../../../delivery/source.ts';
import { LABEL_PROJECT } from '../../../domain/naming.ts';
import type { KubeClient } from '../../../kube/client.ts';
import { createLogger } from '../../../platform/logging.ts';
import type { App } from '../../../schemas/crds/types.ts';
import { keyOf, type KubeObject } from '../../../schemas/kube-object.ts';
import type { Store } from '../store.ts';
import { appReconciler, type DeliverySources } from './controller.ts';

// The reconciler's decisions with the API server replaced by a recorder: which writes it makes and
// when it asks its source. What the API server then does with them is the e2e suite's part
// (test/e2e/app-delivery.test.ts).

const NS = 'acme-web-1234abcd';

function store<T extends KubeObject>(objects: T[] = []): Store<T> & { map: Map<string, T> } {
  const map = new Map(objects.map((o) => [keyOf(o.metadata), o]));
  return { map, get: (k) => map.get(k), list: () => [...map.values()], byIndex: () => [] };
}

function harness(sources: DeliverySources, app: App, opts: { namespaceDeleting?: boolean } = {}) {
  const writes: Array<{ verb: string; obj: KubeObject }> = [];
  const client = {
    fieldManager: 'test',
    request: (method: string, path: string, opts: { body?: KubeObject }) => {
      writes.push({ verb: path.includes('dryRun=All') ? 'dry-run' : method, obj: opts.body! });
      return Promise.resolve(opts.body);
    },
    apply: (obj: KubeObject) => {
      writes.push({ verb: 'apply', obj });
      return Promise.resolve(obj);
    },
    applyStatus: (obj: KubeObject) => {
      writes.push({ verb: 'status', obj });
      return Promise.resolve(obj);
    },
    delete: () => Promise.resolve(true),
  } as unknown as KubeClient;
  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: NS,
      labels: { [LABEL_PROJECT]: 'web' },
      ...(opts.namespaceDeleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
  };
  const configMaps = store();
  const drift = new Counter({
    name: 'drift',
    help: 'h',
    labelNames: ['controller', 'kind'],
    registers: [new Registry()],
  });
  const reconciler = appReconciler({
    client,
    apps: store([app]),
    namespaces: store([namespace]),
    delivered: new Map([['v1/ConfigMap', configMaps]]),
    revisions: store(),
    sources,
    drift,
    events: { record: () => {} },
    resyncMs: 60_000,
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  const status = () => writes.filter((w) => w.verb === 'status').at(-1)?.obj.status as App['status'];
  return { reconciler, writes, status, configMaps, drift };
}

const app = (source: App['spec']['source']): App => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'App',
  metadata: { name: 'shop', namespace: NS, uid: 'u1', generation: 1 },
  spec: { source },
});

describe('App reconciler', () => {
  it("hands the reconcile's signal to the source, and reports nothing when it is cancelled", async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const source: Source = {
      render: (ctx) => {
        seen.push(ctx.signal);
        return Promise.reject(new SourceError('SourceUnreachable', 'fetching x was cancelled'));
      },
    };
    const h = harness({ git: source }, app({ git: { url: 'https://git.example/x.git' } }));
    const abort = new AbortController();
    abort.abort(new Error('controller stopped'));
    await expect(h.reconciler.reconcile(`${NS}/shop`, { signal: abort.signal })).rejects.toThrow(
      'controller stopped',
    );
    expect(seen).toEqual([abort.signal]);
    expect(h.writes).toEqual([]);
  });

  it('reports a source type the operator does not run, without writing any object', async () => {
    const h = harness({}, app({ git: { url: 'https://git.example/x.git' } }));
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(h.writes.map((w) => w.verb)).toEqual(['status']);
    expect(h.status()?.phase).toBe('Failed');
    expect(h.status()?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'RenderFailed',
      message: 'source type git is not enabled on this operator',
    });
  });

  it('dry-runs every object before applying any, then stores the revision and applies', async () => {
    const source: Source = {
      render: () =>
        Promise.resolve({
          sourceRevision: 'r1',
          objects: [
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
          ],
        }),
    };
    const h = harness({ git: source }, app({ git: { url: 'https://git.example/x.git' } }));
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(h.writes.map((w) => `${w.verb} ${w.obj.kind}/${w.obj.metadata?.name ?? ''}`)).toEqual([
      'dry-run ConfigMap/a',
      'dry-run ConfigMap/b',
      'apply Secret/kubeop-rev-shop-1',
      'apply ConfigMap/a',
      'apply ConfigMap/b',
      'status App/shop',
    ]);
    // Not in the cache yet: Ready waits for the watch to bring the objects.
    expect(h.status()).toMatchObject({ revision: 1, sourceRevision: 'r1', phase: 'Progressing' });
  });

  it('applies config first, then Services, then workloads, then what routes to them', async () => {
    const source: Source = {
      render: () =>
        Promise.resolve({
          sourceRevision: 'r1',
          objects: [
            { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' } },
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } },
            { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' } },
          ],
        }),
    };
    const h = harness({ git: source }, app({ git: { url: 'https://git.example/x.git' } }));
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(
      h.writes.filter((w) => w.verb === 'apply' && w.obj.kind !== 'Secret').map((w) => w.obj.kind),
    ).toEqual(['ConfigMap', 'Service', 'Deployment', 'Ingress']);
  });

  it('asks the source again only when the rendering is stale or invalidated', async () => {
    let renders = 0;
    const source: Source = {
      render: () => {
        renders++;
        return Promise.resolve({ sourceRevision: 'r1', objects: [] });
      },
    };
    const h = harness({ raw: source }, app({ raw: { manifests: [] } }));
    await h.reconciler.reconcile(`${NS}/shop`);
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(renders).toBe(1);
    h.reconciler.invalidate(`${NS}/shop`);
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(renders).toBe(2);
  });

  it('retries a retryable source failure by throwing, after reporting it', async () => {
    const source: Source = {
      render: () => Promise.reject(new SourceError('SourceUnreachable', 'no answer', { retryable: true })),
    };
    const h = harness({ git: source }, app({ git: { url: 'https://git.example/x.git' } }));
    await expect(h.reconciler.reconcile(`${NS}/shop`)).rejects.toThrow('no answer');
    expect(h.status()?.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('SourceUnreachable');
  });

  it('sets back a hand edit found by a resync, without any event, and counts it once', async () => {
    const source: Source = {
      render: () =>
        Promise.resolve({
          sourceRevision: 'r1',
          objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }],
        }),
    };
    const h = harness({ raw: source }, app({ raw: { manifests: [] } }));
    await h.reconciler.reconcile(`${NS}/shop`);
    const applied = h.writes.find((w) => w.verb === 'apply' && w.obj.kind === 'ConfigMap')!.obj;
    h.configMaps.map.set(`${NS}/a`, { ...applied, data: { k: 'edited by hand' } });
    h.writes.length = 0;

    await h.reconciler.reconcile(`${NS}/shop`);
    expect(h.writes.map((w) => `${w.verb} ${w.obj.kind}`)).toEqual(['apply ConfigMap', 'status App']);
    expect((await h.drift.get()).values).toEqual([
      expect.objectContaining({ labels: { controller: 'app', kind: 'ConfigMap' }, value: 1 }),
    ]);
    expect(h.status()?.driftCorrections).toBe(1);
    expect(h.status()?.revision).toBe(1);

    h.configMaps.map.set(`${NS}/a`, applied);
    h.writes.length = 0;
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(h.writes).toEqual([]);
  });

  it('leaves an App in a namespace being deleted alone', async () => {
    const source: Source = { render: () => Promise.resolve({ sourceRevision: 'r1', objects: [] }) };
    const h = harness({ raw: source }, app({ raw: { manifests: [] } }), { namespaceDeleting: true });
    await h.reconciler.reconcile(`${NS}/shop`);
    expect(h.writes).toEqual([]);
  });
});
