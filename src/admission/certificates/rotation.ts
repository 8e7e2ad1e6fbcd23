import { certInfo, coversNames, isSignedBy, type CertInfo, type ServingNames } from './material.ts';

/**
 * The self-managed certificate state, as kept in one Secret (type kubernetes.io/tls):
 *
 * | key               | content                                                              |
 * | ----------------- | -------------------------------------------------------------------- |
 * | `tls.crt/tls.key` | the serving certificate and key                                      |
 * | `ca.crt`          | the CA bundle to publish in the webhook configurations               |
 * | `signing-ca.*`    | the CA that signs serving certificates now                           |
 * | `next-ca.*`       | a CA staged for rotation: published, not yet signing                 |
 * | `previous-ca.crt` | the CA that signed before the last CA rotation, published until expiry |
 */
export const SECRET_KEYS = {
  tlsCert: 'tls.crt',
  tlsKey: 'tls.key',
  bundle: 'ca.crt',
  signingCert: 'signing-ca.crt',
  signingKey: 'signing-ca.key',
  nextCert: 'next-ca.crt',
  nextKey: 'next-ca.key',
  previousCert: 'previous-ca.crt',
} as const;
/** When the next CA was first published; it signs only after `overlapMs` from then. */
export const NEXT_CA_STAGED_AT = 'paas.kubeop.io/next-ca-staged-at';

export interface CertState {
  tlsCert: string;
  tlsKey: string;
  signingCert: string;
  signingKey: string;
  nextCert?: string;
  nextKey?: string;
  nextStagedAt?: Date;
  previousCert?: string;
}

export interface RotationPolicy {
  /** Lifetime of a serving certificate; it is renewed when a third of it is left. */
  leafValidityMs: number;
  /** Lifetime of a CA; the next one is staged when a third of it is left. */
  caValidityMs: number;
  /**
   * How long a staged CA is published before it signs. Must exceed the time every API server takes
   * to see a changed webhook configuration (its informer: normally under a second) and every
   * replica's check interval, and be well below a third of the CA lifetime.
   */
  overlapMs: number;
}

export type Plan =
  | { action: 'none' }
  | { action: 'reissue' | 'renew-leaf' | 'stage-ca' | 'promote-ca' | 'drop-previous-ca'; reason: string };

function info(pem: string | undefined): CertInfo | undefined {
  if (!pem) return undefined;
  try {
    return certInfo(pem);
  } catch {
    return undefined;
  }
}

/**
 * The next rotation step, as a pure function of the state, the time and whether the staged CA is
 * already in every live webhook configuration. Rotation without a failed request relies on this
 * order:
 *
 * 1. A serving certificate is renewed under the same CA: the bundle does not change, old and new
 *    certificates are both trusted, replicas may switch at different moments.
 * 2. A CA is first **staged**: published in the bundle while the old CA keeps signing.
 * 3. Only after `overlapMs`, and only once every live webhook configuration carries it, the staged CA
 *    is **promoted**: it signs a new serving certificate; the old CA stays in the bundle as the
 *    previous CA (other replicas may still serve certificates it signed) until it expires.
 *
 * `reissue` (fresh CA and certificate) is only for a state that cannot be used at all — missing or
 * unreadable keys, or an expired CA — where a gap in trust cannot be avoided.
 */
export function planRotation(
  state: CertState,
  now: Date,
  policy: RotationPolicy,
  names: ServingNames,
  nextPublished: boolean,
): Plan {
  const t = now.getTime();
  const signing = info(state.signingCert);
  const leaf = info(state.tlsCert);
  if (!signing || !leaf || !state.signingKey || !state.tlsKey) {
    return { action: 'reissue', reason: 'the stored certificates are missing or unreadable' };
  }
  if (signing.notAfter.getTime() <= t) return { action: 'reissue', reason: 'the signing CA has expired' };

  const next = info(state.nextCert);
  if (next && state.nextKey) {
    const stagedAt = state.nextStagedAt?.getTime() ?? t;
    if (t - stagedAt >= policy.overlapMs && nextPublished) {
      return { action: 'promote-ca', reason: 'the staged CA has been published long enough' };
    }
  } else if (signing.notAfter.getTime() - t < policy.caValidityMs / 3) {
    return { action: 'stage-ca', reason: 'a third of the signing CA lifetime is left' };
  }

  if (!isSignedBy(state.tlsCert, state.signingCert)) {
    return { action: 'renew-leaf', reason: 'the serving certificate is not signed by the signing CA' };
  }
  if (!coversNames(leaf, names)) {
    return { action: 'renew-leaf', reason: 'the serving certificate does not name every webhook address' };
  }
  // A certificate already ending with its CA cannot be renewed into a longer one: the CA's rotation
  // (staged above) comes first.
  const canOutlive = leaf.notAfter.getTime() < signing.notAfter.getTime() - 1000;
  if (canOutlive && leaf.notAfter.getTime() - t < policy.leafValidityMs / 3) {
    return { action: 'renew-leaf', reason: 'a third of the serving certificate lifetime is left' };
  }

  const previous = info(state.previousCert);
  if (state.previousCert && (!previous || previous.notAfter.getTime() <= t)) {
    return { action: 'drop-previous-ca', reason: 'the previous CA has expired' };
  }
  return { action: 'none' };
}

/** The bundle to publish: signing CA, then the staged one, then the previous one while valid. */
export function caBundle(
  state: Pick<CertState, 'signingCert' | 'nextCert' | 'previousCert'>,
  now: Date,
): string {
  const previous = info(state.previousCert);
  return [
    state.signingCert,
    state.nextCert,
    previous && previous.notAfter.getTime() > now.getTime() ? state.previousCert : undefined,
  ]
    .filter((p): p is string => !!p)
    .map((p) => (p.endsWith('\n') ? p : `${p}\n`))
    .join('');
}
