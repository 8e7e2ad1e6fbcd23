import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../platform/logging.ts';
import type { ClaimRequest } from './claims.ts';
import { handleReview, type ReviewOutcome } from './handle.ts';
import type { AdmissionMetrics } from './metrics.ts';
import type { RuleContext, RuleFamily } from './rules/context.ts';
import { claimedElsewhere } from './rules/hostnames.ts';
import { deny, toResponse, type AdmissionRequest, type Decision } from './review.ts';

/** A route of the webhook server: one rule family on one path. */
export interface WebhookRoute {
  name: string;
  path: string;
  family: RuleFamily;
  /** What an allowed request must claim before it is admitted (hostnames); see claims.ts. */
  claims?: (req: AdmissionRequest, ctx: RuleContext) => ClaimRequest | undefined;
}

/** Records claims atomically; resolves to what another tenant holds. */
export interface Claimer {
  claim(req: ClaimRequest, dryRun: boolean): Promise<string[]>;
}

export interface WebhookServerOptions {
  routes: WebhookRoute[];
  ctx: RuleContext;
  logger: Logger;
  metrics?: AdmissionMetrics;
  tls: { certPem: string; keyPem: string };
  /** Without it, routes' claims are not recorded (hostname ownership then rests on the cache alone). */
  claimer?: Claimer;
  /** Largest review accepted; the API server sends at most two objects of ~1.5 MiB each. */
  bodyLimitBytes?: number;
}

// Longer than the API server's idle-connection timeout (90 s), so the server never closes a kept-alive
// connection just as the API server sends a review on it (a POST it would not retry).
const KEEP_ALIVE_MS = 120_000;

/**
 * The HTTPS server that answers AdmissionReviews. Guarantees:
 * - every well-formed review gets a 200 answer with its uid, whatever the rule does (an exception is
 *   a denial); a body that is no AdmissionReview gets 400, an unknown path 404, a too large body 413;
 * - `setCertificate` swaps the serving certificate for new TLS handshakes without dropping a
 *   connection: connections already open finish on the certificate they started with;
 * - `close` stops accepting, lets in-flight reviews finish (bounded by `timeoutMs`), then cuts the rest.
 */
export class WebhookServer {
  readonly #o: WebhookServerOptions;
  readonly #routes: Map<string, WebhookRoute>;
  readonly #server: Server;

  constructor(opts: WebhookServerOptions) {
    this.#o = opts;
    this.#routes = new Map(opts.routes.map((r) => [r.path, r]));
    this.#server = createServer(
      { cert: opts.tls.certPem, key: opts.tls.keyPem, minVersion: 'TLSv1.2' },
      (req, res) => this.#handle(req, res),
    );
    this.#server.keepAliveTimeout = KEEP_ALIVE_MS;
    this.#server.on('tlsClientError', (err) => opts.logger.debug({ err }, 'webhook TLS handshake failed'));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  setCertificate(tls: { certPem: string; keyPem: string }): void {
    this.#server.setSecureContext({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' });
  }

  async close(timeoutMs = 10_000): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => this.#server.closeAllConnections(), timeoutMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!;
    const route = this.#routes.get(path);
    if (!route || req.method !== 'POST') {
      req.resume();
      send(res, route ? 405 : 404, { error: route ? 'use POST' : `no webhook at ${path}` });
      return;
    }
    const limit = this.#o.bodyLimitBytes ?? 8 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => void this.#answer(route, chunks, tooLarge, limit, started, res));
  }

  async #answer(
    route: WebhookRoute,
    chunks: Buffer[],
    tooLarge: boolean,
    limit: number,
    started: bigint,
    res: ServerResponse,
  ): Promise<void> {
    const { metrics, logger } = this.#o;
    const observe = (operation: string, decision: string) => {
      metrics?.requests.inc({ webhook: route.name, operation, decision });
      metrics?.duration.observe({ webhook: route.name }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    if (tooLarge) {
      observe('', 'invalid');
      send(res, 413, { error: `review larger than ${limit} bytes` });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      observe('', 'invalid');
      send(res, 400, { error: 'the body is not JSON' });
      return;
    }
    let failed = false;
    const reviewed = handleReview(body, route.family, this.#o.ctx, (err, request) => {
      failed = true;
      logger.error(
        { err, webhook: route.name, uid: request.uid, kind: request.kind.kind },
        'admission rule threw; denied',
      );
    });
    if (reviewed.status === 400) {
      observe('', 'invalid');
      send(res, 400, { error: reviewed.error });
      return;
    }
    const outcome = await this.#withClaims(route, reviewed);
    const { decision, request } = outcome;
    if (!decision.allowed) {
      for (const v of decision.violations) metrics?.denials.inc({ rule: v.rule });
      logger.info(
        {
          webhook: route.name,
          uid: request.uid,
          user: request.userInfo.username,
          operation: request.operation,
          kind: request.kind.kind,
          namespace: request.namespace,
          name: request.name,
          rules: decision.violations.map((v) => v.rule),
          dryRun: request.dryRun,
        },
        'admission denied',
      );
    }
    const verdict = failed
      ? 'error'
      : !decision.allowed
        ? 'denied'
        : decision.patch?.length
          ? 'patched'
          : 'allowed';
    observe(request.operation, verdict);
    send(res, 200, outcome.review);
  }

  /**
   * An allowed request that starts using hostnames is admitted only once they are claimed for its
   * tenant. Fails closed: when the claims cannot be recorded the request is refused (retryable).
   */
  async #withClaims(
    route: WebhookRoute,
    outcome: Extract<ReviewOutcome, { status: 200 }>,
  ): Promise<Extract<ReviewOutcome, { status: 200 }>> {
    const { decision, request } = outcome;
    const claimer = this.#o.claimer;
    if (!decision.allowed || !route.claims || !claimer) return outcome;
    let next: Decision;
    try {
      const wanted = route.claims(request, this.#o.ctx);
      if (!wanted) return outcome;
      const taken = await claimer.claim(wanted, request.dryRun === true);
      if (!taken.length) return outcome;
      next = deny(...claimedElsewhere(taken));
    } catch (err) {
      this.#o.logger.error({ err, webhook: route.name, uid: request.uid }, 'hostname claim failed; denied');
      next = deny({
        rule: 'internal-error',
        message: 'kubeOP could not record the ownership of the hostnames in this request',
        fix: 'retry; if it keeps failing, report this message to the platform team',
      });
    }
    return {
      ...outcome,
      decision: next,
      review: { ...outcome.review, response: toResponse(request.uid, next) },
    };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
