import type { KubeConfig } from '@kubernetes/client-node';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../domain/naming.ts';
import { isNotFound, KubeClient, type KubeTransport } from '../kube/client.ts';
import { parseListenAddress } from '../platform/address.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logging.ts';
import {
  FIELD_MANAGER,
  removeWebhookConfigurations,
  startAdmission,
  type RunningAdmission,
} from '../admission/admission.ts';
import { CLAIM_LABEL, HostnameClaims, type ClaimStore } from '../admission/claims.ts';
import { CertManagerCertificates, parseIssuerRef } from '../admission/certificates/cert-manager.ts';
import type { ServingNames } from '../admission/certificates/material.ts';
import type { RotationPolicy } from '../admission/certificates/rotation.ts';
import { kubeSecretStore, SelfManagedCertificates } from '../admission/certificates/self-managed.ts';
import type { CertificateSource } from '../admission/certificates/source.ts';
import type { WebhookEndpoint } from '../admission/configurations.ts';
import { createAdmissionMetrics } from '../admission/metrics.ts';
import {
  appHosts,
  HOST_INDEX,
  httpRouteHosts,
  ingressHosts,
  storeTenancyView,
  type TenancyView,
} from '../admission/tenancy.ts';
import { SharedInformers, type SharedInformer } from '../kube/cache.ts';
import type { ClusterConnection } from './cluster.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import type { ServiceContext } from './service.ts';

export interface TenancyCaches {
  view: TenancyView;
  /** The hostname claim Leases in kubeOP's namespace (see admission/claims.ts). */
  claims: ClaimStore;
  synced(): boolean;
  stop(): void;
}

/**
 * The caches admission decisions read: Tenants, Projects, kubeOP namespaces, and every Ingress,
 * HTTPRoute (when the Gateway API is installed) and App indexed by hostname. Resolves once synced.
 * Read from `shared`, the process's informer cache, when given (`kubeop all` shares Tenants,
 * Projects, Apps and Namespaces with the operator); `stop()` then leaves it running for its owner.
 */
