import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../platform/logging.ts';
import { KubeApiError, KubeTransport } from './transport.ts';
import { keyOf, type KubeObject } from '../schemas/kube-object.ts';
import { resourcePath, resourceType, type ResourceType } from './resources.ts';
import type { Store } from './store.ts';

// An informer keeps an in-memory copy of one resource type, shaped like client-go's reflector and
// indexer: list, replace the store, watch from the list's resourceVersion, and start over when the
// server says that resourceVersion is gone. Controllers read from it and enqueue the keys it emits.

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/**
 * The two calls an informer needs from the API server.
 *
 * Contract for `watch`: `onEvent` is called in server order; `onDone` is called at most once, with no
 * argument when the server closed the watch normally and with an error otherwise. A 410 Gone — an
 * HTTP 410 or an ERROR event with code 410 — is reported as an error that `isGone` recognises. After
 * `abort()` neither callback is called again.
 */
export interface ListWatch<T extends KubeObject = KubeObject> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => void,
    onDone: (err?: unknown) => void,
  ): Promise<{ abort(): void }>;
}

/** True for the API server's "that resourceVersion is too old" answer, in either form. */
export function isGone(err: unknown): boolean {
  const e = err as { code?: unknown; statusCode?: unknown } | null | undefined;
  return e?.code === 410 || e?.statusCode === 410;
}

/**
 * Called with the key and the object as it now is, or `undefined` when it was deleted; then
 * `deleted` is its last version this informer stored (what names its owners).
 */
export type ChangeHandler<T> = (key: string, obj: T | undefined, deleted?: T) => void;

/**
 * What a consumer of an informer may do: read, index, subscribe and wait for the first sync. Not
 * start or stop it: one informer serves every consumer in the process (SharedInformers, cache.ts)
 * and only its owner ends it. A consumer unsubscribes its handlers when it stops.
 */
export interface SharedInformer<T extends KubeObject = KubeObject> extends Store<T> {
  addIndex(name: string, fn: (obj: T) => string[]): void;
  onChange(handler: ChangeHandler<T>): () => void;
  hasSynced(): boolean;
  waitForSync(): Promise<void>;
}

export interface InformerOptions<T extends KubeObject> {
  listWatch: ListWatch<T>;
  logger: Logger;
  /** Re-emit every key this often without relisting; 0 turns it off. Default 10 minutes. */
  resyncPeriodMs?: number;
  /** Delay before retrying after an error, doubling up to `maxMs`. Default 200 ms to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
}

// client-go's reflector treats a watch that closes within a second without delivering anything as
// an error, so a server that keeps closing watches at once cannot make us spin.
const SHORT_WATCH_MS = 1000;

/**
 * Guarantees:
 * - After a (re)list the store holds exactly the listed objects; every object that vanished was
 *   emitted with `undefined`, every new or changed one (by resourceVersion) with its object.
 * - Watch events are applied in the order the server sent them and each one is emitted. The store
 *   and indexes are updated before handlers run, so a handler (or a reconcile) reads the new state.
 * - A watch that ends normally is started again from the last resourceVersion seen (events and
 *   bookmarks), without a list.
 * - Errors never stop the informer. 410 Gone relists at once (a second 410 with no event in between
 *   waits the backoff first). Anything else, from list or watch, retries after the backoff: a failed
 *   list lists again, a failed watch watches again from the last resourceVersion, without a list.
 *   A successful list or any watch event resets the backoff.
 * - Every `resyncPeriodMs` every key is emitted again with its cached object, without a list.
 * - After `stop()` the watch is aborted, timers are cleared and no handler is called again; an
 *   informer is started at most once and cannot be restarted.
 * Handlers run synchronously inside the informer: they should enqueue the key and return; a handler
 * that throws is logged and does not affect the others.
 */
export class Informer<T extends KubeObject = KubeObject> implements SharedInformer<T> {
  readonly #listWatch: ListWatch<T>;
  readonly #log: Logger;
  readonly #resyncPeriodMs: number;
  readonly #backoff: { initialMs: number; maxMs: number };

