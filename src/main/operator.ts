import { startOperator } from '../operator/operator.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import type { ServiceContext } from './service.ts';

/**
 * Composition root of the operator: the cluster connection, caches, controllers and leader
 * election. `kubeop operator` needs a cluster; `kubeop all` runs without one and says so.
 */
export function operatorSetup(opts: { requireCluster: boolean; env: Record<string, string | undefined> }) {
  return async function setupOperator(ctx: ServiceContext): Promise<void> {
    const { config, logger } = ctx;
    const kc = loadKubeConfig(config.KUBEOP_KUBECONFIG, opts.env);
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
    logger.info({ server: kc.getCurrentCluster()?.server }, 'operator: connecting to the cluster');
    const operator = await startOperator({
      kc,
      logger: logger.child({ component: 'operator' }),
      registry: ctx.metrics.registry,
      workers: config.KUBEOP_OPERATOR_WORKERS,
      resyncMs: config.KUBEOP_RESYNC_SECONDS * 1000,
      leaderElection: config.KUBEOP_LEADER_ELECT
        ? { namespace: config.KUBEOP_LEADER_ELECTION_NAMESPACE }
        : false,
      render: { ingressNamespace: config.KUBEOP_INGRESS_NAMESPACE },
      onLostLeadership: () => {
        logger.error('operator lost its leader lease; exiting so a clean process takes over');
        void ctx.lifecycle.shutdown('lost leadership').then(() => process.exit(1));
      },
    });
    ctx.lifecycle.onShutdown('operator', () => operator.stop());
    ctx.health.addReadiness('kubernetes-caches', () => {
      if (!operator.synced()) throw new Error('operator caches have not synced');
    });
  };
}
