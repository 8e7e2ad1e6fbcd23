import type { Counter } from 'prom-client';
import { setCondition, type Condition } from '../../../domain/conditions.ts';
import { LABEL_PROJECT, LABEL_TENANT, projectNamespace } from '../../../domain/naming.ts';
import {
  ANNOTATION_APPLIED_HASH,
  isSubset,
  withAppliedHash,
  withoutEmptyCollections,
} from '../../../kube/compare.ts';
import type { KubeClient } from '../../../kube/client.ts';
import type { EventRecorder } from '../../../kube/events.ts';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import { keyOf, type KubeObject } from '../../../schemas/kube-object.ts';
import type { Logger } from '../../../platform/logging.ts';
import type { Result } from '../../runtime/controller.ts';
import { reconcileWithFinalizer } from '../../runtime/finalizer.ts';
import { INDEX_NAMESPACE, type Store } from '../store.ts';
import { QUOTA_NAME } from '../tenant/quota.ts';
import {
  renderAccess,
  renderLimitRange,
  renderMemberBindings,
  renderNamespace,
  renderNetworkPolicies,
  type ProjectRenderOptions,
} from './render.ts';

/** The namespaced kinds the Project reconciler owns (the ResourceQuota belongs to the Tenant reconciler). */
export const PROJECT_OWNED_KINDS = [
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
] as const;

export interface ProjectReconcilerDeps {
  client: KubeClient;
  projects: Store<Project>;
  tenants: Store<Tenant>;
  namespaces: Store;
  resourceQuotas: Store;
  /** Caches of the kinds in PROJECT_OWNED_KINDS, by `apiVersion/kind`, indexed by namespace. */
  owned: Map<string, Store>;
  drift: Counter<'controller' | 'kind'>;
  events: EventRecorder;
  options: ProjectRenderOptions;
  logger: Logger;
  now?: () => Date;
}

const kindKey = (o: { apiVersion: string; kind: string }) => `${o.apiVersion}/${o.kind}`;

/**
 * Reconciles one Project: its namespace, limits, network policies and access. Level-triggered: it
 * reads the Project, its Tenant and the managed objects from the caches and makes the cluster match,
 * whatever event (or none) caused the call.
 *
 * Writes only what differs: an object that matches its rendering is not written, so a resync of a
 * converged project writes nothing; a managed object someone edited is re-applied and counted as
 * drift. Objects of the owned kinds labelled for this project but no longer rendered are deleted.
 */
