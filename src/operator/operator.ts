import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
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
import type { KubeObject } from '../schemas/kube-object.ts';
import { appReconciler, INDEX_APP, type DeliverySources } from './controllers/app/controller.ts';
import { DELIVERABLE_KINDS, kindKey, OPTIONAL_KINDS } from './controllers/app/kinds.ts';
import { LABEL_REVISION_OF } from './controllers/app/revisions.ts';
import { projectReconciler, PROJECT_OWNED_KINDS } from './controllers/project/controller.ts';
import type { ProjectRenderOptions } from './controllers/project/render.ts';
import { INDEX_NAMESPACE, INDEX_PROJECT, INDEX_TENANT, type Store } from './controllers/store.ts';
import { served } from './controllers/app/served.ts';
import { tenantReconciler } from './controllers/tenant/controller.ts';
import { Controller } from './runtime/controller.ts';
import { informerFor, objectKey, type Informer } from '../kube/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { Leadership, type LeadershipStatus } from './runtime/leadership.ts';
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

  // App delivery: the Apps, every delivered object (label LABEL_APP; kinds from CRDs only where the
  // cluster serves them) and the stored revisions, so a hand edit or deletion enqueues its App.
  const apps = informer<App>('paas.kubeop.io/v1alpha1', 'App');
  const appIndex = (namespace: string | undefined, value: string | undefined) =>
    value ? [`${namespace ?? ''}/${value}`] : [];
  apps.addIndex(INDEX_APP, (a) => appIndex(a.metadata?.namespace, appLabelValue(a.metadata?.name ?? '')));
  apps.addIndex(INDEX_NAMESPACE, (a) => [a.metadata?.namespace ?? '']);
  const delivered = new Map<string, Store>();
  for (const k of DELIVERABLE_KINDS) {
    if (OPTIONAL_KINDS.has(kindKey(k)) && !(await served(client, k.apiVersion, k.kind))) {
      logger.info({ kind: kindKey(k) }, 'not served by this cluster; Apps cannot deliver it');
      continue;
    }
    const inf = informer(k.apiVersion, k.kind, LABEL_APP);
    inf.addIndex(INDEX_APP, (o) => appIndex(o.metadata?.namespace, label(o, LABEL_APP)));
    delivered.set(kindKey(k), inf);
  }
  const revisions = informer('v1', 'Secret', LABEL_REVISION_OF);
  revisions.addIndex(INDEX_APP, (o) => appIndex(o.metadata?.namespace, label(o, LABEL_REVISION_OF)));

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
  namespaces.onChange(
    withLastKnown((obj) => {
      toProjectAndTenant(obj);
      for (const a of apps.byIndex(INDEX_NAMESPACE, obj.metadata?.name ?? ''))
        appController.enqueue(objectKey(a));
    }),
  );
  apps.onChange((key) => appController.enqueue(key));
  const toApp = (obj: KubernetesObject) => {
    for (const a of apps.byIndex(
      INDEX_APP,
      appIndex(obj.metadata?.namespace, label(obj, LABEL_APP))[0] ?? '',
    ))
      appController.enqueue(objectKey(a));
  };
  for (const store of delivered.values())
    (store as unknown as Informer<KubernetesObject>).onChange(withLastKnown(toApp));
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
    appController.start();
    // Everything is reconciled once on taking over: level-triggered, nothing depends on past events.
    for (const t of tenants.list()) tenantController.enqueue(t.metadata!.name!);
    for (const p of projects.list()) projectController.enqueue(p.metadata!.name!);
    for (const a of apps.list()) appController.enqueue(objectKey(a));
  };

  const stopControllers = () =>
    Promise.all([tenantController.stop(), projectController.stop(), appController.stop()]).then(() => {});
  let leadership: Leadership | undefined;
  if (opts.leaderElection) {
    const le = opts.leaderElection;
    leadership = new Leadership({
      logger,
      // A fresh elector per term, so `kubeop all` can campaign again after losing the lease.
      newElector: (callbacks) =>
        new LeaderElector({
          kc,
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
    synced: () => informers.every((i) => i.hasSynced()),
    triggerGitSync(repoUrl) {
      // Matched by repository identity (host and path), so a push naming the https clone URL also
      // syncs Apps that use the ssh URL or omit `.git`.
      const wanted = identityOf(repoUrl);
      let n = 0;
      for (const a of apps.list()) {
        const url = (a as unknown as App).spec?.source?.git?.url;
        if (!url || !wanted || identityOf(url) !== wanted) continue;
        const key = objectKey(a);
        appRec.invalidate(key);
        appController.enqueue(key);
        n++;
      }
      return n;
    },
    isLeader: () => leading,
    leadership: () => leadership?.status() ?? { state: 'leading' },
    async stop() {
      await leadership?.stop();
      await stopControllers();
      for (const inf of informers) inf.stop();
    },
  };
}
