import { Agent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { pod, request, reviewBody, ruleContext } from '../../test/support/admission-fixtures.ts';
import { createLogger } from '../platform/logging.ts';
import { createCertificateAuthority, issueCertificate } from '../platform/pki.ts';
import { createAdmissionMetrics } from './metrics.ts';
import { hostnamesToClaim, validateRoute } from './rules/hostnames.ts';
import { validateWorkloadImages } from './rules/images.ts';
import { WebhookServer, type Claimer } from './server.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
const serving = async (ca: Awaited<ReturnType<typeof createCertificateAuthority>>) =>
  issueCertificate(ca, { commonName: 'localhost', ipAddresses: ['127.0.0.1'], usage: 'server', days: 1 });

let server: WebhookServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Answer {
  status: number;
  body: unknown;
  fingerprint: string;
}

function post(port: number, path: string, body: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            body: text ? JSON.parse(text) : undefined,
            fingerprint,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function start(opts: { bodyLimitBytes?: number } = {}) {
  const ca = await createCertificateAuthority('test-ca', { days: 1 });
  const tls = await serving(ca);
  const registry = new Registry();
  server = new WebhookServer({
    routes: [{ name: 'workloads', path: '/validate/workloads', family: validateWorkloadImages }],
    ctx: ruleContext(),
    logger,
    metrics: createAdmissionMetrics(registry),
    tls,
    ...opts,
  });
  const { port } = await server.listen('127.0.0.1', 0);
  return { port, ca, registry, agent: new Agent({ keepAlive: true, ca: ca.certPem, maxSockets: 8 }) };
}

describe('the webhook server', () => {
  it('answers reviews on their path, with status codes for everything else', async () => {
    const { port, agent, registry } = await start({ bodyLimitBytes: 64 * 1024 });
    const req = request('Pod', pod({ containers: [{ name: 'a', image: 'evil.example/x' }] }));
    const denied = await post(port, '/validate/workloads?timeout=3s', JSON.stringify(reviewBody(req)), agent);
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ response: { uid: req.uid, allowed: false, status: { code: 403 } } });
    expect((await post(port, '/nope', '{}', agent)).status).toBe(404);
    expect((await post(port, '/validate/workloads', 'not json', agent)).status).toBe(400);
    expect((await post(port, '/validate/workloads', '{"kind":"AdmissionReview"}', agent)).body).toEqual({
      error: 'expected apiVersion admission.k8s.io/v1 and kind AdmissionReview',
    });
    expect(
      (await post(port, '/validate/workloads', JSON.stringify({ pad: 'x'.repeat(70_000) }), agent)).status,
    ).toBe(413);
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      'kubeop_admission_requests_total{webhook="workloads",operation="CREATE",decision="denied"} 1',
    );
    expect(metrics).toContain('kubeop_admission_denials_total{rule="allowed-registries"} 1');
    agent.destroy();
  });

  it('survives garbage of every shape and keeps answering', async () => {
    const { port, agent } = await start({ bodyLimitBytes: 256 * 1024 });
    const valid = JSON.stringify(reviewBody(request('Pod', pod())));
    const bodies = [
      '',
      '\u0000\u0001',
      '['.repeat(200_000),
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":',
      valid.slice(0, valid.length / 2),
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: 'u', object: { spec: { containers: 'x' } } },
      }),
      ...Array.from({ length: 100 }, (_, i) =>
        Buffer.from(Array.from({ length: i * 7 }, (_, j) => (i * 31 + j * 17) % 256)).toString('latin1'),
      ),
    ];
    for (const body of bodies) {
      // A dropped connection or a hang would fail here: every body gets an HTTP answer.
      const res = await post(port, '/validate/workloads', body, agent);
      expect([200, 400, 413]).toContain(res.status);
    }
    const after = await post(port, '/validate/workloads', valid, agent);
    expect(after.body).toMatchObject({ response: { allowed: true } });
    agent.destroy();
  });

  it('swaps its certificate under load without failing a single request', async () => {
    const { port, ca } = await start();
    const ca2 = await createCertificateAuthority('next-ca', { days: 1 });
    // The client trusts both CAs, as the API server does once the next CA is published.
    const agent = new Agent({ keepAlive: true, ca: [ca.certPem, ca2.certPem], maxSockets: 8 });
    const fresh = new Agent({ keepAlive: false, ca: [ca.certPem, ca2.certPem] });
    const body = JSON.stringify(reviewBody(request('Pod', pod())));
    const results: Answer[] = [];
    const failures: unknown[] = [];
    let running = true;
    const loops = Array.from({ length: 8 }, async (_, i) => {
      while (running) {
        // Half the loops keep connections, half open a new one per request (new TLS handshakes).
        await post(port, '/validate/workloads', body, i % 2 ? agent : fresh).then(
          (r) => results.push(r),
          (e: unknown) => failures.push(e),
        );
      }
    });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(300);
    const sameCa = await serving(ca);
    server!.setCertificate(sameCa);
    await pause(300);
    const newCa = await serving(ca2);
    server!.setCertificate(newCa);
    await pause(300);
    running = false;
    await Promise.all(loops);
    agent.destroy();
    expect(failures).toEqual([]);
    expect(
      results.every(
        (r) => r.status === 200 && (r.body as { response: { allowed: boolean } }).response.allowed,
      ),
    ).toBe(true);
    // Resumed TLS sessions show no peer certificate; every full handshake shows one of the three.
    expect(new Set(results.map((r) => r.fingerprint).filter(Boolean)).size).toBe(3);
    expect(results.length).toBeGreaterThan(50);
  });
});

