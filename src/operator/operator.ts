import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { LABEL_MANAGED_BY, LABEL_PROJECT, LABEL_TENANT, MANAGED_BY } from '../domain/naming.ts';
import { KubeClient } from '../kube/client.ts';
import { kubeEventRecorder } from '../kube/events.ts';
import type { Logger } from '../platform/logging.ts';
import type { Project, Tenant } from '../schemas/crds/types.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { projectReconciler, PROJECT_OWNED_KINDS } from './controllers/project/controller.ts';
import type { ProjectRenderOptions } from './controllers/project/render.ts';
import { INDEX_NAMESPACE, INDEX_PROJECT, INDEX_TENANT, type Store } from './controllers/store.ts';
import { tenantReconciler } from './controllers/tenant/controller.ts';
import { Controller } from './runtime/controller.ts';
import { informerFor, type Informer } from '../kube/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { createRuntimeMetrics } from './runtime/runtime-metrics.ts';

export const FIELD_MANAGER = 'kubeop-operator';

export interface OperatorOptions {
  kc: KubeConfig;
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
  /** Called when leadership is lost: the process should exit so it restarts clean (as controller-runtime does). */
  onLostLeadership: () => void;
}

export interface RunningOperator {
  /** True once every cache has synced. */
  synced(): boolean;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/**
 * Assembles the operator: one informer per watched kind (caches always run, so a standby is warm
 * when it takes over), the Tenant and Project controllers, and the event-to-key mapping between them.
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
    name: 'kubeop_drift_corrections_total',
    help: 'Managed objects found changed by someone else and set back, by controller and kind.',
    labelNames: ['controller', 'kind'] as const,
    registers: [opts.registry],
  });
  const client = new KubeClient(kc, { fieldManager: FIELD_MANAGER, writes });
  const identity =
    (opts.leaderElection && opts.leaderElection.identity) ||
    `${hostname()}-${randomBytes(4).toString('hex')}`;
  const events = kubeEventRecorder(client, {
    controller: 'paas.kubeop.io/operator',
    instance: identity,
    logger,
  });
  const informers: Informer<KubernetesObject>[] = [];

  const informer = <T extends KubeObject>(apiVersion: string, kind: string, labelSelector?: string) => {
    const inf = informerFor(
      kc,
      { apiVersion, kind, labelSelector },
      { logger, resyncPeriodMs: opts.resyncMs },
    );
    informers.push(inf);
    return inf as unknown as Informer<KubernetesObject> & Store<T>;
  };
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const label = (o: KubernetesObject | undefined, key: string) => o?.metadata?.labels?.[key];

  const tenants = informer<Tenant>('paas.kubeop.io/v1alpha1', 'Tenant');
  const projects = informer<Project>('paas.kubeop.io/v1alpha1', 'Project');
  projects.addIndex(INDEX_TENANT, (p) => [(p as unknown as Project).spec.tenantRef.name]);
  const namespaces = informer('v1', 'Namespace', managed);
  const resourceQuotas = informer('v1', 'ResourceQuota', managed);
  const owned = new Map<string, Store>();
  for (const { apiVersion, kind } of PROJECT_OWNED_KINDS) {
    const inf = informer(apiVersion, kind, managed);
    inf.addIndex(INDEX_NAMESPACE, (o) => [o.metadata?.namespace ?? '']);
    inf.addIndex(INDEX_PROJECT, (o) => [label(o, LABEL_PROJECT) ?? '']);
    owned.set(`${apiVersion}/${kind}`, inf);
  }

  const metrics = createRuntimeMetrics(opts.registry);
  const tenantController = new Controller({
    name: 'tenant',
    workers: opts.workers,
    metrics,
    logger,
    reconcile: tenantReconciler({
      client,
      tenants,
      projects,
      namespaces,
      events,
      logger: logger.child({ controller: 'tenant' }),
    }),
  });
  const projectController = new Controller({
    name: 'project',
    workers: opts.workers,
    metrics,
    logger,
    reconcile: projectReconciler({
      client,
      projects,
      tenants,
      namespaces,
      resourceQuotas,
      owned,
      drift,
      events,
      options: opts.render,
      logger: logger.child({ controller: 'project' }),
    }),
  });

  // Event → keys. Handlers never look at what kind of event it was: they name the objects whose
  // desired state may depend on the one that changed, and the reconcilers read fresh state.
  tenants.onChange((key) => {
    tenantController.enqueue(key);
    for (const p of projects.byIndex(INDEX_TENANT, key))
      projectController.enqueue((p as Project).metadata.name);
  });
  projects.onChange((key, obj) => {
    projectController.enqueue(key);
    const tenant = (obj as Project | undefined)?.spec.tenantRef.name;
    if (tenant) tenantController.enqueue(tenant);
  });
  // A delete arrives without the object; the labels of its last known version name the owners.
  const withLastKnown = (handler: (obj: KubernetesObject) => void) => {
    const lastKnown = new Map<string, KubernetesObject>();
    return (key: string, obj: KubernetesObject | undefined) => {
      const known = obj ?? lastKnown.get(key);
      if (obj) lastKnown.set(key, obj);
      else lastKnown.delete(key);
      if (known) handler(known);
    };
  };
  const toProjectAndTenant = (obj: KubernetesObject) => {
    const project = label(obj, LABEL_PROJECT);
    const tenant = label(obj, LABEL_TENANT);
    if (project) projectController.enqueue(project);
    if (tenant) tenantController.enqueue(tenant);
  };
  namespaces.onChange(withLastKnown(toProjectAndTenant));
  resourceQuotas.onChange(withLastKnown(toProjectAndTenant));
  for (const store of owned.values()) {
    (store as unknown as Informer<KubernetesObject>).onChange(
      withLastKnown((obj) => {
        const project = label(obj, LABEL_PROJECT);
        if (project) projectController.enqueue(project);
      }),
    );
  }
  for (const inf of informers) inf.start();
  await Promise.all(informers.map((inf) => inf.waitForSync()));
  logger.info({ informers: informers.length }, 'operator caches synced');

  let leading = false;
  const startControllers = () => {
    leading = true;
    tenantController.start();
    projectController.start();
    // Everything is reconciled once on taking over: level-triggered, nothing depends on past events.
    for (const t of tenants.list()) tenantController.enqueue(t.metadata!.name!);
    for (const p of projects.list()) projectController.enqueue(p.metadata!.name!);
  };

  let elector: LeaderElector | undefined;
  let electing: Promise<void> | undefined;
  if (opts.leaderElection) {
    const le = opts.leaderElection;
    elector = new LeaderElector({
      kc,
      namespace: le.namespace,
      name: 'kubeop-operator',
      identity,
      ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
      logger,
      onStartedLeading: () => {
        logger.info('became leader; starting controllers');
        startControllers();
      },
      onStoppedLeading: () => {
        leading = false;
        logger.warn('leadership ended; controllers stop');
        void Promise.all([tenantController.stop(), projectController.stop()]).then(() => {
          if (!stopping) opts.onLostLeadership();
        });
      },
    });
    electing = elector.run();
  } else {
    startControllers();
  }

  let stopping = false;
  return {
    synced: () => informers.every((i) => i.hasSynced()),
    isLeader: () => leading,
    async stop() {
      stopping = true;
      await elector?.stop();
      await electing;
      await Promise.all([tenantController.stop(), projectController.stop()]);
      for (const inf of informers) inf.stop();
    },
  };
}
