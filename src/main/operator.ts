import { imageSource, exposureFromConfig } from '../delivery/image/source.ts';
import { rawSource } from '../delivery/raw.ts';
import { gitSourceFromConfig } from '../delivery/git/from-config.ts';
import { helmSourceFromConfig } from '../delivery/helm/from-config.ts';
import { registerGitWebhook } from '../operator/git-webhook.ts';
import { startMetering } from '../operator/metering/metering.ts';
import { httpSink } from '../operator/metering/sender.ts';
import type { ClusterConnection } from './cluster.ts';
import type { InProcessLink } from './in-process.ts';
import { installMissingCrds } from './install-crds.ts';
import { startOperator } from '../operator/operator.ts';
import { ConfigError, projectComputeQuota } from '../platform/config.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import type { ServiceContext } from './service.ts';
import { apiServerProbe, leadershipCheck } from '../operator/runtime/readiness.ts';

/**
 * Composition root of the operator: the cluster connection, caches, controllers and leader
 * election. `kubeop operator` needs a cluster; `kubeop all` runs without one and says so.
 */
export function operatorSetup(opts: {
  requireCluster: boolean;
  env: Record<string, string | undefined>;
  /** `kubeop all`: the manager in the same process, for metering without a URL or token. */
  link?: InProcessLink;
  /** `kubeop all`: install the CRDs and system namespace a bare cluster lacks. */
  installCrds?: boolean;
  /** The process's cluster connection (clusterSetup); without it the operator connects on its own. */
  cluster?: ClusterConnection;
  /**
   * `kubeop all`: the process also serves the manager API. A lost lease then stops the controllers
   * and campaigns again instead of exiting, and the operator's readiness checks degrade the
   * process instead of failing it (platform/health.ts says why).
   */
  alongsideApi?: boolean;
}) {
  return async function setupOperator(ctx: ServiceContext): Promise<void> {
    const { config, logger } = ctx;
    if (config.KUBEOP_MANAGER_URL && !config.KUBEOP_METERING_TOKEN)
      throw new ConfigError(
        'KUBEOP_METERING_TOKEN',
        'KUBEOP_MANAGER_URL is set: KUBEOP_METERING_TOKEN (a metering token) is required to send usage',
      );
    const kc = opts.cluster ? opts.cluster.kc : loadKubeConfig(config.KUBEOP_KUBECONFIG, opts.env);

    if (!kc) {
      if (opts.requireCluster) {
        throw new Error(
          'no cluster configured: set KUBEOP_KUBECONFIG or KUBECONFIG, or run inside a cluster',
        );
      }
      logger.warn(
        'no cluster configured (KUBEOP_KUBECONFIG, KUBECONFIG, in-cluster): the operator is not running',
      );
      return;
    }
    // The operator and metering share the process's transport and informer cache, when it has them.
    const connection = { kc, informers: opts.cluster?.informers, transport: opts.cluster?.transport };
    logger.info({ server: kc.getCurrentCluster()?.server }, 'operator: connecting to the cluster');
    if (opts.installCrds) await installMissingCrds(kc, config.KUBEOP_WEBHOOK_NAMESPACE, logger);
    const operator = await startOperator({
      ...connection,
      logger: logger.child({ component: 'operator' }),
      registry: ctx.metrics.registry,
      workers: config.KUBEOP_OPERATOR_WORKERS,
      resyncMs: config.KUBEOP_RESYNC_SECONDS * 1000,
      leaderElection: config.KUBEOP_LEADER_ELECT
        ? { namespace: config.KUBEOP_LEADER_ELECTION_NAMESPACE }
        : false,
      render: {
        ingressNamespace: config.KUBEOP_INGRESS_NAMESPACE,
        projectComputeQuota: projectComputeQuota(config),
      },
      delivery: {
        // Each source type is one entry; a type left out makes its Apps report RenderFailed.
        sources: {
          image: imageSource(exposureFromConfig(config)),
          raw: rawSource(),
          git: gitSourceFromConfig(config, opts.env),
          helm: helmSourceFromConfig(config, kc),
        },
        resyncMs: config.KUBEOP_APP_RESYNC_SECONDS * 1000,
      },
      // Standalone, a lost lease ends the process and its supervisor (Kubernetes) restarts it
      // clean; alongside the API, the operator campaigns again and the API keeps serving.
      ...(opts.alongsideApi
        ? {}
        : {
            onLostLeadership: () => {
              logger.error('operator lost its leader lease; exiting so a clean process takes over');
              void ctx.lifecycle.shutdown('lost leadership').then(() => process.exit(1));
            },
          }),
    });
    const degrades = { degrades: Boolean(opts.alongsideApi) };
    ctx.lifecycle.onShutdown('operator', () => operator.stop());
    // Usage metering needs somewhere to send it: the manager at KUBEOP_MANAGER_URL (with a metering
    // token), or the manager in this very process under `kubeop all`.
    const sink =
      config.KUBEOP_MANAGER_URL && config.KUBEOP_METERING_TOKEN
        ? httpSink(config.KUBEOP_MANAGER_URL, config.KUBEOP_METERING_TOKEN)
        : opts.link?.usage;
    if (sink) {
      const metering = await startMetering({
        ...connection,
        logger: logger.child({ component: 'metering' }),
        registry: ctx.metrics.registry,
        cluster: config.KUBEOP_CLUSTER_NAME,
        intervalSeconds: config.KUBEOP_METERING_INTERVAL_SECONDS,
        sink,
        bufferSize: config.KUBEOP_METERING_BUFFER_EVENTS,
        isLeader: () => operator.isLeader(),
      });
      ctx.lifecycle.onShutdown('metering', () => metering.stop());
      // Metering never makes a process unready: usage waits in its buffer until it can be sent.
      ctx.health.addReadiness(
        'metering',
        () => {
          const problem = metering.problem();
          if (problem) throw new Error(problem);
        },
        { degrades: true },
      );
      logger.info(
        {
          to: config.KUBEOP_MANAGER_URL ?? 'this process',
          intervalSeconds: config.KUBEOP_METERING_INTERVAL_SECONDS,
        },
        'metering: sending usage to the manager',
      );
    } else {
      logger.info(
        'metering off: set KUBEOP_MANAGER_URL and KUBEOP_METERING_TOKEN to send usage to a manager',
      );
    }
    // POST /hooks/git exists only with a secret: an unauthenticated sync trigger is never served.
    if (config.KUBEOP_GIT_WEBHOOK_SECRET) {
      registerGitWebhook(ctx.app, {
        secret: config.KUBEOP_GIT_WEBHOOK_SECRET,
        trigger: (url) => operator.triggerGitSync(url),
      });
    }
    ctx.health.addReadiness(
      'kubernetes-caches',
      () => {
        if (!operator.synced()) throw new Error('operator caches have not synced');
      },
      degrades,
    );
    ctx.health.addReadiness(
      'kubernetes-api',
      apiServerProbe(kc, config.KUBEOP_READINESS_CHECK_TIMEOUT_MS),
      degrades,
    );
    if (opts.alongsideApi && config.KUBEOP_LEADER_ELECT) {
      ctx.health.addReadiness('operator-leadership', () => leadershipCheck(operator.leadership()), {
        degrades: true,
      });
    }
  };
}
