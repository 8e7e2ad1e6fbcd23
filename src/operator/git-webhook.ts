import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { identityOf } from '../delivery/git/url.ts';
import { ApiError } from '../platform/problem.ts';

export const GIT_WEBHOOK_PATH = '/hooks/git';

export interface GitWebhookOptions {
  /** KUBEOP_GIT_WEBHOOK_SECRET; the route is only registered when it is set. */
  secret: string;
  /** Syncs every App using the repository at `url` now; returns how many were queued. */
  trigger: (url: string) => number | void;
}

/**
 * Checks a GitHub/Gitea-style body signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
 * raw body>` (Gitea also sends the bare hex as `X-Gitea-Signature`). Constant-time; a missing or
 * malformed header is simply invalid.
 */
export function verifySignature(body: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const hex = header.startsWith('sha256=') ? header.slice('sha256='.length) : header;
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** The signature header value for `body` (what a Git server sends; used by tests and docs). */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Repository URLs named by a push payload: `{ "url": "…" }`, or the `repository` object GitHub,
 * Gitea, Gogs and Forgejo send (clone_url, html_url, ssh_url, git_url), or GitLab's `project`
 * (git_http_url, git_ssh_url, web_url). Deduplicated by repository identity.
 */
export function pushedUrls(payload: unknown): string[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const p = payload as Record<string, unknown>;
  const candidates: unknown[] = [p.url];
  for (const key of ['repository', 'project']) {
    const r = p[key];
    if (typeof r === 'object' && r !== null) {
      const o = r as Record<string, unknown>;
      candidates.push(
        o.clone_url,
        o.html_url,
        o.ssh_url,
        o.git_url,
        o.git_http_url,
        o.git_ssh_url,
        o.web_url,
      );
    }
  }
  const seen = new Map<string, string>();
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const id = identityOf(c);
    if (id && !seen.has(id)) seen.set(id, c);
  }
  return [...seen.values()];
}

/**
 * `POST /hooks/git`: a push notification that makes the Apps using the pushed repository sync at
 * once instead of at their next poll. The body is authenticated before it is parsed; a valid push
 * only enqueues reconciles (which fetch with each App's own credentials), so a forged URL could at
 * worst cause extra syncs. Answers 202 with how many Apps were queued.
 */
export function registerGitWebhook(app: FastifyInstance, opts: GitWebhookOptions): void {
  void app.register(async (scope) => {
    // The raw bytes are what is signed: keep them, parse after the signature check.
    scope.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'buffer', bodyLimit: 8 * 1024 * 1024 },
      (_req, body, done) => done(null, body),
    );
    // Public: no bearer token; the body's HMAC signature is its authentication.
    scope.post(GIT_WEBHOOK_PATH, { config: { public: true } }, async (req, reply) => {
      const body = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
      const header = req.headers['x-hub-signature-256'] ?? req.headers['x-gitea-signature'];
      if (!verifySignature(body, typeof header === 'string' ? header : undefined, opts.secret)) {
        throw new ApiError(
          401,
          'KUBEOP_ERR_WEBHOOK_SIGNATURE',
          'missing or wrong X-Hub-Signature-256: sign the body with HMAC-SHA256 and the configured webhook secret',
        );
      }
      // GitHub checks a new webhook with a signed `ping`; answer it without syncing anything.
      if (req.headers['x-github-event'] === 'ping') return reply.code(200).send({ apps: 0 });
      const urls = pushedUrls(parseBody(body, String(req.headers['content-type'] ?? '')));
      if (urls.length === 0) {
        throw new ApiError(
          400,
          'KUBEOP_ERR_WEBHOOK_PAYLOAD',
          'the payload names no repository: send a push event (repository.clone_url) or {"url": "<repository URL>"}',
        );
      }
      let apps = 0;
      for (const url of urls) apps += opts.trigger(url) ?? 0;
      req.log.info({ repositories: urls.map(identityOf), apps }, 'git webhook: syncing Apps');
      return reply.code(202).send({ apps });
    });
  });
}

function parseBody(body: Buffer, contentType: string): unknown {
  try {
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(body.toString('utf8')).get('payload');
      return payload ? JSON.parse(payload) : undefined;
    }
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'KUBEOP_ERR_WEBHOOK_PAYLOAD', 'the payload is not valid JSON');
  }
}
