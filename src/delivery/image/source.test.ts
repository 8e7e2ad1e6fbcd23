import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import type { App } from '../../schemas/crds/types.ts';
import { SourceError, type SourceContext } from '../source.ts';
import { appUrl, exposureFromConfig, imageSource } from './source.ts';

const NS = 'acme-web-1234abcd';
const app = (spec: Partial<App['spec']> = {}): App => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'App',
  metadata: { name: 'web', namespace: NS },
  spec: { source: { image: { ref: 'ghcr.io/acme/web:1.0' } }, ...spec },
});

function context(a: App, secrets: Record<string, Record<string, string>> = {}) {
  const reads: string[] = [];
  const ctx: SourceContext = {
    app: a,
    namespace: NS,
    readSecret: async (name) => {
      reads.push(name);
      return secrets[name];
    },
    readConfigMap: async () => undefined,
  };
  return { ctx, reads };
}

const source = imageSource({
  route: { kind: 'Ingress' },
  clusterIssuer: 'letsencrypt',
  externalDns: { enabled: true },
});

async function failure(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('image source', () => {
  it('renders the objects into the namespace with the image reference as the revision', async () => {
    const out = await source.render(context(app({ ports: [{ containerPort: 80 }] })).ctx);
    expect(out.sourceRevision).toBe('ghcr.io/acme/web:1.0');
    expect(out.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      `Deployment/${NS}/web`,
      `Service/${NS}/web`,
    ]);
    expect(out.requeueAfterMs).toBeUndefined();
  });

  it('a new image is a new revision', async () => {
    const out = await source.render(
      context(app({ source: { image: { ref: 'ghcr.io/acme/web@sha256:' + 'a'.repeat(64) } } })).ctx,
    );
    expect(out.sourceRevision).toBe('ghcr.io/acme/web@sha256:' + 'a'.repeat(64));
  });

  it('reports a missing Secret as CredentialsMissing, retried, naming where it is used', async () => {
    const a = app({ env: [{ name: 'DB_PASSWORD', secretKeyRef: { name: 'db', key: 'password' } }] });
    const err = await failure(source.render(context(a).ctx));
    expect(err.reason).toBe('CredentialsMissing');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(
      `Secret db (env DB_PASSWORD) does not exist in namespace ${NS}: create it or change env DB_PASSWORD`,
    );
  });

  it('reports a missing key without showing the Secret values', async () => {
    const a = app({ env: [{ name: 'DB_PASSWORD', secretKeyRef: { name: 'db', key: 'password' } }] });
    const err = await failure(source.render(context(a, { db: { user: 'supersecretvalue' } }).ctx));
    expect(err.reason).toBe('CredentialsMissing');
    expect(err.message).toContain('has no key password');
    expect(err.message).not.toContain('supersecretvalue');
  });

  it('checks the pull, envFrom and TLS Secrets, reading each Secret once', async () => {
    const a = app({
      source: { image: { ref: 'x:1', pullSecretName: 'regcred' } },
      env: [
        { name: 'A', secretKeyRef: { name: 'shared', key: 'a' } },
        { name: 'B', secretKeyRef: { name: 'shared', key: 'b' } },
      ],
      envFromSecrets: ['shared'],
      ports: [{ containerPort: 80 }],
      expose: { hosts: ['a.example.com'], tls: { mode: 'Secret', secretName: 'cert' } },
    });
    const secrets = { regcred: { '.dockerconfigjson': '{}' }, shared: { a: '1', b: '2' } };
    const missingTls = context(a, secrets);
    const err = await failure(source.render(missingTls.ctx));
    expect(err.message).toContain('Secret cert (spec.expose.tls.secretName) does not exist');
    expect(missingTls.reads).toEqual(['regcred', 'shared', 'cert']);
    const ok = await source.render(context(a, { ...secrets, cert: { 'tls.crt': 'c', 'tls.key': 'k' } }).ctx);
    expect(ok.objects.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'Ingress']);
  });

  it('stops when the reconcile is cancelled', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const { ctx } = context(app({ envFromSecrets: ['x'] }), { x: {} });
    await expect(source.render({ ...ctx, signal: ctl.signal })).rejects.toThrow();
  });

  it('refuses an App without an image source', async () => {
    const a = app();
    a.spec.source = { raw: { manifests: [{}] } };
    expect((await failure(source.render(context(a).ctx))).reason).toBe('RenderFailed');
  });
});

describe('app URL', () => {
  const exposed = (expose: NonNullable<App['spec']['expose']>) => app({ expose });
  it('is https on the first host and path, http when TLS is None, absent when not exposed', () => {
    expect(appUrl(exposed({ hosts: ['web.acme.example', 'b.example.com'] }))).toBe(
      'https://web.acme.example/',
    );
    expect(
      appUrl(
        exposed({
          hosts: ['web.acme.example'],
          paths: ['/api', '/v2'],
          tls: { mode: 'Secret', secretName: 's' },
        }),
      ),
    ).toBe('https://web.acme.example/api');
    expect(appUrl(exposed({ hosts: ['web.acme.example'], tls: { mode: 'None' } }))).toBe(
      'http://web.acme.example/',
    );
    expect(appUrl(app())).toBeUndefined();
  });
});

describe('exposure configuration', () => {
  const config = (env: Record<string, string>) => loadConfig(env).config;

  it('defaults to Ingress with external-dns and no ClusterIssuer', () => {
    expect(exposureFromConfig(config({}))).toEqual({
      route: { kind: 'Ingress' },
      externalDns: { enabled: true },
    });
  });

  it('reads the ingress class, ClusterIssuer and external-dns settings', () => {
    expect(
      exposureFromConfig(
        config({
          KUBEOP_INGRESS_CLASS: 'nginx',
          KUBEOP_CLUSTER_ISSUER: 'letsencrypt',
          KUBEOP_EXTERNAL_DNS: 'false',
          KUBEOP_EXTERNAL_DNS_TTL: '300',
        }),
      ),
    ).toEqual({
      route: { kind: 'Ingress', ingressClass: 'nginx' },
      clusterIssuer: 'letsencrypt',
      externalDns: { enabled: false, ttlSeconds: 300 },
    });
  });

  it('attaches HTTPRoutes to KUBEOP_GATEWAY, which it then requires', () => {
    expect(
      exposureFromConfig(config({ KUBEOP_EXPOSURE: 'HTTPRoute', KUBEOP_GATEWAY: 'gateway-system/public' }))
        .route,
    ).toEqual({ kind: 'HTTPRoute', gateway: { namespace: 'gateway-system', name: 'public' } });
    expect(() => exposureFromConfig(config({ KUBEOP_EXPOSURE: 'HTTPRoute' }))).toThrow(
      /KUBEOP_GATEWAY is required when KUBEOP_EXPOSURE=HTTPRoute/,
    );
  });

  it('refuses malformed values at load time', () => {
    expect(() => config({ KUBEOP_EXPOSURE: 'LoadBalancer' })).toThrow(/KUBEOP_EXPOSURE/);
    expect(() => config({ KUBEOP_GATEWAY: 'public' })).toThrow(/KUBEOP_GATEWAY/);
    expect(() => config({ KUBEOP_EXTERNAL_DNS_TTL: '0' })).toThrow(/KUBEOP_EXTERNAL_DNS_TTL/);
  });
});