export function projectReconciler(deps: ProjectReconcilerDeps): (key: string) => Promise<Result> {
  const now = deps.now ?? (() => new Date());

  /**
   * Applies what differs. Each applied object carries the hash of its rendering, so a difference can
   * be told apart: same hash means someone changed the object after kubeOP applied it (drift, counted
   * and reported); another hash means the desired state changed (a spec change, not drift).
   */
  async function ensure(project: Project, desired: KubeObject[]): Promise<void> {
    for (const rendered of desired) {
      const obj = withAppliedHash(rendered);
      const store = obj.kind === 'Namespace' ? deps.namespaces : deps.owned.get(kindKey(obj));
      const live = store?.get(keyOf(obj.metadata));
      if (live && isSubset(obj, live)) continue;
      await deps.client.apply(obj);
      if (
        live &&
        live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] ===
          obj.metadata.annotations?.[ANNOTATION_APPLIED_HASH]
      ) {
        deps.drift.inc({ controller: 'project', kind: obj.kind });
        deps.events.record(
          project,
          'Warning',
          'DriftCorrected',
          `${obj.kind} ${obj.metadata.name} was changed outside kubeOP and has been restored`,
        );
      } else if (!live && obj.kind === 'Namespace') {
        deps.events.record(project, 'Normal', 'NamespaceCreated', `created namespace ${obj.metadata.name}`);
      }
    }
  }

  async function prune(project: Project, namespace: string, desired: KubeObject[]): Promise<void> {
    const wanted = new Set(desired.map((o) => `${kindKey(o)}/${o.metadata.name}`));
    for (const { apiVersion, kind } of PROJECT_OWNED_KINDS) {
      const store = deps.owned.get(`${apiVersion}/${kind}`);
      for (const live of store?.byIndex(INDEX_NAMESPACE, namespace) ?? []) {
        if (live.metadata.labels?.[LABEL_PROJECT] !== project.metadata.name) continue;
        if (wanted.has(`${apiVersion}/${kind}/${live.metadata.name}`)) continue;
        await deps.client.delete({ apiVersion, kind, name: live.metadata.name, namespace });
      }
    }
  }

  async function writeStatus(project: Project, full: NonNullable<Project['status']>): Promise<void> {
    const status = withoutEmptyCollections(full);
    const before = project.status?.conditions?.find((c) => c.type === 'Ready');
    const after = status.conditions?.find((c) => c.type === 'Ready');
    if (after && (before?.status !== after.status || before.reason !== after.reason)) {
      deps.events.record(
        project,
        after.status === 'True' ? 'Normal' : 'Warning',
        after.reason,
        after.message,
      );
    }
    if (isSubset(status, project.status ?? {}) && isSubset(project.status ?? {}, status)) return;
    await deps.client.applyStatus({
      apiVersion: project.apiVersion,
      kind: project.kind,
      metadata: { name: project.metadata.name },
      status,
    });
  }

  function ready(project: Project, status: 'True' | 'False', reason: string, message: string): Condition[] {
    return setCondition(
      project.status?.conditions,
      { type: 'Ready', status, reason, message, observedGeneration: project.metadata.generation ?? 0 },
      now(),
    );
  }

  /** Deletes the project's namespace; done once the namespace controller has removed it and its contents. */
  async function cleanup(project: Project, namespace: string): Promise<boolean> {
    const live =
      deps.namespaces.get(namespace) ??
      (await deps.client.find({ apiVersion: 'v1', kind: 'Namespace', name: namespace }));
    if (live && live.metadata.labels?.[LABEL_PROJECT] === project.metadata.name) {
      if (!live.metadata.deletionTimestamp) {
        await deps.client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
      }
      return false;
    }
    deps.events.record(
      project,
      'Normal',
      'NamespaceDeleted',
      `namespace ${namespace} and everything in it are gone`,
    );
    deps.logger.info({ project: project.metadata.name, namespace }, 'project deleted with its namespace');
    return true;
  }

  return async function reconcile(key: string): Promise<Result> {
    const project = deps.projects.get(key);
    if (!project) return;
    const namespace = projectNamespace(project.spec.tenantRef.name, project.metadata.name);
    return reconcileWithFinalizer(deps.client, project, {
      apply: () => applyProject(project, namespace),
      cleanup: () => cleanup(project, namespace),
    });
  };

  /**
   * Status only: the project cannot be brought to its desired state yet, and why. A function
   * declaration, like the other helpers here: they sit after the factory's `return` and are hoisted.
   */
  function notReady(project: Project, reason: string, message: string): Promise<void> {
    return writeStatus(project, {
      ...project.status,
      observedGeneration: project.metadata.generation ?? 0,
      conditions: ready(project, 'False', reason, message),
    });
  }

  async function applyProject(project: Project, namespace: string): Promise<Result> {
    const tenantName = project.spec.tenantRef.name;
    const tenant = deps.tenants.get(tenantName);
    if (!tenant || tenant.metadata.deletionTimestamp) {
      await notReady(
        project,
        'TenantNotFound',
        tenant
          ? `tenant ${tenantName} is being deleted`
          : `tenant ${tenantName} does not exist; create it or fix spec.tenantRef`,
      );
      return { requeueAfterMs: 30_000 };
    }

    const existing = deps.namespaces.get(namespace);
    const labels = existing?.metadata.labels ?? {};
    if (
      existing &&
      (labels[LABEL_TENANT] !== tenantName || labels[LABEL_PROJECT] !== project.metadata.name)
    ) {
      await notReady(
        project,
        'NamespaceConflict',
        `namespace ${namespace} exists and does not belong to this project; kubeOP will not take it over`,
      );
      return { requeueAfterMs: 60_000 };
    }

    const quota = deps.resourceQuotas.get(`${namespace}/${QUOTA_NAME}`);
    const desired = [
      renderNamespace(project, namespace),
      renderLimitRange(project, namespace),
      ...renderNetworkPolicies(tenant, project, namespace, deps.options),
      ...renderAccess(project, namespace),
      // Members get access only once the quota is in force (see renderMemberBindings).
      ...(quota ? renderMemberBindings(tenant, project, namespace) : []),
    ];
    await ensure(project, desired);
    await prune(project, namespace, desired);

    const quotaStatus = quota?.status as
      { hard?: Record<string, string>; used?: Record<string, string> } | undefined;
    const denied = quota?.metadata.annotations?.['paas.kubeop.io/quota-denied'];
    const conditions = !quota
      ? ready(
          project,
          'False',
          'QuotaPending',
          'waiting for the tenant quota allocation; members get access once it is in force',
        )
      : ready(project, 'True', 'Reconciled', `namespace ${namespace} is ready`);
    const withQuota = setCondition(
      conditions,
      denied
        ? {
            type: 'QuotaAllocated',
            status: 'False',
            reason: 'TenantQuotaExhausted',
            message: `the tenant quota has no room for the requested ${denied}; the previous allocation stays in force`,
            observedGeneration: project.metadata.generation ?? 0,
          }
        : {
            type: 'QuotaAllocated',
            status: quota ? 'True' : 'Unknown',
            reason: quota ? 'Allocated' : 'Pending',
            message: '',
            observedGeneration: project.metadata.generation ?? 0,
          },
      now(),
    );
    await writeStatus(project, {
      observedGeneration: project.metadata.generation ?? 0,
      namespace,
      conditions: withQuota,
      ...(quotaStatus ? { quota: { hard: quotaStatus.hard ?? {}, used: quotaStatus.used ?? {} } } : {}),
    });
    return quota ? undefined : { requeueAfterMs: 5000 };
  }
}