  readonly #store = new Map<string, T>();
  readonly #indexers = new Map<string, (obj: T) => string[]>();
  // index name → index value → keys
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  readonly #handlers: ChangeHandler<T>[] = [];

  #resourceVersion = '';
  #started = false;
  #synced = false;
  readonly #stopper = new AbortController();
  #resyncTimer: NodeJS.Timeout | undefined;
  readonly #sync: PromiseWithResolvers<void>;

  constructor(opts: InformerOptions<T>) {
    this.#listWatch = opts.listWatch;
    this.#log = opts.logger;
    this.#resyncPeriodMs = opts.resyncPeriodMs ?? 10 * 60_000;
    this.#backoff = opts.backoff ?? { initialMs: 200, maxMs: 30_000 };
    this.#sync = Promise.withResolvers<void>();
    // The rejection on stop() must not count as unhandled when nobody waits for the sync.
    this.#sync.promise.catch(() => {});
  }

  /**
   * Registers an index, before or after `start()`: an index added later is built at once from the
   * objects already stored (handlers run synchronously, so no update slips between). A shared
   * informer serves several consumers: registering a name again with the same function is a no-op
   * (two controllers reading one index), with another function it throws, as two consumers meaning
   * different things by one name would read each other's index. `fn` must be pure and must not
   * throw: it runs on every stored version of every object.
   */
  addIndex(name: string, fn: (obj: T) => string[]): void {
    const existing = this.#indexers.get(name);
    if (existing === fn) return;
    if (existing) throw new Error(`index ${name} is already registered`);
    this.#indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.#indices.set(name, index);
    for (const [key, obj] of this.#store) addToIndex(index, fn(obj), key);
  }

  /** Subscribes to every add, update, delete (`obj` undefined) and resync; returns an unsubscribe. */
  onChange(handler: ChangeHandler<T>): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  start(): void {
    if (this.#started || this.#stopper.signal.aborted) throw new Error('informer already started or stopped');
    this.#started = true;
    void this.#run();
    if (this.#resyncPeriodMs > 0) {
      this.#resyncTimer = setInterval(() => this.#resync(), this.#resyncPeriodMs);
      this.#resyncTimer.unref();
    }
  }

  stop(): void {
    if (this.#stopper.signal.aborted) return;
    this.#stopper.abort();
    clearInterval(this.#resyncTimer);
    this.#sync.reject(new Error('informer stopped before its first sync'));
  }

  /** True once the first list has been applied to the store. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first list has been applied; rejects if `stop()` comes first. */
  waitForSync(): Promise<void> {
    return this.#sync.promise;
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`no index named ${indexName}`);
    return [...(index.get(value) ?? [])].map((key) => this.#store.get(key)!);
  }

  /** The supervisor: list and watch until stopped, whatever fails. */
  async #run(): Promise<void> {
    const stopped = this.#stopper.signal;
    let needList = true;
    let delay = this.#backoff.initialMs;
    // A 410 right after another one, with no event in between, waits like any error: a server that
    // keeps answering 410 must not make us relist in a tight loop.
    let goneInARow = 0;
    while (!stopped.aborted) {
      try {
        if (needList) {
          const { items, resourceVersion } = await this.#listWatch.list();
          if (stopped.aborted) return;
          this.#replace(items, resourceVersion);
          needList = false;
          delay = this.#backoff.initialMs;
        }
        const outcome = await this.#watch();
        if (stopped.aborted) return;
        if (outcome.eventSeen) {
          delay = this.#backoff.initialMs;
          goneInARow = 0;
        }
        if (outcome.err !== undefined) throw outcome.err;
        if (!outcome.eventSeen && outcome.durationMs < SHORT_WATCH_MS) {
          throw new Error('watch closed within a second without any event');
        }
        this.#log.debug({ resourceVersion: this.#resourceVersion }, 'watch closed; watching again');
      } catch (err) {
        if (stopped.aborted) return;
        if (isGone(err)) {
          needList = true;
          if (goneInARow++ === 0) {
            this.#log.info(
              { err, resourceVersion: this.#resourceVersion },
              'resourceVersion gone; relisting',
            );
            continue;
          }
        }
        this.#log.warn({ err, retryInMs: delay, relist: needList }, 'list/watch failed; retrying');
        await sleep(delay, stopped);
        delay = Math.min(delay * 2, this.#backoff.maxMs);
      }
    }
  }

  /** One watch from the last resourceVersion; resolves when it ends, or at once on stop(). */
  #watch(): Promise<{ err?: unknown; eventSeen: boolean; durationMs: number }> {
    const stopped = this.#stopper.signal;
    const startedAt = Date.now();
    return new Promise((resolve) => {
      let ended = false;
      let eventSeen = false;
      let handle: { abort(): void } | undefined;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        stopped.removeEventListener('abort', onStop);
        handle?.abort();
        resolve({ err, eventSeen, durationMs: Date.now() - startedAt });
      };
      const onStop = () => end();
      stopped.addEventListener('abort', onStop);
      const onEvent = (type: WatchEventType, obj: T) => {
        // Events that arrive after the watch ended (or stop()) must not touch the store.
        if (ended) return;
        eventSeen = true;
        this.#apply(type, obj);
      };
      let started: Promise<{ abort(): void }>;
      try {
        started = this.#listWatch.watch(this.#resourceVersion, onEvent, end);
      } catch (err) {
        end(err);
        return;
      }
      started.then((h) => {
        if (ended) h.abort();
        else handle = h;
      }, end);
    });
  }

  #apply(type: WatchEventType, obj: T): void {
    const rv = obj.metadata.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = keyOf(obj.metadata);
    if (type === 'DELETED') this.#delete(key);
    else this.#put(key, obj);
  }

  /** Makes the store equal to a fresh list and emits the differences. */
  #replace(items: T[], resourceVersion: string): void {
    const listed = new Map(items.map((obj) => [keyOf(obj.metadata), obj]));
    for (const key of [...this.#store.keys()]) {
      if (!listed.has(key)) this.#delete(key);
    }
    for (const [key, obj] of listed) {
      const old = this.#store.get(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.#put(key, obj);
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#sync.resolve();
    }
  }

  #put(key: string, obj: T): void {
    this.#unindex(key);
    this.#store.set(key, obj);
    for (const [name, fn] of this.#indexers) addToIndex(this.#indices.get(name)!, fn(obj), key);
    this.#emit(key, obj);
  }

  #delete(key: string): void {
    const old = this.#store.get(key);
    if (!old) return;
    this.#unindex(key);
    this.#store.delete(key);
    this.#emit(key, undefined, old);
  }

