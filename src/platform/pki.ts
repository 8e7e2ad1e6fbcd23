// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Certificate authority and leaf certificates for loopback control planes and webhook serving,
 * built with @peculiar/x509 on WebCrypto (ECDSA P-256, SHA-256). Keys are PKCS#8 PEM, which Go's
 * crypto/tls and Kubernetes' keyutil both read.
 */
// Node's global WebCrypto (the same object as node:crypto's webcrypto), typed as the DOM's Crypto.
x509.cryptoProvider.set(globalThis.crypto);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  cert: x509.X509Certificate;
  privateKey: webcrypto.CryptoKey;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  // Backdated a minute so a freshly issued certificate is valid on hosts whose clocks lag slightly.
  return {
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + days * 86_400_000),
  };
}

export async function createCertificateAuthority(
  commonName: string,
  opts: { days?: number; now?: Date } = {},
): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: algorithm,
    ...validity(opts.days ?? 365, opts.now ?? new Date()),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert,
    privateKey: keys.privateKey,
    certPem: cert.toString('pem'),
    keyPem: await privateKeyPem(keys.privateKey),
  };
}

export interface LeafOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  days?: number;
  now?: Date;
}

/** A leaf certificate signed by `ca`: serving (with SANs), client (CN = user, O = groups), or both. */
export async function issueCertificate(ca: CertificateAuthority, opts: LeafOptions): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const subject = [`CN=${opts.commonName}`, ...(opts.organizations ?? []).map((o) => `O=${o}`)].join(', ');
  const usages = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[opts.usage];
  const sans: Array<{ type: 'dns' | 'ip'; value: string }> = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: algorithm,
    ...validity(opts.days ?? 365, opts.now ?? new Date()),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A signing key pair (service-account tokens): PKCS#8 private key and SPKI public key, both PEM. */
export async function createSigningKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  return {
    privateKeyPem: await privateKeyPem(keys.privateKey),
    publicKeyPem: x509.PemConverter.encode(
      await webcrypto.subtle.exportKey('spki', keys.publicKey),
      'PUBLIC KEY',
    ),
  };
}
