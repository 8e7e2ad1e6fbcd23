import type { KubeConfig } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import { SharedInformers } from '../kube/cache.ts';
import { KubeTransport } from '../kube/transport.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import type { ComponentSetup } from './service.ts';

/**
 * One process's connection to its cluster: the KubeConfig, the one transport and the one informer cache every
 * component of the process reads (operator, metering, admission). Filled by `clusterSetup`; both
 * stay undefined when no cluster is configured, and each component then says what it does without.
 */
export interface ClusterConnection {
  kc?: KubeConfig;
  /** The one HTTP transport to the API server: every client and informer of the process uses it. */
  transport?: KubeTransport;
  informers?: SharedInformers;
}

/**
 * Connects the process to its cluster. Must come before the setups that use the connection: the
 * lifecycle closes in reverse order, so the informers stop after every component reading them.
 */
export function clusterSetup(
  conn: ClusterConnection,
  env: Record<string, string | undefined>,
): ComponentSetup {
  return async function setupCluster(ctx) {
    const kc = loadKubeConfig(ctx.config.KUBEOP_KUBECONFIG, env);
    if (!kc) return;
    const transport = new KubeTransport(kc);
    const informers = SharedInformers.forCluster(transport, {
      logger: ctx.logger.child({ component: 'informers' }),
      resyncPeriodMs: ctx.config.KUBEOP_RESYNC_SECONDS * 1000,
    });
    // One series per list-watch the process keeps open, so "how often is X watched" is observable.
    new Gauge({
      name: 'kubeop_informer_objects',
      help: 'Objects held by each informer of the process, one series per list-watch it keeps open.',
      labelNames: ['resource', 'namespace', 'selector'] as const,
      registers: [ctx.metrics.registry],
      collect() {
        this.reset();
        for (const { ref, objects } of informers.stats()) {
          this.set(
            {
              resource: `${ref.apiVersion}/${ref.kind}`,
              namespace: ref.namespace ?? '',
              selector: ref.labelSelector ?? '',
            },
            objects,
          );
        }
      },
    });
    conn.kc = kc;
    conn.transport = transport;
    conn.informers = informers;
    ctx.lifecycle.onShutdown('informers', async () => informers.stop());
  };
}