export async function startTenancyCaches(
  kc: KubeConfig,
  logger: Logger,
  resyncMs = 600_000,
  systemNamespace = 'kubeop-system',
  shared?: SharedInformers,
  transport?: KubeTransport,
): Promise<TenancyCaches> {
  const client = new KubeClient(transport ?? kc, { fieldManager: FIELD_MANAGER });
  const cache = shared ?? SharedInformers.forCluster(kc, { logger, resyncPeriodMs: resyncMs });
  const informers: SharedInformer[] = [];
  const informer = (
    apiVersion: string,
    kind: string,
    opts: { labelSelector?: string; hosts?: (o: unknown) => string[]; namespace?: string } = {},
  ) => {
    const inf = cache.informer({
      apiVersion,
      kind,
      labelSelector: opts.labelSelector,
      namespace: opts.namespace,
    });
    if (opts.hosts) inf.addIndex(HOST_INDEX, opts.hosts);
    informers.push(inf);
    return inf;
  };
  const gatewayApi = await client.request('GET', '/apis/gateway.networking.k8s.io/v1').then(
    () => true,
    (err: unknown) => {
      if (isNotFound(err)) return false;
      throw err;
    },
  );
  const hosts = [
    { kind: 'Ingress', store: informer('networking.k8s.io/v1', 'Ingress', { hosts: ingressHosts }) },
    { kind: 'App', store: informer('paas.kubeop.io/v1alpha1', 'App', { hosts: appHosts }) },
  ];
  if (gatewayApi) {
    hosts.push({
      kind: 'HTTPRoute',
      store: informer('gateway.networking.k8s.io/v1', 'HTTPRoute', { hosts: httpRouteHosts }),
    });
  } else {
    logger.info('Gateway API not installed: HTTPRoute hostnames are not tracked');
  }
  const view = storeTenancyView({
    tenants: informer('paas.kubeop.io/v1alpha1', 'Tenant'),
    projects: informer('paas.kubeop.io/v1alpha1', 'Project'),
    namespaces: informer('v1', 'Namespace', { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` }),
    hosts,
  });
  const claims = informer('coordination.k8s.io/v1', 'Lease', {
    namespace: systemNamespace,
    labelSelector: `${CLAIM_LABEL}=true`,
  });
  await Promise.all(informers.map((inf) => inf.waitForSync()));
  return {
    view,
    claims,
    synced: () => informers.every((i) => i.hasSynced()),
    stop: () => {
      if (!shared) cache.stop();
    },
  };
}

/** Names the serving certificate must carry: the Service's DNS names, loopback, and the URL host. */
export function servingNames(config: Config): ServingNames {
  const svc = config.KUBEOP_WEBHOOK_SERVICE;
  const ns = config.KUBEOP_WEBHOOK_NAMESPACE;
  const dnsNames = [`${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`, `${svc}.${ns}`, 'localhost'];
  const ipAddresses = ['127.0.0.1'];
  if (config.KUBEOP_WEBHOOK_URL) {
    const host = new URL(config.KUBEOP_WEBHOOK_URL).hostname.replace(/^\[|\]$/g, '');
    if (/^[\d.]+$/.test(host) || host.includes(':')) {
      if (!ipAddresses.includes(host)) ipAddresses.push(host);
    } else if (!dnsNames.includes(host)) dnsNames.unshift(host);
  }
  return { dnsNames, ipAddresses };
}

export function rotationPolicy(config: Config): RotationPolicy {
  const caValidityMs = config.KUBEOP_WEBHOOK_CA_VALIDITY_DAYS * 86_400_000;
  return {
    leafValidityMs: config.KUBEOP_WEBHOOK_CERT_VALIDITY_HOURS * 3_600_000,
    caValidityMs,
    overlapMs: Math.min(
      Math.max(10 * 60_000, 3 * config.KUBEOP_WEBHOOK_CHECK_SECONDS * 1000),
      caValidityMs / 6,
    ),
  };
}

function certificateSource(
  config: Config,
  client: KubeClient,
  logger: Logger,
  onRotated: (a: string) => void,
): CertificateSource {
  const common = {
    client,
    namespace: config.KUBEOP_WEBHOOK_NAMESPACE,
    secretName: config.KUBEOP_WEBHOOK_CERT_SECRET,
    names: servingNames(config),
    logger,
  };
  if (config.KUBEOP_WEBHOOK_CERT_SOURCE === 'cert-manager') {
    const issuer = parseIssuerRef(config.KUBEOP_WEBHOOK_CERT_ISSUER ?? '');
    if (!issuer) {
      throw new Error(
        'KUBEOP_WEBHOOK_CERT_SOURCE=cert-manager needs KUBEOP_WEBHOOK_CERT_ISSUER (ClusterIssuer/<name> or Issuer/<name>)',
      );
    }
    return new CertManagerCertificates({
      ...common,
      issuer,
      leafValidityHours: config.KUBEOP_WEBHOOK_CERT_VALIDITY_HOURS,
    });
  }
  return new SelfManagedCertificates({
    ...common,
    secrets: kubeSecretStore(client, common.namespace, common.secretName),
    policy: rotationPolicy(config),
    onRotated,
  });
}

function endpointFor(
  config: Config,
  env: Record<string, string | undefined>,
): WebhookEndpoint | ((port: number) => WebhookEndpoint) {
  if (config.KUBEOP_WEBHOOK_URL) return { url: config.KUBEOP_WEBHOOK_URL };
  if (env.KUBERNETES_SERVICE_HOST) {
    return {
      service: { namespace: config.KUBEOP_WEBHOOK_NAMESPACE, name: config.KUBEOP_WEBHOOK_SERVICE, port: 443 },
    };
  }
  return (port) => ({ url: `https://127.0.0.1:${port}` });
}

export interface AdmissionSetupOptions {
  env?: Record<string, string | undefined>;
  /** Called once the webhooks serve (tests read the bound address from it). */
  onStarted?: (admission: RunningAdmission) => void;
  /**
   * `kubeop all`: remove the webhook configurations on shutdown. A single development process that
   * stops would otherwise leave the cluster calling a webhook that is gone (failurePolicy Fail).
   * Never for `kubeop admission`, whose other replicas keep serving.
   */
  removeConfigurationsOnStop?: boolean;
  /** The process's cluster connection (clusterSetup); without it admission connects on its own. */
  cluster?: ClusterConnection;
  /**
   * `kubeop all`: the process also serves the manager API, so admission's readiness checks degrade
   * the process instead of failing it (platform/health.ts).
   */
  alongsideApi?: boolean;
}

/**
 * Composition root of the admission webhooks: cluster connection, caches, certificate source, the
 * HTTPS webhook server on KUBEOP_WEBHOOK_ADDR and the webhook configurations. Without a cluster it
 * says it is idle and the rest of the process runs (`kubeop all` on a laptop).
 */
export function admissionSetup(opts: AdmissionSetupOptions = {}) {
  return async function setupAdmissionWebhooks(ctx: ServiceContext): Promise<void> {
    const { config, logger } = ctx;
    const env = opts.env ?? process.env;
    const kc = opts.cluster ? opts.cluster.kc : loadKubeConfig(config.KUBEOP_KUBECONFIG, env);
    if (!kc) {
      logger.warn(
        'no cluster configured (KUBEOP_KUBECONFIG, KUBECONFIG, in-cluster): admission webhooks are idle',
      );
      return;
    }
    const listen = parseListenAddress(config.KUBEOP_WEBHOOK_ADDR);
    if (!listen) throw new Error(`KUBEOP_WEBHOOK_ADDR is invalid: ${config.KUBEOP_WEBHOOK_ADDR}`);
    const log = logger.child({ component: 'admission' });
    const metrics = createAdmissionMetrics(ctx.metrics.registry);
    const caches = await startTenancyCaches(
      kc,
      log,
      config.KUBEOP_RESYNC_SECONDS * 1000,
      config.KUBEOP_WEBHOOK_NAMESPACE,
      opts.cluster?.informers,
      opts.cluster?.transport,
    );
    ctx.lifecycle.onShutdown('admission-caches', async () => caches.stop());
    const client = new KubeClient(opts.cluster?.transport ?? kc, { fieldManager: FIELD_MANAGER });
    const admission = await startAdmission({
      client,
      view: caches.view,
      source: certificateSource(config, client, log, (action) => metrics.rotations.inc({ action })),
      listen,
      endpoint: endpointFor(config, env),
      systemNamespace: config.KUBEOP_WEBHOOK_NAMESPACE,
      trusted: {
        operatorUsername: config.KUBEOP_OPERATOR_USERNAME,
        managerUsername: config.KUBEOP_MANAGER_USERNAME,
      },
      imagePullPolicy: config.KUBEOP_IMAGE_PULL_POLICY,
      timeoutSeconds: config.KUBEOP_WEBHOOK_TIMEOUT_SECONDS,
      checkIntervalMs: config.KUBEOP_WEBHOOK_CHECK_SECONDS * 1000,
      logger: log,
      metrics,
      claims: new HostnameClaims({
        client,
        namespace: config.KUBEOP_WEBHOOK_NAMESPACE,
        store: caches.claims,
        view: caches.view,
        logger: log,
      }),
    });
    ctx.lifecycle.onShutdown('admission', async () => {
      await admission.stop();
      if (opts.removeConfigurationsOnStop) {
        await removeWebhookConfigurations(client);
        log.info('webhook configurations removed: this process served them alone');
      }
    });
    const degrades = { degrades: Boolean(opts.alongsideApi) };
    ctx.health.addReadiness(
      'admission-caches',
      () => {
        if (!caches.synced()) throw new Error('admission caches have not synced');
      },
      degrades,
    );
    ctx.health.addReadiness(
      'webhook-certificate',
      () => {
        if (admission.material().notAfter.getTime() <= Date.now())
          throw new Error('the serving certificate has expired');
      },
      degrades,
    );
    // A failing periodic check is a warning while the certificate in use is still valid.
    ctx.health.addReadiness(
      'webhook-certificate-check',
      () => {
        const problem = admission.checkProblem();
        if (problem) throw new Error(problem);
      },
      { degrades: true },
    );
    opts.onStarted?.(admission);
  };
}
