import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../platform/logging.ts';
import { KubeTransport } from './transport.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import type { Informer } from './informer.ts';
import { informerFor, type InformerRef, type SharedInformer } from './informer.ts';

export type { SharedInformer } from './informer.ts';

/** Builds the informer for a ref; the real one lists and watches the API server. */
export type InformerFactory = (ref: InformerRef) => Informer;

/** The identity of an informer: same apiVersion, kind, namespace and label selector, same watch. */
export function informerKey(ref: InformerRef): string {
  return `${ref.apiVersion}/${ref.kind}|ns=${ref.namespace ?? ''}|${ref.labelSelector ?? ''}`;
}

/**
 * The one informer cache of a process (client-go's SharedInformerFactory, controller-runtime's
 * cache). The composition root creates it once and hands it to the operator, admission and metering;
 * asking twice for the same (apiVersion, kind, namespace, labelSelector) returns the same informer,
 * so `kubeop all` opens one watch where each component used to open its own.
 *
 * Contracts:
 * - An informer starts when first asked for and runs until `stop()`; consumers never stop it (they
 *   get a SharedInformer, which cannot), they unsubscribe their handlers instead. That is also why a
 *   standby operator's caches stay warm across leadership terms.
 * - Sharing is by exact selector. Refs that differ get separate watches even when one selects a
 *   superset of the other (metering's every Service and the App controller's labelled ones): serving
 *   the narrow one from the broad one would need a filtered view that turns "label removed" into a
 *   delete, and would make the broad informer's lifetime and memory the narrow consumer's business.
 *   The components already agree on their selectors where they watch the same objects (Namespaces,
 *   Tenants, Projects, Apps), which is where the duplicate watches were.
 * - One resync period for every informer: handlers that do not want resyncs simply have none.
 * - After `stop()` asking for an informer throws.
 */
export class SharedInformers {
  readonly #factory: InformerFactory;
  readonly #informers = new Map<string, { ref: InformerRef; informer: Informer }>();
  #stopped = false;

  constructor(factory: InformerFactory) {
    this.#factory = factory;
  }

  /**
   * Informers that list and watch the cluster, all on one transport: the process's when given, else
   * one made for this cache from `kc`.
   */
  static forCluster(
    kc: KubeConfig | KubeTransport,
    opts: { logger: Logger; resyncPeriodMs?: number },
  ): SharedInformers {
    const transport = kc instanceof KubeTransport ? kc : new KubeTransport(kc);
    return new SharedInformers((ref) => informerFor(transport, ref, opts));
  }

  /**
   * The informer for `ref`, started. `T` is the caller's claim about the objects of that kind (the
   * API server's JSON, checked by the CRD schema or the built-in API): the one place it is made.
   */
  informer<T extends KubeObject = KubeObject>(ref: InformerRef): SharedInformer<T> {
    if (this.#stopped) throw new Error('the informer cache is stopped');
    const key = informerKey(ref);
    let entry = this.#informers.get(key);
    if (!entry) {
      entry = { ref, informer: this.#factory(ref) };
      this.#informers.set(key, entry);
      entry.informer.start();
    }
    const shared: SharedInformer = entry.informer;
    return shared as SharedInformer<T>;
  }

  /** What the process watches: one entry per informer (one list-watch each), with its object count. */
  stats(): Array<{ ref: InformerRef; objects: number }> {
    return [...this.#informers.values()].map((e) => ({ ref: e.ref, objects: e.informer.list().length }));
  }

  synced(): boolean {
    return [...this.#informers.values()].every((e) => e.informer.hasSynced());
  }

  /** Stops every informer; for the composition root's shutdown, after everything that reads them. */
  stop(): void {
    this.#stopped = true;
    for (const { informer } of this.#informers.values()) informer.stop();
  }
}