describe('hostname claims', () => {
  const ingress = (host: string) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web' },
    spec: { rules: [{ host, http: { paths: [] } }] },
  });
  async function startWith(claimer: Claimer) {
    const ca = await createCertificateAuthority('test-ca', { days: 1 });
    server = new WebhookServer({
      routes: [{ name: 'routes', path: '/validate/routes', family: validateRoute, claims: hostnamesToClaim }],
      ctx: ruleContext(),
      logger,
      tls: await serving(ca),
      claimer,
    });
    const { port } = await server.listen('127.0.0.1', 0);
    return { port, agent: new Agent({ ca: ca.certPem }) };
  }

  it('admits a route only once its hostnames are claimed, and refuses one another tenant holds', async () => {
    const calls: Array<{ tenant: string; hosts: string[]; dryRun: boolean }> = [];
    const { port, agent } = await startWith({
      claim: async (req, dryRun) => {
        calls.push({ ...req, dryRun });
        return req.hosts.filter((h) => h.startsWith('taken.'));
      },
    });
    const free = await post(
      port,
      '/validate/routes',
      JSON.stringify(reviewBody(request('Ingress', ingress('www.acme.example')))),
      agent,
    );
    expect(free.body).toMatchObject({ response: { allowed: true } });
    const taken = await post(
      port,
      '/validate/routes',
      JSON.stringify(reviewBody(request('Ingress', ingress('taken.acme.example'), { dryRun: true }))),
      agent,
    );
    expect(taken.body).toMatchObject({
      response: {
        allowed: false,
        status: { message: expect.stringContaining('kubeOP rule hostname-owner') },
      },
    });
    expect(calls).toEqual([
      { tenant: 'acme', hosts: ['www.acme.example'], dryRun: false },
      { tenant: 'acme', hosts: ['taken.acme.example'], dryRun: true },
    ]);
  });

  it('never claims for a request the rules refuse, and fails closed when claiming fails', async () => {
    let called = 0;
    const { port, agent } = await startWith({
      claim: async () => {
        called++;
        throw new Error('API server unreachable');
      },
    });
    const outside = await post(
      port,
      '/validate/routes',
      JSON.stringify(reviewBody(request('Ingress', ingress('x.other.example')))),
      agent,
    );
    expect(outside.body).toMatchObject({ response: { allowed: false } });
    expect(called).toBe(0);
    const failed = await post(
      port,
      '/validate/routes',
      JSON.stringify(reviewBody(request('Ingress', ingress('y.acme.example')))),
      agent,
    );
    expect(failed.body).toMatchObject({
      response: {
        allowed: false,
        status: { message: expect.stringContaining('could not record the ownership') },
      },
    });
    expect(JSON.stringify(failed.body)).not.toContain('unreachable');
    expect(called).toBe(1);
  });
});
