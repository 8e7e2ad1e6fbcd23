import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { resourcePath, resourceType } from './resources.ts';

import type { KubeObject, ObjectRef } from '../schemas/kube-object.ts';

export type { KubeObject, ObjectRef };

/** An error answer from the API server, with its HTTP code and Status reason. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.code === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409;

export interface Impersonation {
  user: string;
  groups?: string[];
}

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
  readonly #kc: KubeConfig;
  readonly #server: URL;
  #options: Promise<RequestOptions> | undefined;
  readonly #writes: WriteCounter | undefined;

  constructor(kc: KubeConfig, opts: { fieldManager: string; writes?: WriteCounter }) {
    this.#kc = kc;
    this.fieldManager = opts.fieldManager;
    this.#writes = opts.writes;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.#server = new URL(cluster.server);
  }

  #baseOptions(): Promise<RequestOptions> {
    this.#options ??= (async () => {
      const opts: RequestOptions = {};
      await this.#kc.applyToHTTPSOptions(opts);
      opts.agent = new Agent({
        keepAlive: true,
        maxSockets: 32,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        rejectUnauthorized: opts.rejectUnauthorized,
      });
      return opts;
    })();
    return this.#options;
  }

  async request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; impersonate?: Impersonation } = {},
  ): Promise<T> {
    const base = await this.#baseOptions();
    const url = new URL(path, this.#server);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string | string[]> = {
      ...(base.headers as Record<string, string>),
      accept: 'application/json, */*',
    };
    if (payload !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      // An explicit length, not chunked encoding: the API server answers a DELETE before reading a
      // chunked body, and the unread rest poisons the next request on the kept-alive connection.
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (opts.impersonate) {
      headers['impersonate-user'] = opts.impersonate.user;
      if (opts.impersonate.groups?.length) headers['impersonate-group'] = opts.impersonate.groups;
    }
    return new Promise<T>((resolve, reject) => {
      const req = request(url, { ...base, method, headers, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            // Plain-text answers (/metrics, /readyz) come back as the text itself.
            const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
            resolve((text && json ? JSON.parse(text) : text || undefined) as T);
            return;
          }
          let reason = 'Unknown';
          let message = text.slice(0, 2000);
          try {
            const s = JSON.parse(text) as { reason?: string; message?: string };
            reason = s.reason ?? reason;
            message = s.message ?? message;
          } catch {
            // not a Status object
          }
          reject(new KubeApiError(status, reason, `${method} ${url.pathname}: ${status} ${message}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
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
