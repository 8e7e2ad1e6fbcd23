import type { ClientRequest } from 'node:http';
import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

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

export interface Impersonation {
  user: string;
  groups?: string[];
}

export interface RequestOpts {
  body?: unknown;
  contentType?: string;
  impersonate?: Impersonation;
  /** Socket idle bound; default 30 s. */
  timeoutMs?: number;
}

export type WatchEvent = { type: string; object: unknown };

const WATCH_IDLE_MS = 90_000;

/**
 * The one connection of a process to its API server: credentials from the KubeConfig (certificates
 * or token), one keep-alive agent, one error type. The client (KubeClient), the informers' list and
 * watch and every component of `kubeop all` go through the same transport when the composition
 * root hands it to them.
 */
export class KubeTransport {
  readonly #kc: KubeConfig;
  readonly #server: URL;
  #options: Promise<RequestOptions> | undefined;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
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

  async #headers(opts: RequestOpts, payload: string | undefined) {
    const base = await this.#baseOptions();
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
    return { base, headers };
  }

  /** One request; a non-2xx answer rejects with a KubeApiError carrying the Status reason. */
  async request<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const url = new URL(path, this.#server);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const { base, headers } = await this.#headers(opts, payload);
    return new Promise<T>((resolve, reject) => {
      const req = request(url, { ...base, method, headers, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
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
          reject(apiError(method, url, status, text));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * A watch stream: `onEvent` for every event line in server order, then `onDone` once — without an
   * argument when the server (or the idle bound, 90 s without a byte) ended it, with an error
   * otherwise (an HTTP error answer as a KubeApiError, so a 410 keeps its code). After `abort()`
   * neither is called again.
   */
  watch(
    path: string,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): { abort(): void } {
    const url = new URL(path, this.#server);
    let done = false;
    let req: ClientRequest | undefined;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      req?.destroy();
      onDone(err);
    };
    this.#headers({}, undefined).then(({ base, headers }) => {
      if (done) return;
      req = request(url, { ...base, method: 'GET', headers, timeout: WATCH_IDLE_MS }, (res) => {
        const status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (status !== 200) return;
          let nl: number;
          while (!done && (nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (err) {
              finish(err);
            }
          }
        });
        res.on('end', () => finish(status === 200 ? undefined : apiError('GET', url, status, buffer)));
        res.on('error', (err: Error) => finish(err));
      });
      req.on('timeout', () => finish());
      req.on('error', (err) => finish(err));
      req.end();
    }, finish);
    return {
      abort() {
        done = true;
        req?.destroy();
      },
    };
  }
}

function apiError(method: string, url: URL, status: number, text: string): KubeApiError {
  let reason = 'Unknown';
  let message = text.slice(0, 2000);
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason ?? reason;
    message = s.message ?? message;
  } catch {
    // not a Status object
  }
  return new KubeApiError(status, reason, `${method} ${url.pathname}: ${status} ${message}`);
}
