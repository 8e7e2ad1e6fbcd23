import type { Rendered, Source, SourceContext } from '../../../delivery/source.ts';
import { isNotFound, type KubeClient } from '../../../kube/client.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { deployerOf } from './deployer.ts';
import { DeliveryFailure, failureOf } from './failure.ts';

/** The sources an operator runs with; an App whose source type is absent gets a Degraded condition. */
export interface DeliverySources {
  image?: Source;
  raw?: Source;
  git?: Source;
  helm?: Source;
}

export type SourceType = keyof DeliverySources;

export function sourceTypeOf(app: App): SourceType | undefined {
  const s = app.spec.source;
  return s.image ? 'image' : s.git ? 'git' : s.helm ? 'helm' : s.raw ? 'raw' : undefined;
}

const decode = (data: Record<string, string> | undefined) =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );

/**
 * What a source may read: Secrets and ConfigMaps of the App's namespace, read as the deployer; and
 * the reconcile's signal, which the source passes to its git, helm and kubectl runs and fetches.
 */
export function sourceContext(client: KubeClient, app: App, signal?: AbortSignal): SourceContext {
  const namespace = app.metadata.namespace!;
  async function read(kind: 'Secret' | 'ConfigMap', name: string) {
    try {
      return await client.get<KubeObject & { data?: Record<string, string> }>(
        { apiVersion: 'v1', kind, name, namespace },
        { impersonate: deployerOf(namespace) },
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
  return {
    app,
    namespace,
    readSecret: async (name) => {
      const s = await read('Secret', name);
      return s ? decode(s.data) : undefined;
    },
    readConfigMap: async (name) => {
      const c = await read('ConfigMap', name);
      return c ? { ...c.data } : undefined;
    },
    ...(signal ? { signal } : {}),
  };
}

interface CachedRender {
  uid: string | undefined;
  generation: number;
  at: number;
  result: Rendered | DeliveryFailure;
}

/**
 * Renders Apps through their sources, remembering each App's last rendering (or non-retryable
 * failure) for its generation. A rendering is used again until the source's `requeueAfterMs` (Git
 * polling) or `resyncMs` has passed, the spec changes, or `invalidate` is called (the Git webhook),
 * so the many reconciles caused by delivered objects changing (a Deployment's status) cost no fetch.
 * Retryable failures are not remembered: the next attempt asks the source again.
 */
export class RenderCache {
  readonly #sources: DeliverySources;
  readonly #client: KubeClient;
  readonly #resyncMs: number;
  readonly #entries = new Map<string, CachedRender>();
  readonly #forced = new Set<string>();

  constructor(opts: { sources: DeliverySources; client: KubeClient; resyncMs: number }) {
    this.#sources = opts.sources;
    this.#client = opts.client;
    this.#resyncMs = opts.resyncMs;
  }

  invalidate(key: string): void {
    this.#forced.add(key);
  }

  forget(key: string): void {
    this.#entries.delete(key);
    this.#forced.delete(key);
  }

  /**
   * The App's rendering, from the cache while it is fresh. Throws DeliveryFailure for a failure;
   * once `signal` has aborted (the reconcile was cancelled) it throws the abort reason instead, so a
   * cancelled fetch is neither remembered nor reported as the App's failure.
   */
  async render(key: string, app: App, signal?: AbortSignal): Promise<Rendered> {
    const type = sourceTypeOf(app);
    const source = type && this.#sources[type];
    if (!type || !source) {
      throw new DeliveryFailure(
        'RenderFailed',
        `source type ${type ?? '(none)'} is not enabled on this operator`,
      );
    }
    const generation = app.metadata.generation ?? 0;
    const cached = this.#entries.get(key);
    const t = Date.now();
    if (
      cached &&
      !this.#forced.has(key) &&
      cached.uid === app.metadata.uid &&
      cached.generation === generation
    ) {
      const ttl =
        cached.result instanceof DeliveryFailure
          ? this.#resyncMs
          : (cached.result.requeueAfterMs ?? this.#resyncMs);
      if (t - cached.at < ttl) {
        if (cached.result instanceof DeliveryFailure) throw cached.result;
        return cached.result;
      }
    }
    this.#forced.delete(key);
    try {
      const result = await source.render(sourceContext(this.#client, app, signal));
      this.#entries.set(key, { uid: app.metadata.uid, generation, at: t, result });
      return result;
    } catch (err) {
      signal?.throwIfAborted();
      const failure = failureOf(err);
      if (!failure) throw err;
      if (failure.retryable) this.#entries.delete(key);
      else this.#entries.set(key, { uid: app.metadata.uid, generation, at: t, result: failure });
      throw failure;
    }
  }
}
