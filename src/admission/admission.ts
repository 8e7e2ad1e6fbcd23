import type { AddressInfo } from 'node:net';
import { isNotFound, type KubeClient } from '../kube/client.ts';
import type { Logger } from '../platform/logging.ts';
import type { CertificateSource, ServingMaterial } from './certificates/source.ts';
import {
  CONFIG_HASH_ANNOTATION,
  liveCaBundles,
  MUTATING_CONFIGURATION,
  renderWebhookConfigurations,
  VALIDATING_CONFIGURATION,
  type WebhookEndpoint,
} from './configurations.ts';
import type { TrustedIdentities } from './identity.ts';
import type { AdmissionMetrics } from './metrics.ts';
import type { RuleContext } from './rules/context.ts';
import { WebhookServer, type Claimer } from './server.ts';
import type { TenancyView } from './tenancy.ts';
import { WEBHOOKS } from './webhooks.ts';

export const FIELD_MANAGER = 'kubeop-admission';

/**
 * Deletes kubeOP's webhook configurations (absent ones are fine). For a process that served them
 * alone and stops (`kubeop all`), and for tests; never for one replica of several.
 */
export async function removeWebhookConfigurations(client: KubeClient): Promise<void> {
  const apiVersion = 'admissionregistration.k8s.io/v1';
  await client.delete({ apiVersion, kind: 'ValidatingWebhookConfiguration', name: VALIDATING_CONFIGURATION });
  await client.delete({ apiVersion, kind: 'MutatingWebhookConfiguration', name: MUTATING_CONFIGURATION });
}

export interface AdmissionOptions {
  /** Reads and writes the certificate Secret and the webhook configurations (field manager kubeop-admission). */
  client: KubeClient;
  view: TenancyView;
  source: CertificateSource;
  listen: { host: string; port: number };
  /** How the API server reaches this server; a function gets the bound port (port 0 in tests). */
  endpoint: WebhookEndpoint | ((port: number) => WebhookEndpoint);
  systemNamespace: string;
  trusted: TrustedIdentities;
  imagePullPolicy: RuleContext['imagePullPolicy'];
  timeoutSeconds: number;
  /** How often the certificate is checked (rotation, other replicas' changes) and the configurations kept current. */
  checkIntervalMs: number;
  logger: Logger;
  metrics?: AdmissionMetrics;
  /** Atomic hostname claims; `sweep` runs with every periodic check to release unused ones. */
  claims?: Claimer & { sweep(): Promise<number> };
}

export interface RunningAdmission {
  address: AddressInfo;
  endpoint: WebhookEndpoint;
  /** The serving certificate in use. */
  material(): ServingMaterial;
  /** One certificate check and configuration update, as the periodic loop does. */
  reconcileOnce(): Promise<void>;
  /** Why the last periodic check failed, or undefined when it passed (reported in readiness). */
  checkProblem(): string | undefined;
  stop(): Promise<void>;
}

async function findConfig(client: KubeClient, kind: string, name: string) {
  try {
    return await client.get({ apiVersion: 'admissionregistration.k8s.io/v1', kind, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Starts the webhooks: certificate, HTTPS server, webhook configurations, and the loop that keeps
 * them current. Contracts:
 * - the server listens only once a certificate is loaded, and the configurations are written only
 *   once the server listens, so the API server is never pointed at nothing;
 * - every check re-reads the certificate source; a changed certificate is served for new
 *   connections at once; the configurations are re-applied only when their rendered content (CA
 *   bundle included) differs from the live one, so converged replicas write nothing;
 * - a failed check is logged and retried on the next one; it never stops serving;
 * - `stop` ends the loop and closes the server; the configurations stay (other replicas, or this
 *   one after a restart, keep serving them — removing them would silently lift the guardrails).
 */
export async function startAdmission(opts: AdmissionOptions): Promise<RunningAdmission> {
  const { client, logger, metrics } = opts;
  const ctx: RuleContext = { view: opts.view, trusted: opts.trusted, imagePullPolicy: opts.imagePullPolicy };
  const configs = [
    { kind: 'ValidatingWebhookConfiguration', name: VALIDATING_CONFIGURATION },
    { kind: 'MutatingWebhookConfiguration', name: MUTATING_CONFIGURATION },
  ];

  const isPublished = async (caPem: string) => {
    for (const { kind, name } of configs) {
      const live = await findConfig(client, kind, name);
      const bundles = live ? liveCaBundles(live) : [];
      if (!bundles.length || !bundles.every((b) => b.includes(caPem.trim()))) return false;
    }
    return true;
  };

  let material = await opts.source.reconcile(isPublished);
  metrics?.certificateExpiry.set(material.notAfter.getTime() / 1000);
  const server = new WebhookServer({
    routes: WEBHOOKS.map((w) => ({
      name: w.name,
      path: w.path,
      family: w.family,
      ...(w.claims ? { claims: w.claims } : {}),
    })),
    ctx,
    ...(opts.claims ? { claimer: opts.claims } : {}),
    logger,
    ...(metrics ? { metrics } : {}),
    tls: material,
  });
  const address = await server.listen(opts.listen.host, opts.listen.port);
  const endpoint = typeof opts.endpoint === 'function' ? opts.endpoint(address.port) : opts.endpoint;
  logger.info(
    { address: `${address.address}:${address.port}`, endpoint },
    'admission webhooks listening (HTTPS)',
  );

  const ensureConfigurations = async (caBundlePem: string) => {
    const desired = renderWebhookConfigurations({
      endpoint,
      caBundlePem,
      systemNamespace: opts.systemNamespace,
      trusted: opts.trusted,
      timeoutSeconds: opts.timeoutSeconds,
    });
    for (const obj of desired) {
      const live = await findConfig(client, obj.kind, obj.metadata.name);
      const hash = obj.metadata.annotations?.[CONFIG_HASH_ANNOTATION];
      if (live?.metadata.annotations?.[CONFIG_HASH_ANNOTATION] === hash) continue;
      await client.apply(obj, { force: true });
      logger.info({ kind: obj.kind, name: obj.metadata.name }, 'webhook configuration applied');
    }
  };

  const reconcileOnce = async () => {
    const next = await opts.source.reconcile(isPublished);
    if (next.fingerprint !== material.fingerprint) {
      server.setCertificate(next);
      logger.info({ notAfter: next.notAfter.toISOString() }, 'serving a new webhook certificate');
    }
    material = next;
    metrics?.certificateExpiry.set(material.notAfter.getTime() / 1000);
    await ensureConfigurations(material.caBundlePem);
    await opts.claims?.sweep();
  };

  try {
    await ensureConfigurations(material.caBundlePem);
  } catch (err) {
    await server.close();
    throw err;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let checkProblem: string | undefined;
  // A failed check never ends the process: the current certificate keeps serving until it expires,
  // the next check retries, and checkProblem() reports it meanwhile.
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = reconcileOnce()
        .then(() => (checkProblem = undefined))
        .catch((err: unknown) => {
          checkProblem = `the last webhook certificate check failed: ${(err as Error).message}`;
          logger.warn({ err }, 'webhook certificate check failed; retrying at the next one');
        })
        .finally(schedule);
    }, opts.checkIntervalMs);
    timer.unref();
  };
  schedule();

  return {
    address,
    endpoint,
    material: () => material,
    reconcileOnce,
    checkProblem: () => checkProblem,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await server.close();
    },
  };
}
