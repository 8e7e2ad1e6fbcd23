import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { SharedInformers, type SharedInformer } from '../kube/cache.ts';
import type { InformerRef } from '../kube/informer.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { KubeClient, type KubeTransport } from '../kube/client.ts';
import { kubeEventRecorder } from '../kube/events.ts';
import type { Logger } from '../platform/logging.ts';
import { appController } from './controllers/app/index.ts';
import type { DeliverySources } from './controllers/app/controller.ts';
import type { ControllerDeps } from './controllers/deps.ts';
import { projectController } from './controllers/project/index.ts';
import type { ProjectRenderOptions } from './controllers/project/render.ts';
import { tenantController } from './controllers/tenant/index.ts';
import type { ControllerDeclaration } from './runtime/builder.ts';
import { Controller } from './runtime/controller.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { Leadership, type LeadershipStatus } from './runtime/leadership.ts';
import { createRuntimeMetrics } from './runtime/runtime-metrics.ts';

export const FIELD_MANAGER = 'kubeop-operator';

export interface OperatorOptions {
  kc: KubeConfig;
  /** The process's informer cache (shared with admission and metering); its own when absent. */
  informers?: SharedInformers | undefined;
  /** The process's transport to the API server; one of its own when absent. */
  transport?: KubeTransport | undefined;
  logger: Logger;
  registry: Registry;
  workers: number;
  resyncMs: number;
  leaderElection:
    | false
    | {
        namespace: string;
        identity?: string;
        leaseDurationMs?: number;
        renewDeadlineMs?: number;
        retryPeriodMs?: number;
      };
  render: ProjectRenderOptions;
  /** App delivery: the sources this operator renders, and how often each App is reconciled anyway. */
  delivery?: { sources: DeliverySources; resyncMs?: number };
  /**
   * Called when leadership is lost, after the controllers stopped: the standalone operator exits
   * so it restarts clean (as controller-runtime does). Left out (`kubeop all`), the operator keeps
   * its caches and campaigns again.
   */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  /** True once every cache has synced. */
  synced(): boolean;
  isLeader(): boolean;
  /** Where leader election stands (always leading without leader election). */
  leadership(): LeadershipStatus;
  /** Renders again, now, every App whose spec.source.git.url is `repoUrl`; returns how many (the Git webhook). */
  triggerGitSync(repoUrl: string): number;
  stop(): Promise<void>;
}

/**
 * Assembles the operator: one informer per watched kind (caches always run, so a standby is warm
 * when it takes over), the Tenant, Project and App controllers, and the event-to-key mapping between them.
 * Controllers run only while this process leads.
 */
export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const { kc, logger } = opts;
  const writes = new Counter({
    name: 'kubeop_kube_writes_total',
    help: 'Writes the operator sent to the API server, by verb and kind.',
    labelNames: ['verb', 'kind'] as const,
    registers: [opts.registry],
  });
  const drift = new Counter({
    name: 'kubeop_drift_corrected_total',
    help: 'Managed objects found changed by someone else and set back, by controller and kind.',
    labelNames: ['controller', 'kind'] as const,
    registers: [opts.registry],
  });
  const client = new KubeClient(opts.transport ?? kc, { fieldManager: FIELD_MANAGER, writes });
  const identity =
    (opts.leaderElection && opts.leaderElection.identity) ||
    `${hostname()}-${randomBytes(4).toString('hex')}`;
  const events = kubeEventRecorder(client, {
    controller: 'paas.kubeop.io/operator',
    instance: identity,
    logger,
  });
  const cache = opts.informers ?? SharedInformers.forCluster(kc, { logger, resyncPeriodMs: opts.resyncMs });
  const informers = new Set<SharedInformer>();
  const deps: ControllerDeps = {
    informer: <T extends KubeObject = KubeObject>(ref: InformerRef) => {
      const inf = cache.informer<T>(ref);
      informers.add(inf);
      return inf;
    },
    client,
    events,
    drift,
    logger,
  };
  // The cache starts informers as they are asked for: one of our own must not outlive a failed start.
  const app = await appController(deps, {
    sources: opts.delivery?.sources ?? {},
    resyncMs: opts.delivery?.resyncMs ?? 300_000,
  }).catch((err: unknown) => {
    if (!opts.informers) cache.stop();
    throw err;
  });
  const declarations: ControllerDeclaration[] = [
    tenantController(deps, opts.render.projectComputeQuota),
    projectController(deps, opts.render),
    app,
  ];

  const metrics = createRuntimeMetrics(opts.registry);
  const controllers = declarations.map(
    (d) => new Controller({ name: d.name, workers: opts.workers, metrics, logger, reconcile: d.reconcile }),
  );
  const appQueue = controllers[declarations.indexOf(app)]!;
  // Watches enqueue from now on, also on a standby (its queues fill, its workers wait for a term).
  const unbinds = declarations.map((d, i) => d.bind((key) => controllers[i]!.enqueue(key)));
  await Promise.all([...informers].map((inf) => inf.waitForSync()));
  logger.info({ informers: informers.size }, 'operator caches synced');

  let leading = false;
  /** One leadership term begins: workers run, and every object is reconciled once. */
  const startControllers = () => {
    leading = true;
    controllers.forEach((c) => c.start());
    // Everything is reconciled once on taking over: level-triggered, nothing depends on past events.
    declarations.forEach((d, i) => d.keys().forEach((key) => controllers[i]!.enqueue(key)));
  };
  /** The term ends: in-flight reconciles are cancelled (their signal aborts) and awaited. */
  const stopControllers = () => Promise.all(controllers.map((c) => c.stop())).then(() => {});

  let leadership: Leadership | undefined;
  if (opts.leaderElection) {
    const le = opts.leaderElection;
    leadership = new Leadership({
      logger,
      // A fresh elector per term, so `kubeop all` can campaign again after losing the lease.
      newElector: (callbacks) =>
        new LeaderElector({
          kc: opts.transport ?? kc,
          namespace: le.namespace,
          name: 'kubeop-operator',
          identity,
          ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
          ...(le.renewDeadlineMs ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
          ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
          logger,
          onNewLeader: callbacks.onNewLeader,
          onStartedLeading: () => {
            logger.info('became leader; starting controllers');
            callbacks.onStartedLeading();
          },
          onStoppedLeading: (why) => {
            leading = false;
            logger.warn({ why }, 'leadership ended; controllers stop');
            callbacks.onStoppedLeading(why);
          },
        }),
      lead: startControllers,
      stepDown: stopControllers,
      onLost: opts.onLostLeadership ?? 'campaign-again',
    });
    leadership.start();
  } else {
    startControllers();
  }

  return {
    synced: () => [...informers].every((i) => i.hasSynced()),
    triggerGitSync(repoUrl) {
      const keys = app.gitPushed(repoUrl);
      for (const key of keys) appQueue.enqueue(key);
      return keys.length;
    },
    isLeader: () => leading,
    leadership: () => leadership?.status() ?? { state: 'leading' },
    async stop() {
      await leadership?.stop();
      await stopControllers();
      for (const unbind of unbinds) unbind();
      if (!opts.informers) cache.stop();
    },
  };
}
