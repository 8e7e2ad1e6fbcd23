import { describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logging.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { SharedInformers } from './cache.ts';
import { Informer, type InformerRef, type ListWatch } from './informer.ts';

/** A cache whose informers list one fixed object each and record every watch they open. */
function fakeCache() {
  const watches: InformerRef[] = [];
  const stopped: InformerRef[] = [];
  const cache = new SharedInformers((ref) => {
    const listWatch: ListWatch = {
      list: async () => ({
        items: [
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: 'a', resourceVersion: '1' } },
        ],
        resourceVersion: '1',
      }),
      watch: async () => {
        watches.push(ref);
        return { abort: () => stopped.push(ref) };
      },
    };
    return new Informer({
      listWatch,
      logger: createLogger({ service: 'test', level: 'silent' }),
      resyncPeriodMs: 0,
    });
  });
  return { cache, watches, stopped };
}

const ns = { apiVersion: 'v1', kind: 'Namespace', labelSelector: 'app.kubernetes.io/managed-by=kubeop' };

describe('SharedInformers', () => {
  it('hands every consumer of the same kind and selector one informer, watching once', async () => {
    const { cache, watches } = fakeCache();
    const operator = cache.informer(ns);
    const admission = cache.informer({ ...ns });
    const metering = cache.informer({ ...ns, namespace: undefined });
    expect(admission).toBe(operator);
    expect(metering).toBe(operator);
    await operator.waitForSync();
    await new Promise((r) => setTimeout(r, 10));
    expect(watches).toHaveLength(1);
    expect(cache.stats()).toEqual([{ ref: ns, objects: 1 }]);
    cache.stop();
  });

  it('keeps a separate watch for another selector or namespace', () => {
    const { cache } = fakeCache();
    const all = cache.informer({ apiVersion: 'v1', kind: 'Service' });
    const labelled = cache.informer({ apiVersion: 'v1', kind: 'Service', labelSelector: 'app' });
    const inOne = cache.informer({ apiVersion: 'v1', kind: 'Service', namespace: 'a' });
    expect(new Set([all, labelled, inOne]).size).toBe(3);
    expect(cache.stats()).toHaveLength(3);
    cache.stop();
  });

  it('lets each consumer index and subscribe on the shared informer, apart from the others', async () => {
    const { cache } = fakeCache();
    const a = cache.informer<KubeObject>(ns);
    const seen: string[] = [];
    const unsubscribe = a.onChange((key) => seen.push(key));
    await a.waitForSync();
    cache.informer(ns).addIndex('name', (o) => [o.metadata.name]);
    expect(a.byIndex('name', 'a')).toHaveLength(1);
    unsubscribe();
    expect(seen).toEqual(['a']);
    cache.stop();
  });

  it('stops every informer once, and refuses new ones afterwards', async () => {
    const { cache, stopped } = fakeCache();
    await cache.informer(ns).waitForSync();
    await new Promise((r) => setTimeout(r, 10));
    cache.stop();
    expect(stopped).toEqual([ns]);
    expect(() => cache.informer(ns)).toThrow(/stopped/);
  });
});
