import type { KubeConfig } from '@kubernetes/client-node';
import { resourcePath, resourceType } from './resources.ts';
import { KubeApiError, KubeTransport, type Impersonation, type RequestOpts } from './transport.ts';

import type { KubeObject, ObjectRef } from '../schemas/kube-object.ts';

export type { KubeObject, ObjectRef };
export { KubeApiError, KubeTransport, type Impersonation };

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.code === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409;

/** Counts the client's writes by verb, so a benchmark or a test can tell that a resync wrote nothing. */
export interface WriteCounter {
  inc(labels: { verb: string; kind: string }): void;
}

/**
 * A small REST client for the Kubernetes API. Every write is server-side apply under one field
 * manager (`apply`, `applyStatus`), so kubeOP owns exactly the fields it sets and a hand edit of
 * another field is left alone. Credentials come from the KubeConfig (certificates or token).
 */
export class KubeClient {
  readonly fieldManager: string;
  readonly #transport: KubeTransport;
  readonly #writes: WriteCounter | undefined;

  /** On the process's transport when given one (the composition root's), else on a new one of `kc`. */
  constructor(kc: KubeConfig | KubeTransport, opts: { fieldManager: string; writes?: WriteCounter }) {
    this.#transport = kc instanceof KubeTransport ? kc : new KubeTransport(kc);
    this.fieldManager = opts.fieldManager;
    this.#writes = opts.writes;
  }

  request<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    return this.#transport.request<T>(method, path, opts);
  }

  #path(ref: ObjectRef, name = true): string {
    return resourcePath(resourceType(ref.apiVersion, ref.kind), ref.namespace, name ? ref.name : undefined);
  }

  get<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts: { impersonate?: Impersonation } = {},
  ): Promise<T> {
    return this.request<T>('GET', this.#path(ref), opts);
  }

  /** GET, or undefined when the object does not exist. */
  async find<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: { namespace?: string; labelSelector?: string } = {},
  ): Promise<T[]> {
    const path = resourcePath(resourceType(apiVersion, kind), opts.namespace);
    const query = opts.labelSelector ? `?labelSelector=${encodeURIComponent(opts.labelSelector)}` : '';
    const list = await this.request<{ items: T[] }>('GET', path + query);
    return list.items.map((item) => ({ ...item, apiVersion, kind }));
  }

  /** Server-side apply of `obj` (its fields are the ones kubeOP owns); `force` takes over conflicts. */
  apply<T extends KubeObject>(
    obj: T,
    opts: { impersonate?: Impersonation; force?: boolean } = {},
  ): Promise<T> {
    return this.#apply(obj, '', opts);
  }

  /** Server-side apply through the status subresource. */
  applyStatus<T extends KubeObject>(obj: T): Promise<T> {
    return this.#apply(obj, '/status', {});
  }

  #apply<T extends KubeObject>(
    obj: T,
    sub: string,
    opts: { impersonate?: Impersonation; force?: boolean },
  ): Promise<T> {
    this.#writes?.inc({ verb: 'apply', kind: obj.kind });
    const query = `?fieldManager=${encodeURIComponent(this.fieldManager)}&force=${opts.force ?? true}`;
    return this.request<T>('PATCH', this.#path({ ...obj, ...obj.metadata }) + sub + query, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      ...(opts.impersonate ? { impersonate: opts.impersonate } : {}),
    });
  }

  /** JSON merge patch, for the few writes that must not take field ownership (finalizer removal). */
  mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown): Promise<T> {
    this.#writes?.inc({ verb: 'patch', kind: ref.kind });
    return this.request<T>('PATCH', this.#path(ref), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /** DELETE; an object already gone counts as deleted. Resolves to false when it was not there. */
  async delete(
    ref: ObjectRef,
    opts: { propagationPolicy?: 'Foreground' | 'Background'; impersonate?: Impersonation } = {},
  ): Promise<boolean> {
    this.#writes?.inc({ verb: 'delete', kind: ref.kind });
    try {
      await this.request('DELETE', this.#path(ref), {
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: opts.propagationPolicy ?? 'Background',
        },
        ...(opts.impersonate ? { impersonate: opts.impersonate } : {}),
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
