import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import {
  appLabelValue,
  LABEL_APP,
  LABEL_MANAGED_BY,
  LABEL_PROJECT,
  LABEL_TENANT,
  MANAGED_BY,
} from '../domain/naming.ts';
import { identityOf } from '../delivery/git/url.ts';
import { KubeClient } from '../kube/client.ts';
import { kubeEventRecorder } from '../kube/events.ts';
import type { Logger } from '../platform/logging.ts';
import type { App, Project, Tenant } from '../schemas/crds/types.ts';
import { keyOf, type KubeObject } from '../schemas/kube-object.ts';
import { appReconciler, INDEX_APP, type DeliverySources } from './controllers/app/controller.ts';
import { DELIVERABLE_KINDS, kindKey, OPTIONAL_KINDS } from './controllers/app/kinds.ts';
import { LABEL_REVISION_OF } from './controllers/app/revisions.ts';
import { projectReconciler, PROJECT_OWNED_KINDS } from './controllers/project/controller.ts';
import type { ProjectRenderOptions } from './controllers/project/render.ts';
import { INDEX_NAMESPACE, INDEX_PROJECT, INDEX_TENANT } from './controllers/store.ts';
import { served } from './controllers/app/served.ts';
import { tenantReconciler } from './controllers/tenant/controller.ts';
import { Controller } from './runtime/controller.ts';
import { SharedInformers, type SharedInformer } from '../kube/cache.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { createRuntimeMetrics } from './runtime/runtime-metrics.ts';

export const FIELD_MANAGER = 'kubeop-operator';

export interface OperatorOptions {
  kc: KubeConfig;
  /** The process's informer cache (shared with admission and metering); its own when absent. */
  informers?: SharedInformers;
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
  /** Called when leadership is lost: the process should exit so it restarts clean (as controller-runtime does). */
  onLostLeadership: () => void;
}

