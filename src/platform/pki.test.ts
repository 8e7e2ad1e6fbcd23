import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, createSigningKeyPair, issueCertificate } from './pki.ts';

describe('pki', () => {
  it('creates a CA that signs a serving certificate with the requested names', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaf = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1', '::1'],
      usage: 'server',
    });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('evil.example')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('puts the user in CN and the groups in O for client certificates', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaf = await issueCertificate(ca, {
      commonName: 'kubeop-admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.subject).toBe('CN=kubeop-admin\nO=system:masters');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('writes a private key that matches its certificate', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaf = await issueCertificate(ca, { commonName: 'x', usage: 'both' });
    const key = createPrivateKey(leaf.keyPem);
    const signature = sign('sha256', Buffer.from('hello'), key);
    expect(
      verify('sha256', Buffer.from('hello'), new X509Certificate(leaf.certPem).publicKey, signature),
    ).toBe(true);
  });

  it('honours the validity period', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const ca = await createCertificateAuthority('test-ca', { days: 10, now });
    const cert = new X509Certificate(ca.certPem);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 10 * 86_400_000);
  });

  it('creates a signing key pair whose halves belong together', async () => {
    const pair = await createSigningKeyPair();
    const signature = sign('sha256', Buffer.from('token'), createPrivateKey(pair.privateKeyPem));
    expect(verify('sha256', Buffer.from('token'), createPublicKey(pair.publicKeyPem), signature)).toBe(true);
  });
});