  #unindex(key: string): void {
    const old = this.#store.get(key);
    if (!old) return;
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      for (const value of fn(old)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }

  #resync(): void {
    if (!this.#synced || this.#stopper.signal.aborted) return;
    for (const [key, obj] of this.#store) this.#emit(key, obj);
  }

  #emit(key: string, obj: T | undefined, deleted?: T): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler(key, obj, deleted);
      } catch (err) {
        this.#log.error({ err, key }, 'informer change handler threw');
      }
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (!keys) index.set(value, (keys = new Set()));
    keys.add(key);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

// ---------------------------------------------------------------------------------------------
// The real ListWatch, on @kubernetes/client-node.

export interface ResourceRef extends Omit<ResourceType, 'namespaced'> {
  /** Only this namespace; all namespaces (or a cluster-scoped resource) when absent. */
  namespace?: string;
  labelSelector?: string;
}

const LIST_PAGE_SIZE = 500;
const LIST_TIMEOUT_MS = 60_000;
// The server ends each watch after 5 to 10 minutes (client-go's spread), so watches of many
// informers do not all restart at once; the informer then watches again from its resourceVersion.
const watchTimeoutSeconds = () => 300 + Math.floor(Math.random() * 300);

/**
 * Lists and watches one resource through the API server, on `transport` (the process's, or a new
 * one of a KubeConfig). Both return the server's JSON as is — list items get the `apiVersion` and
 * `kind` the list omits — so listed and watched objects have the same shape. `T` is the caller's
 * claim about that JSON. Errors are KubeApiErrors; a 410, as an HTTP answer or an ERROR event,
 * keeps its code for `isGone`.
 */
export function kubeListWatch<T extends KubeObject = KubeObject>(
  source: KubeConfig | KubeTransport,
  ref: ResourceRef,
): ListWatch<T> {
  const transport = source instanceof KubeTransport ? source : new KubeTransport(source);
  const path = resourcePath({ ...ref, namespaced: ref.namespace !== undefined }, ref.namespace);
  const query = (params: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...params, labelSelector: ref.labelSelector })) if (v) q.set(k, v);
    return `${path}?${q.toString()}`;
  };

  return {
    async list() {
      // Pages share the first page's snapshot; an expired continue token is a 410 and relists.
      const items: T[] = [];
      let resourceVersion = '';
      let continueToken: string | undefined;
      do {
        const page = await transport.request<{
          items?: T[];
          metadata?: { resourceVersion?: string; continue?: string };
        }>('GET', query({ limit: String(LIST_PAGE_SIZE), continue: continueToken }), {
          timeoutMs: LIST_TIMEOUT_MS,
        });
        for (const item of page.items ?? [])
          items.push({ ...item, apiVersion: ref.apiVersion, kind: ref.kind });
        resourceVersion = page.metadata?.resourceVersion ?? '';
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken);
      return { items, resourceVersion };
    },

    async watch(resourceVersion, onEvent, onDone) {
      let ended = false;
      const stream = transport.watch(
        query({
          watch: 'true',
          resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(watchTimeoutSeconds()),
        }),
        ({ type, object }) => {
          if (ended) return;
          if (type === 'ERROR') {
            // A metav1.Status (410 when resourceVersion is too old); the server closes the stream.
            const status = object as { code?: number; reason?: string; message?: string };
            const code = status.code ?? 500;
            ended = true;
            stream.abort();
            onDone(
              new KubeApiError(code, status.reason ?? 'Unknown', `watch ${path}: ${code} ${status.message}`),
            );
          } else {
            onEvent(type as WatchEventType, object as T);
          }
        },
        (err) => {
          if (ended) return;
          ended = true;
          onDone(err);
        },
      );
      return {
        abort() {
          ended = true;
          stream.abort();
        },
      };
    },
  };
}

/** Which objects one informer holds: a kind kubeOP knows, optionally narrowed. */
export interface InformerRef {
  apiVersion: string;
  kind: string;
  labelSelector?: string | undefined;
  namespace?: string | undefined;
}

/**
 * An informer for one of the kinds kubeOP knows (src/kube/resources.ts), optionally narrowed by a
 * label selector or a namespace. Processes get theirs through SharedInformers (cache.ts), which
 * builds each one once.
 */
export function informerFor(
  kc: KubeConfig | KubeTransport,
  ref: InformerRef,
  opts: { logger: Logger; resyncPeriodMs?: number },
): Informer {
  const r = resourceType(ref.apiVersion, ref.kind);
  return new Informer({
    listWatch: kubeListWatch(kc, {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      plural: r.plural,
      ...(ref.labelSelector ? { labelSelector: ref.labelSelector } : {}),
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
    }),
    logger: opts.logger.child({ informer: `${ref.apiVersion}/${ref.kind}` }),
    ...(opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: opts.resyncPeriodMs } : {}),
  });
}
