import { LABEL_MANAGED_BY, MANAGED_BY } from '../../domain/naming.ts';
import { isNotFound, type KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../platform/logging.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { certInfo, type ServingNames } from './material.ts';
import type { CertificateSource, ServingMaterial } from './source.ts';

export interface IssuerRef {
  kind: 'Issuer' | 'ClusterIssuer';
  name: string;
}

/** `ClusterIssuer/name` or `Issuer/name` (an Issuer must live in kubeOP's namespace). */
export function parseIssuerRef(text: string): IssuerRef | undefined {
  const m = /^(Issuer|ClusterIssuer)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  return m ? { kind: m[1] as IssuerRef['kind'], name: m[2]! } : undefined;
}

export interface CertManagerOptions {
  client: KubeClient;
  namespace: string;
  /** Name of the Certificate and of the Secret cert-manager writes. */
  secretName: string;
  names: ServingNames;
  issuer: IssuerRef;
  leafValidityHours: number;
  logger: Logger;
}

/** The cert-manager Certificate kubeOP asks for (server-side applied, so re-applying is a no-op). */
export function renderCertificate(o: Omit<CertManagerOptions, 'client' | 'logger'>): KubeObject {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: o.secretName, namespace: o.namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
    spec: {
      secretName: o.secretName,
      commonName: o.names.dnsNames[0] ?? o.names.ipAddresses[0],
      dnsNames: o.names.dnsNames,
      ...(o.names.ipAddresses.length ? { ipAddresses: o.names.ipAddresses } : {}),
      duration: `${o.leafValidityHours}h`,
      renewBefore: `${Math.max(1, Math.floor(o.leafValidityHours / 3))}h`,
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['server auth', 'digital signature', 'key encipherment'],
      issuerRef: { group: 'cert-manager.io', kind: o.issuer.kind, name: o.issuer.name },
    },
  };
}

/**
 * The serving certificate from cert-manager: kubeOP applies a Certificate and serves the Secret
 * cert-manager writes (`tls.crt`, `tls.key`), publishing its `ca.crt` as the caBundle. Renewal is
 * cert-manager's; kubeOP picks up the new Secret on its next check. The issuer must put the CA in
 * `ca.crt` (CA and self-signed issuers do); an issuer that replaces its CA switches the bundle at
 * once, so keep the issuing CA long-lived (cert-manager's own advice for webhooks).
 */
export class CertManagerCertificates implements CertificateSource {
  readonly kind = 'cert-manager';
  readonly #o: CertManagerOptions;
  #applied = false;

  constructor(opts: CertManagerOptions) {
    this.#o = opts;
  }

  async reconcile(): Promise<ServingMaterial> {
    const { client, namespace, secretName } = this.#o;
    if (!this.#applied) {
      await client.apply(renderCertificate(this.#o));
      this.#applied = true;
      this.#o.logger.info(
        { certificate: secretName, issuer: this.#o.issuer },
        'cert-manager Certificate applied',
      );
    }
    let secret: KubeObject & { data?: Record<string, string> };
    try {
      secret = await client.get({ apiVersion: 'v1', kind: 'Secret', name: secretName, namespace });
    } catch (err) {
      if (isNotFound(err)) {
        throw new Error(`waiting for cert-manager to issue Secret ${namespace}/${secretName}`, {
          cause: err,
        });
      }
      throw err;
    }
    const read = (k: string) =>
      secret.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : '';
    const certPem = read('tls.crt');
    const keyPem = read('tls.key');
    const caBundlePem = read('ca.crt');
    if (!certPem || !keyPem) throw new Error(`Secret ${namespace}/${secretName} has no tls.crt/tls.key yet`);
    if (!caBundlePem) {
      throw new Error(
        `Secret ${namespace}/${secretName} has no ca.crt: use a cert-manager CA or self-signed issuer that records its CA`,
      );
    }
    const leaf = certInfo(certPem);
    return { certPem, keyPem, caBundlePem, notAfter: leaf.notAfter, fingerprint: leaf.fingerprint };
  }
}