export interface RunningOperator {
  /** True once every cache has synced. */
  synced(): boolean;
  isLeader(): boolean;
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
  const client = new KubeClient(kc, { fieldManager: FIELD_MANAGER, writes });
  const identity =
    (opts.leaderElection && opts.leaderElection.identity) ||
    `${hostname()}-${randomBytes(4).toString('hex')}`;
  const events = kubeEventRecorder(client, {
    controller: 'paas.kubeop.io/operator',
    instance: identity,
    logger,
  });
  const cache = opts.informers ?? SharedInformers.forCluster(kc, { logger, resyncPeriodMs: opts.resyncMs });
  const informers: SharedInformer[] = [];
  const unsubscribes: Array<() => void> = [];
  const informer = <T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    labelSelector?: string,
  ) => {
    const inf = cache.informer<T>({ apiVersion, kind, labelSelector });
    informers.push(inf);
    return inf;
  };
  const on = <T extends KubeObject>(
    inf: SharedInformer<T>,
    handler: (key: string, obj: T | undefined) => void,
  ) => unsubscribes.push(inf.onChange(handler));
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const label = (o: KubeObject | undefined, key: string) => o?.metadata.labels?.[key];

  const tenants = informer<Tenant>('paas.kubeop.io/v1alpha1', 'Tenant');
  const projects = informer<Project>('paas.kubeop.io/v1alpha1', 'Project');
  projects.addIndex(INDEX_TENANT, (p) => [p.spec.tenantRef.name]);
  const namespaces = informer('v1', 'Namespace', managed);
  const resourceQuotas = informer('v1', 'ResourceQuota', managed);
  const owned = new Map<string, SharedInformer>();
  for (const { apiVersion, kind } of PROJECT_OWNED_KINDS) {
    const inf = informer(apiVersion, kind, managed);
    inf.addIndex(INDEX_NAMESPACE, (o) => [o.metadata.namespace ?? '']);
    inf.addIndex(INDEX_PROJECT, (o) => [label(o, LABEL_PROJECT) ?? '']);
    owned.set(`${apiVersion}/${kind}`, inf);
  }

  // App delivery: the Apps, every delivered object (label LABEL_APP; kinds from CRDs only where the
  // cluster serves them) and the stored revisions, so a hand edit or deletion enqueues its App.
  const apps = informer<App>('paas.kubeop.io/v1alpha1', 'App');
  const appIndex = (namespace: string | undefined, value: string | undefined) =>
    value ? [`${namespace ?? ''}/${value}`] : [];
  apps.addIndex(INDEX_APP, (a) => appIndex(a.metadata.namespace, appLabelValue(a.metadata.name)));
  apps.addIndex(INDEX_NAMESPACE, (a) => [a.metadata.namespace ?? '']);
  const delivered = new Map<string, SharedInformer>();
  for (const k of DELIVERABLE_KINDS) {
    if (OPTIONAL_KINDS.has(kindKey(k)) && !(await served(client, k.apiVersion, k.kind))) {
      logger.info({ kind: kindKey(k) }, 'not served by this cluster; Apps cannot deliver it');
      continue;
    }
    const inf = informer(k.apiVersion, k.kind, LABEL_APP);
    inf.addIndex(INDEX_APP, (o) => appIndex(o.metadata.namespace, label(o, LABEL_APP)));
    delivered.set(kindKey(k), inf);
  }
  const revisions = informer('v1', 'Secret', LABEL_REVISION_OF);
  revisions.addIndex(INDEX_APP, (o) => appIndex(o.metadata.namespace, label(o, LABEL_REVISION_OF)));

  const metrics = createRuntimeMetrics(opts.registry);
  const appRec = appReconciler({
    client,
    apps,
    namespaces,
    delivered,
    revisions,
    sources: opts.delivery?.sources ?? {},
    drift,
    events,
    resyncMs: opts.delivery?.resyncMs ?? 300_000,
    logger: logger.child({ controller: 'app' }),
  });
  const appController = new Controller({
    name: 'app',
    workers: opts.workers,
    metrics,
    logger,
    reconcile: (key) => appRec.reconcile(key),
  });
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
  on(tenants, (key) => {
    tenantController.enqueue(key);
    for (const p of projects.byIndex(INDEX_TENANT, key)) projectController.enqueue(p.metadata.name);
  });
  on(projects, (key, obj) => {
    projectController.enqueue(key);
    const tenant = obj?.spec.tenantRef.name;
    if (tenant) tenantController.enqueue(tenant);
  });
  // A delete arrives without the object; the labels of its last known version name the owners.
  const withLastKnown = (handler: (obj: KubeObject) => void) => {
    const lastKnown = new Map<string, KubeObject>();
    return (key: string, obj: KubeObject | undefined) => {
      const known = obj ?? lastKnown.get(key);
      if (obj) lastKnown.set(key, obj);
      else lastKnown.delete(key);
      if (known) handler(known);
    };
  };
  const toProjectAndTenant = (obj: KubeObject) => {
    const project = label(obj, LABEL_PROJECT);
    const tenant = label(obj, LABEL_TENANT);
    if (project) projectController.enqueue(project);
    if (tenant) tenantController.enqueue(tenant);
  };
  on(
    namespaces,
    withLastKnown((obj) => {
      toProjectAndTenant(obj);
      for (const a of apps.byIndex(INDEX_NAMESPACE, obj.metadata.name))
        appController.enqueue(keyOf(a.metadata));
    }),
  );
  on(apps, (key) => appController.enqueue(key));
  const toApp = (obj: KubeObject) => {
    for (const a of apps.byIndex(INDEX_APP, appIndex(obj.metadata.namespace, label(obj, LABEL_APP))[0] ?? ''))
      appController.enqueue(keyOf(a.metadata));
  };
  for (const inf of delivered.values()) on(inf, withLastKnown(toApp));
  on(resourceQuotas, withLastKnown(toProjectAndTenant));
  for (const inf of owned.values()) {
    on(
      inf,
      withLastKnown((obj) => {
        const project = label(obj, LABEL_PROJECT);
        if (project) projectController.enqueue(project);
      }),
    );
  }
  await Promise.all(informers.map((inf) => inf.waitForSync()));
  logger.info({ informers: informers.length }, 'operator caches synced');

  let leading = false;
  const startControllers = () => {
    leading = true;
    tenantController.start();
    projectController.start();
    appController.start();
    // Everything is reconciled once on taking over: level-triggered, nothing depends on past events.
    for (const t of tenants.list()) tenantController.enqueue(t.metadata.name);
    for (const p of projects.list()) projectController.enqueue(p.metadata.name);
    for (const a of apps.list()) appController.enqueue(keyOf(a.metadata));
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
        void Promise.all([tenantController.stop(), projectController.stop(), appController.stop()]).then(
          () => {
            if (!stopping) opts.onLostLeadership();
          },
        );
      },
    });
    electing = elector.run();
  } else {
    startControllers();
  }

  let stopping = false;
  return {
    synced: () => informers.every((i) => i.hasSynced()),
    triggerGitSync(repoUrl) {
      // Matched by repository identity (host and path), so a push naming the https clone URL also
      // syncs Apps that use the ssh URL or omit `.git`.
      const wanted = identityOf(repoUrl);
      let n = 0;
      for (const a of apps.list()) {
        const url = a.spec.source.git?.url;
        if (!url || !wanted || identityOf(url) !== wanted) continue;
        const key = keyOf(a.metadata);
        appRec.invalidate(key);
        appController.enqueue(key);
        n++;
      }
      return n;
    },
    isLeader: () => leading,
    async stop() {
      stopping = true;
      await elector?.stop();
      await electing;
      await Promise.all([tenantController.stop(), projectController.stop(), appController.stop()]);
      for (const unsubscribe of unsubscribes) unsubscribe();
      if (!opts.informers) cache.stop();
    },
  };
}
