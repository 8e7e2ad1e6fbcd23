// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  createCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
} from '../../platform/pki.ts';

/** What kubeOP needs to know about a certificate, parsed with Node's own X.509 support. */
export interface CertInfo {
  pem: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  fingerprint: string;
}

/** Splits a PEM bundle into its certificates (in order). */
export function splitPem(bundle: string): string[] {
  return (
    bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? []
  );
}

export function certInfo(pem: string): CertInfo {
  const cert = new X509Certificate(pem);
  const sans = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
  return {
    pem,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ipAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11)),
    fingerprint: cert.fingerprint256,
  };
}

/** True when `leafPem` was signed by the CA in `caPem`. */
export function isSignedBy(leafPem: string, caPem: string): boolean {
  try {
    const leaf = new X509Certificate(leafPem);
    const ca = new X509Certificate(caPem);
    return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** A CA loaded back from its PEM certificate and PKCS#8 key (ECDSA P-256, as pki.ts creates). */
export async function loadAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(keyPem),
    { name: 'ECDSA', namedCurve: 'P-256' },
    true,
    ['sign'],
  );
  return { cert: new x509.X509Certificate(certPem), privateKey, certPem, keyPem };
}

export interface ServingNames {
  dnsNames: string[];
  ipAddresses: string[];
}

const DAY_MS = 86_400_000;

export function newAuthority(validityMs: number, now: Date): Promise<CertificateAuthority> {
  return createCertificateAuthority(`kubeop-webhook-ca-${now.getTime().toString(36)}`, {
    days: validityMs / DAY_MS,
    now,
  });
}

/** A serving certificate for the webhook names, never outliving the CA that signs it. */
export function newServingCertificate(
  ca: CertificateAuthority,
  names: ServingNames,
  validityMs: number,
  now: Date,
): Promise<{ certPem: string; keyPem: string }> {
  const caLeft = ca.cert.notAfter.getTime() - now.getTime();
  return issueCertificate(ca, {
    commonName: names.dnsNames[0] ?? names.ipAddresses[0] ?? 'kubeop-webhook',
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    usage: 'server',
    days: Math.max(Math.min(validityMs, caLeft), 1000) / DAY_MS,
    now,
  });
}

/** True when the certificate names every DNS name and IP address wanted (it may name more). */
export function coversNames(cert: CertInfo, names: ServingNames): boolean {
  return (
    names.dnsNames.every((n) => cert.dnsNames.includes(n)) &&
    names.ipAddresses.every((ip) => cert.ipAddresses.includes(ip))
  );
}
