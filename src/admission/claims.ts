import { createHash } from 'node:crypto';
import { isConflict, isNotFound, type KubeClient } from '../kube/client.ts';
import { resourcePath, resourceType } from '../kube/resources.ts';
import type { Logger } from '../platform/logging.ts';
import type { Store } from '../kube/store.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import type { TenancyView } from './tenancy.ts';

/**
 * Hostname ownership that holds under concurrency. The cache-based `hostname-owner` rule cannot stop
 * two tenants that claim one new hostname within the watch delay; this can. Each hostname a tenant
 * starts using is recorded as a Lease in kubeOP's namespace, named by a hash of the hostname, whose
 * holder is the tenant. Creating an object is atomic in the API server: of two concurrent claims
 * exactly one create succeeds and the other sees the winner.
 *
 * Contracts:
 * - a claim held by the same tenant is reused (no write when the cache already shows it);
 * - a claim is taken over only when it is stale: its holder uses the hostname nowhere (per the
 *   cache) and it is older than `graceMs`, which is far longer than the watch delay, so an object that
 *   was just admitted under a claim (and is not in the cache yet) keeps it;
 * - the takeover and the sweep delete with a UID and resourceVersion precondition, so a claim renewed
 *   or replaced meanwhile is never removed;
 * - dry-run requests only read; they never create a claim.
 */
export const CLAIM_LABEL = 'paas.kubeop.io/hostname-claim';
export const CLAIM_HOST_ANNOTATION = 'paas.kubeop.io/hostname';

/** The Lease name of a hostname: DNS-1123, stable, and the same for every replica. */
export function claimName(host: string): string {
  return `host-${createHash('sha256').update(host.toLowerCase()).digest('hex').slice(0, 40)}`;
}

export interface ClaimRequest {
  tenant: string;
  hosts: string[];
}

/** The read side of the claims cache (an informer on the claim Leases). */
export type ClaimStore = Pick<Store, 'get' | 'list'>;

export interface HostnameClaimsOptions {
  client: KubeClient;
  namespace: string;
  store: ClaimStore;
  view: TenancyView;
  logger: Logger;
  graceMs?: number;
  now?: () => Date;
}

const holderOf = (lease: KubeObject | undefined) =>
  (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

export class HostnameClaims {
  readonly #o: HostnameClaimsOptions;
  readonly #graceMs: number;
  readonly #now: () => Date;

  constructor(opts: HostnameClaimsOptions) {
    this.#o = opts;
    this.#graceMs = opts.graceMs ?? 120_000;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Claims every host for the tenant; resolves to the hosts another tenant holds (empty: all claimed). */
  async claim(req: ClaimRequest, dryRun = false): Promise<string[]> {
    const taken: string[] = [];
    for (const host of new Set(req.hosts.map((h) => h.toLowerCase()))) {
      if (!(await this.#claimOne(req.tenant, host, dryRun))) taken.push(host);
    }
    return taken;
  }

  async #claimOne(tenant: string, host: string, dryRun: boolean): Promise<boolean> {
    const name = claimName(host);
    const cached = this.#o.store.get(`${this.#o.namespace}/${name}`);
    if (holderOf(cached) === tenant) return true;
    if (dryRun) return cached === undefined || this.#isStale(cached, host);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#o.client.request('POST', this.#path(), { body: this.#render(name, host, tenant) });
        this.#o.logger.info({ host, tenant }, 'hostname claimed');
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      let live: KubeObject;
      try {
        live = await this.#o.client.get({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          namespace: this.#o.namespace,
          name,
        });
      } catch (err) {
        if (isNotFound(err)) continue; // released meanwhile: create again
        throw err;
      }
      if (holderOf(live) === tenant) return true;
      if (!this.#isStale(live, host)) return false;
      await this.#release(live);
    }
    return false;
  }

  /** Deletes claims whose holder no longer uses their hostname, past the grace period. */
  async sweep(): Promise<number> {
    let released = 0;
    for (const lease of this.#o.store.list()) {
      const host = lease.metadata.annotations?.[CLAIM_HOST_ANNOTATION];
      if (!host || !this.#isStale(lease, host)) continue;
      if (await this.#release(lease)) released++;
    }
    return released;
  }

  #isStale(lease: KubeObject, host: string): boolean {
    const holder = holderOf(lease);
    if (holder && this.#o.view.hostClaims(host).some((c) => c.tenant === holder)) return false;
    const since = Date.parse(lease.metadata.creationTimestamp ?? '');
    return !Number.isFinite(since) || this.#now().getTime() - since > this.#graceMs;
  }

  async #release(lease: KubeObject): Promise<boolean> {
    try {
      await this.#o.client.request('DELETE', this.#path(lease.metadata.name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: lease.metadata.uid, resourceVersion: lease.metadata.resourceVersion },
        },
      });
      this.#o.logger.info(
        { host: lease.metadata.annotations?.[CLAIM_HOST_ANNOTATION], tenant: holderOf(lease) },
        'stale hostname claim released',
      );
      return true;
    } catch (err) {
      // Gone, or changed since it was read (precondition failed): either way not ours to delete.
      if (isNotFound(err) || isConflict(err)) return false;
      throw err;
    }
  }

  #path(name?: string): string {
    return resourcePath(resourceType('coordination.k8s.io/v1', 'Lease'), this.#o.namespace, name);
  }

  #render(name: string, host: string, tenant: string): KubeObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.#o.namespace,
        labels: { [CLAIM_LABEL]: 'true' },
        annotations: { [CLAIM_HOST_ANNOTATION]: host },
      },
      spec: { holderIdentity: tenant },
    };
  }
}
