/** What the webhook server serves and the webhook configurations publish. */
export interface ServingMaterial {
  certPem: string;
  keyPem: string;
  /** PEM of every CA the API server must trust for this server. */
  caBundlePem: string;
  notAfter: Date;
  /** SHA-256 fingerprint of the serving certificate: changes exactly when it is replaced. */
  fingerprint: string;
}

/** Tells whether every live webhook configuration already trusts the CA in `caPem`. */
export type PublishedCheck = (caPem: string) => Promise<boolean>;

/**
 * Where the serving certificate comes from. `reconcile` makes one pass: make sure the certificate
 * exists and is current (creating or rotating it when this source owns it), and return what to
 * serve. Safe to call from every replica at once.
 */
export interface CertificateSource {
  readonly kind: 'self' | 'cert-manager';
  reconcile(isPublished: PublishedCheck): Promise<ServingMaterial>;
}
