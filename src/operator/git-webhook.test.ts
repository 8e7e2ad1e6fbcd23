import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installProblemHandlers } from '../platform/problem.ts';
import { pushedUrls, registerGitWebhook, signBody, verifySignature } from './git-webhook.ts';

const secret = 'a-webhook-secret-of-some-length';

async function server() {
  const app = Fastify();
  installProblemHandlers(app);
  const triggered: string[] = [];
  registerGitWebhook(app, {
    secret,
    trigger: (url) => {
      triggered.push(url);
      return 2;
    },
  });
  await app.ready();
  return { app, triggered };
}

describe('git webhook signature', () => {
  const body = Buffer.from('{"url":"https://github.com/acme/web.git"}');

  it('accepts the HMAC-SHA256 of the exact body with the shared secret', () => {
    expect(verifySignature(body, signBody(body, secret), secret)).toBe(true);
    // Gitea's X-Gitea-Signature carries the bare hex.
    expect(verifySignature(body, signBody(body, secret).slice(7), secret)).toBe(true);
  });

  it('refuses another secret, a changed body, and malformed or missing headers', () => {
    expect(verifySignature(body, signBody(body, 'another-secret-entirely'), secret)).toBe(false);
    expect(verifySignature(Buffer.from(body.toString() + ' '), signBody(body, secret), secret)).toBe(false);
    expect(verifySignature(body, 'sha256=xyz', secret)).toBe(false);
    expect(verifySignature(body, 'sha1=' + 'a'.repeat(40), secret)).toBe(false);
    expect(verifySignature(body, undefined, secret)).toBe(false);
  });
});

describe('git webhook payloads', () => {
  it('reads the repository of GitHub, Gitea and GitLab push events, once per repository', () => {
    expect(
      pushedUrls({
        repository: {
          clone_url: 'https://github.com/acme/web.git',
          html_url: 'https://github.com/acme/web',
          ssh_url: 'git@github.com:acme/web.git',
        },
      }),
    ).toEqual(['https://github.com/acme/web.git']);
    expect(pushedUrls({ project: { git_http_url: 'https://gitlab.com/a/b.git' } })).toEqual([
      'https://gitlab.com/a/b.git',
    ]);
    expect(pushedUrls({ url: 'https://example.com/a/b' })).toEqual(['https://example.com/a/b']);
    expect(pushedUrls({ zen: 'ping' })).toEqual([]);
    expect(pushedUrls('nope')).toEqual([]);
  });
});

describe('POST /hooks/git', () => {
  it('syncs the Apps of a correctly signed push and says how many', async () => {
    const { app, triggered } = await server();
    const payload = JSON.stringify({ repository: { clone_url: 'https://github.com/acme/web.git' } });
    const res = await app.inject({
      method: 'POST',
      url: '/hooks/git',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(payload, secret) },
      payload,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ apps: 2 });
    expect(triggered).toEqual(['https://github.com/acme/web.git']);
  });

  it('accepts GitHub form-encoded deliveries', async () => {
    const { app, triggered } = await server();
    const payload = new URLSearchParams({
      payload: JSON.stringify({ url: 'https://github.com/a/b' }),
    }).toString();
    const res = await app.inject({
      method: 'POST',
      url: '/hooks/git',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-hub-signature-256': signBody(payload, secret),
      },
      payload,
    });
    expect(res.statusCode).toBe(202);
    expect(triggered).toEqual(['https://github.com/a/b']);
  });

  it('refuses a wrong signature with a problem and triggers nothing', async () => {
    const { app, triggered } = await server();
    const payload = JSON.stringify({ url: 'https://github.com/acme/web.git' });
    const res = await app.inject({
      method: 'POST',
      url: '/hooks/git',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signBody(payload, 'wrong-secret-xxxxxxxx'),
      },
      payload,
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_WEBHOOK_SIGNATURE' });
    expect(res.body).not.toContain(secret);
    expect(triggered).toEqual([]);
  });

  it("answers GitHub's signed ping without syncing", async () => {
    const { app, triggered } = await server();
    const payload = JSON.stringify({
      zen: 'Keep it logically awesome.',
      repository: { clone_url: 'https://github.com/a/b.git' },
    });
    const res = await app.inject({
      method: 'POST',
      url: '/hooks/git',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'x-hub-signature-256': signBody(payload, secret),
      },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(triggered).toEqual([]);
  });

  it('refuses a signed payload that names no repository', async () => {
    const { app, triggered } = await server();
    for (const payload of ['{"zen":"hi"}', 'not json']) {
      const res = await app.inject({
        method: 'POST',
        url: '/hooks/git',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(payload, secret) },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_WEBHOOK_PAYLOAD' });
    }
    expect(triggered).toEqual([]);
  });
});
