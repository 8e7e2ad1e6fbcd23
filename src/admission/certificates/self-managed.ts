import { LABEL_MANAGED_BY, MANAGED_BY } from '../../domain/naming.ts';
import { isConflict, isNotFound, type KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../platform/logging.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import {
  certInfo,
  loadAuthority,
  newAuthority,
  newServingCertificate,
  type ServingNames,
} from './material.ts';
import {
  caBundle,
  NEXT_CA_STAGED_AT,
  planRotation,
  SECRET_KEYS,
  type CertState,
  type Plan,
  type RotationPolicy,
} from './rotation.ts';
import type { CertificateSource, PublishedCheck, ServingMaterial } from './source.ts';

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

const decode = (data: Record<string, string> | undefined, key: string) =>
  data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined;

export function stateFromSecret(secret: SecretObject): CertState {
  const d = secret.data;
  const staged = secret.metadata.annotations?.[NEXT_CA_STAGED_AT];
  const state: CertState = {
    tlsCert: decode(d, SECRET_KEYS.tlsCert) ?? '',
    tlsKey: decode(d, SECRET_KEYS.tlsKey) ?? '',
    signingCert: decode(d, SECRET_KEYS.signingCert) ?? '',
    signingKey: decode(d, SECRET_KEYS.signingKey) ?? '',
  };
  const nextCert = decode(d, SECRET_KEYS.nextCert);
  const nextKey = decode(d, SECRET_KEYS.nextKey);
  const previousCert = decode(d, SECRET_KEYS.previousCert);
  if (nextCert) state.nextCert = nextCert;
  if (nextKey) state.nextKey = nextKey;
  if (staged && !Number.isNaN(Date.parse(staged))) state.nextStagedAt = new Date(staged);
  if (previousCert) state.previousCert = previousCert;
  return state;
}

/**
 * Where the Secret is kept. Contract (what the API server gives): `create` fails with a 409
 * (isConflict) when the Secret exists; `update` fails with a 409 when the resourceVersion in the
 * object is no longer current.
 */
export interface SecretStore {
  read(): Promise<SecretObject | undefined>;
  create(secret: SecretObject): Promise<SecretObject>;
  update(secret: SecretObject): Promise<SecretObject>;
}

export function kubeSecretStore(client: KubeClient, namespace: string, name: string): SecretStore {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  return {
    async read() {
      try {
        return await client.request<SecretObject>('GET', `${path}/${encodeURIComponent(name)}`);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (secret) => client.request<SecretObject>('POST', path, { body: secret }),
    update: (secret) =>
      client.request<SecretObject>('PUT', `${path}/${encodeURIComponent(name)}`, { body: secret }),
  };
}

export interface SelfManagedOptions {
  secrets: SecretStore;
  namespace: string;
  secretName: string;
  names: ServingNames;
  policy: RotationPolicy;
  logger: Logger;
  /** The clock; tests move it. */
  now?: () => Date;
  /** Called after each rotation step this replica wrote (for metrics). */
  onRotated?: (action: Plan['action']) => void;
}

/**
 * kubeOP's own CA and serving certificate, kept in a Secret and rotated before expiry (see
 * rotation.ts for the order that keeps every request working).
 *
 * Concurrency contract — any number of replicas may run `reconcile` at the same moment:
 * - the Secret is created with POST (create-or-get): one replica's material wins, every other one
 *   gets 409 and reads the winner's; nothing is ever overwritten on creation;
 * - every change is a PUT carrying the resourceVersion it was planned from: a replica that lost a
 *   race gets 409, re-reads and plans again from what the winner wrote;
 * - a Secret of that name that kubeOP did not create (no managed-by label) is never touched.
 */
export class SelfManagedCertificates implements CertificateSource {
  readonly kind = 'self';
  readonly #o: SelfManagedOptions;
  readonly #now: () => Date;

  constructor(opts: SelfManagedOptions) {
    if (opts.policy.overlapMs >= opts.policy.caValidityMs / 3) {
      throw new Error('certificate overlap must be shorter than a third of the CA lifetime');
    }
    this.#o = opts;
    this.#now = opts.now ?? (() => new Date());
  }

  #secret(state: CertState, base?: SecretObject): SecretObject {
    const now = this.#now();
    const data: Record<string, string> = {};
    const put = (key: string, value: string | undefined) => {
      if (value) data[key] = Buffer.from(value).toString('base64');
    };
    put(SECRET_KEYS.tlsCert, state.tlsCert);
    put(SECRET_KEYS.tlsKey, state.tlsKey);
    put(SECRET_KEYS.bundle, caBundle(state, now));
    put(SECRET_KEYS.signingCert, state.signingCert);
    put(SECRET_KEYS.signingKey, state.signingKey);
    put(SECRET_KEYS.nextCert, state.nextCert);
    put(SECRET_KEYS.nextKey, state.nextKey);
    put(SECRET_KEYS.previousCert, state.previousCert);
    const annotations = { ...(base?.metadata.annotations ?? {}) };
    delete annotations[NEXT_CA_STAGED_AT];
    if (state.nextCert && state.nextStagedAt)
      annotations[NEXT_CA_STAGED_AT] = state.nextStagedAt.toISOString();
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        ...(base?.metadata ?? {}),
        name: this.#o.secretName,
        namespace: this.#o.namespace,
        labels: { ...(base?.metadata.labels ?? {}), [LABEL_MANAGED_BY]: MANAGED_BY },
        annotations,
      },
      data,
    };
  }

  async #fresh(): Promise<CertState> {
    const now = this.#now();
    const ca = await newAuthority(this.#o.policy.caValidityMs, now);
    const leaf = await newServingCertificate(ca, this.#o.names, this.#o.policy.leafValidityMs, now);
    return { tlsCert: leaf.certPem, tlsKey: leaf.keyPem, signingCert: ca.certPem, signingKey: ca.keyPem };
  }

  /** The state after one step of the plan. */
  async #apply(state: CertState, plan: Plan): Promise<CertState> {
    const now = this.#now();
    const { policy, names } = this.#o;
    switch (plan.action) {
      case 'none':
        return state;
      case 'reissue':
        return this.#fresh();
      case 'renew-leaf': {
        const ca = await loadAuthority(state.signingCert, state.signingKey);
        const leaf = await newServingCertificate(ca, names, policy.leafValidityMs, now);
        return { ...state, tlsCert: leaf.certPem, tlsKey: leaf.keyPem };
      }
      case 'stage-ca': {
        const next = await newAuthority(policy.caValidityMs, now);
        return { ...state, nextCert: next.certPem, nextKey: next.keyPem, nextStagedAt: now };
      }
      case 'promote-ca': {
        const ca = await loadAuthority(state.nextCert!, state.nextKey!);
        const leaf = await newServingCertificate(ca, names, policy.leafValidityMs, now);
        return {
          tlsCert: leaf.certPem,
          tlsKey: leaf.keyPem,
          signingCert: ca.certPem,
          signingKey: ca.keyPem,
          previousCert: state.signingCert,
        };
      }
      case 'drop-previous-ca': {
        const { previousCert: _dropped, ...rest } = state;
        return rest;
      }
    }
  }

  async reconcile(isPublished: PublishedCheck): Promise<ServingMaterial> {
    const { secrets, logger } = this.#o;
    // Bounded: each pass either writes one step or finds nothing to do; a lost race re-reads.
    for (let attempt = 0; attempt < 8; attempt++) {
      let secret = await secrets.read();
      if (!secret) {
        const created = this.#secret(await this.#fresh());
        try {
          secret = await secrets.create(created);
          logger.info({ secret: this.#o.secretName }, 'created the webhook CA and serving certificate');
        } catch (err) {
          if (!isConflict(err)) throw err;
          logger.info('another replica created the webhook certificate first; using it');
          continue;
        }
      }
      if (secret.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) {
        throw new Error(
          `Secret ${this.#o.namespace}/${this.#o.secretName} exists but was not created by kubeOP; delete it or choose another name with KUBEOP_WEBHOOK_CERT_SECRET`,
        );
      }
      const state = stateFromSecret(secret);
      const published = state.nextCert ? await isPublished(state.nextCert) : false;
      const plan = planRotation(state, this.#now(), this.#o.policy, this.#o.names, published);
      if (plan.action === 'none') return this.#material(state);
      const next = await this.#apply(state, plan);
      try {
        await secrets.update(this.#secret(next, secret));
        logger.info({ action: plan.action, reason: plan.reason }, 'webhook certificate rotation step');
        this.#o.onRotated?.(plan.action);
      } catch (err) {
        if (!isConflict(err)) throw err;
        logger.info(
          { action: plan.action },
          'another replica changed the webhook certificate first; re-reading',
        );
      }
    }
    throw new Error('webhook certificate: too many concurrent changes; will retry');
  }

  #material(state: CertState): ServingMaterial {
    const leaf = certInfo(state.tlsCert);
    return {
      certPem: state.tlsCert,
      keyPem: state.tlsKey,
      caBundlePem: caBundle(state, this.#now()),
      notAfter: leaf.notAfter,
      fingerprint: leaf.fingerprint,
    };
  }
}
