import type { Counter } from 'prom-client';
import { appLabelValue, LABEL_APP, LABEL_PROJECT } from '../../../domain/naming.ts';
import type { KubeClient } from '../../../kube/client.ts';
import {
  ANNOTATION_APPLIED_HASH,
  isSubset,
  withAppliedHash,
  withoutEmptyCollections,
} from '../../../kube/compare.ts';
import type { EventRecorder } from '../../../kube/events.ts';
import type { Logger } from '../../../platform/logging.ts';
import type { AppStatus } from '../../../schemas/crds/app.ts';
import type { App } from '../../../schemas/crds/types.ts';
import { keyOf, type KubeObject } from '../../../schemas/kube-object.ts';
import type { ReconcileContext, Result } from '../../runtime/controller.ts';
import type { Store } from '../store.ts';
import { appConditions, type Outcome } from './conditions.ts';
import { applyAsDeployer, deleteAsDeployer, dryRunAll } from './deployer.ts';
import { DeliveryFailure, failureOf } from './failure.ts';
import { kindKey } from './kinds.ts';
import { checkObjects, describeObject, objectId, prepareObjects } from './prepare.ts';
import { deliveredUrl, revisionReadiness } from './readiness.ts';
import { RenderCache, type DeliverySources } from './render.ts';
import {
  digestOf,
  nextRevision,
  parseRevisionSecret,
  pushHistory,
  renderRevisionSecret,
  LABEL_REVISION,
  revisionSecretName,
  type HistoryEntry,
  type StoredRevision,
} from './revisions.ts';
import { applyOrder, pruneOrder } from './order.ts';
import { behindLastApply, driftOf, freshest, recordOf, type AppliedRecord } from './sync.ts';

/** How long after its creation a project namespace's RBAC may still be on its way. */
const YOUNG_NAMESPACE_MS = 120_000;
export type { DeliverySources } from './render.ts';

/** Index of delivered objects and stored revisions: `<namespace>/<appLabelValue(app)>`. */
export const INDEX_APP = 'app';

/**
 * Set to "false" on a delivered object (in its manifest, or by hand on the live object) to keep it
 * when it leaves the App's rendering; any other value, or none, lets kubeOP prune it.
 */
export const ANNOTATION_PRUNE = 'paas.kubeop.io/prune';

/** Whether pruning may delete `live` (see ANNOTATION_PRUNE). */
export function prunable(live: KubeObject): boolean {
  return live.metadata.annotations?.[ANNOTATION_PRUNE] !== 'false';
}

export interface AppReconcilerDeps {
  client: KubeClient;
  apps: Store<App>;
  /** kubeOP-managed namespaces; an App outside a project namespace is not delivered. */
  namespaces: Store;
  /** Caches of delivered objects (label LABEL_APP) by `apiVersion/kind`, indexed by INDEX_APP. */
  delivered: Map<string, Store>;
  /** Cache of stored revisions (Secrets labelled LABEL_REVISION_OF), indexed by INDEX_APP. */
  revisions: Store;
  sources: DeliverySources;
  drift: Counter<'controller' | 'kind'>;
  events: EventRecorder;
  /** How often an App is reconciled (and its source rendered again) without any event. */
  resyncMs: number;
  logger: Logger;
  now?: () => Date;
}

export interface AppReconciler {
  /** `ctx.signal` reaches the App's source (git, helm, kubectl, HTTP fetches). */
  reconcile(key: string, ctx?: Pick<ReconcileContext, 'signal'>): Promise<Result>;
  /** The next reconcile of `key` renders its source again even if its rendering is still fresh. */
  invalidate(key: string): void;
}

interface Target {
  objects: KubeObject[];
  sourceRevision: string;
  requeueAfterMs?: number;
  rollbackOf?: number;
}

/**
 * Reconciles one App: render its source (or, with `spec.rollbackTo`, take a stored revision),
 * check and prepare the objects, dry-run them all as the project's deployer, store a new revision
 * when anything changed, apply what differs, prune what left the set, and report.
 *
 * Contracts:
 * - Level-triggered: reads the App and the delivered objects from caches; any event or none leads
 *   to the same result. Renderings are cached per App generation until the source asks for a new
 *   look (`requeueAfterMs`), the resync interval passes, or `invalidate` is called, so events of
 *   delivered objects (a Deployment's status) cost no source fetch.
 * - A failure to render, a refused object or a failed dry run changes nothing in the cluster: the
 *   last good revision keeps running (and drift in it is still corrected), the App reports why.
 * - Every write of a delivered object is made as the deployer (deployer.ts); a resync of a
 *   converged App writes nothing.
 * - Deletion needs no finalizer: delivered objects and stored revisions are owned by the App, so
 *   the garbage collector removes them with it.
 */
export function appReconciler(deps: AppReconcilerDeps): AppReconciler {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const renders = new RenderCache({ sources: deps.sources, client: deps.client, resyncMs: deps.resyncMs });
  /** What the last apply of each object returned, by `<app uid>/<objectId>`; judges drift. */
  const applied = new Map<string, AppliedRecord>();
  /** The status this process last wrote for each App, by key. */
  const written = new Map<string, { uid: string | undefined; status: AppStatus }>();

  /** kubeOP's field manager: drift is judged on the fields it owns (diff.ts). */
  const manager = deps.client.fieldManager;
  const liveOf = (o: KubeObject) => deps.delivered.get(kindKey(o))?.get(keyOf(o.metadata));

  function storedRevisions(app: App): Map<number, StoredRevision> {
    const out = new Map<number, StoredRevision>();
    const index = `${app.metadata.namespace}/${appLabelValue(app.metadata.name)}`;
    for (const secret of deps.revisions.byIndex(INDEX_APP, index)) {
      if (!ownedBy(secret, app)) continue;
      const stored = parseRevisionSecret(secret);
      if (stored) out.set(stored.revision, stored);
    }
    return out;
  }

  async function target(key: string, app: App, signal: AbortSignal | undefined): Promise<Target> {
    const rollbackTo = app.spec.rollbackTo;
    if (rollbackTo === undefined) {
      const r = await renders.render(key, app, signal);
      return {
        objects: r.objects,
        sourceRevision: r.sourceRevision,
        ...(r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : {}),
      };
    }
    const history = app.status?.history ?? [];
    const stored = history.some((h) => h.revision === rollbackTo)
      ? storedRevisions(app).get(rollbackTo)
      : undefined;
    if (!stored) {
      const kept = history.map((h) => h.revision).join(', ') || 'none';
      throw new DeliveryFailure(
        'RevisionNotFound',
        `spec.rollbackTo names revision ${rollbackTo}, which is not kept (kept: ${kept}); pick one of those or remove spec.rollbackTo`,
      );
    }
    // Rolling back to what is running already is no new revision.
    const current = history.find((h) => h.revision === app.status?.revision);
    const origin = current?.rollbackOf ?? current?.revision;
    return {
      objects: stored.objects,
      sourceRevision: stored.sourceRevision,
      ...(origin === rollbackTo && current ? {} : { rollbackOf: rollbackTo }),
    };
  }

  function ownedBy(obj: KubeObject, app: App): boolean {
    return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === app.metadata.uid);
  }

  /**
   * Applies every object that differs from its live version, as the deployer. An object whose
   * rendering is unchanged (same applied hash) but whose live version differs — or that vanished
   * while the revision stayed the same — was changed by hand: it is set back, counted and reported.
   */
  async function ensure(app: App, objects: readonly KubeObject[], sameRevision: boolean): Promise<number> {
    let drifts = 0;
    for (const rendered of applyOrder(objects)) {
      const obj = withAppliedHash(rendered);
      const hash = obj.metadata.annotations?.[ANNOTATION_APPLIED_HASH];
      const id = `${app.metadata.uid}/${objectId(obj)}`;
      const live = liveOf(obj);
      const last = applied.get(id);
      if (live && behindLastApply(live, last, hash)) continue;
      const differs = live ? driftOf(obj, live, last, hash, manager) : [];
      if (live && differs.length === 0) continue;
      const other = live?.metadata.labels?.[LABEL_APP];
      if (live && other && other !== appLabelValue(app.metadata.name)) {
        throw new DeliveryFailure(
          'ForbiddenObject',
          `${describeObject(obj)} belongs to App ${other} in this namespace; rename it in one of the two Apps`,
        );
      }
      log.debug(
        {
          app: keyOf(app.metadata),
          object: objectId(obj),
          live: live?.metadata.resourceVersion,
          sameRevision,
          differs,
        },
        'applying',
      );
      const answer = await applyAsDeployer(deps.client, obj);
      applied.set(id, recordOf(obj, answer, hash, manager, live));
      const drifted = live
        ? live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] === hash
        : sameRevision &&
          (app.status?.inventory ?? []).some((i) => i.kind === obj.kind && i.name === obj.metadata.name);
      if (drifted) {
        drifts++;
        deps.drift.inc({ controller: 'app', kind: obj.kind });
        deps.events.record(
          app,
          'Warning',
          'DriftCorrected',
          `${describeObject(obj)} was ${live ? 'changed' : 'deleted'} outside kubeOP and has been restored`,
        );
      }
    }
    return drifts;
  }

  /**
   * Deletes, as the deployer, delivered objects of this App that are not in `objects`, workloads
   * before their config (order.ts). An object annotated `paas.kubeop.io/prune: "false"` is kept
   * (and reported); it stays owned by the App, so deleting the App still removes it.
   */
  async function prune(app: App, objects: readonly KubeObject[], revision: number): Promise<void> {
    const wanted = new Set(objects.map(objectId));
    const index = `${app.metadata.namespace}/${appLabelValue(app.metadata.name)}`;
    const gone: KubeObject[] = [];
    for (const store of deps.delivered.values()) {
      for (const live of store.byIndex(INDEX_APP, index)) {
        if (wanted.has(objectId(live)) || !ownedBy(live, app) || live.metadata.deletionTimestamp) continue;
        gone.push(live);
      }
    }
    for (const live of pruneOrder(gone)) {
      if (!prunable(live)) {
        deps.events.record(
          app,
          'Normal',
          'PruneSkipped',
          `kept ${describeObject(live)}, not part of revision ${revision}: it is annotated ${ANNOTATION_PRUNE}: "false"`,
        );
        continue;
      }
      await deleteAsDeployer(deps.client, {
        apiVersion: live.apiVersion,
        kind: live.kind,
        name: live.metadata.name,
        namespace: live.metadata.namespace!,
      });
      applied.delete(`${app.metadata.uid}/${objectId(live)}`);
      deps.events.record(
        app,
        'Normal',
        'Pruned',
        `deleted ${describeObject(live)}: not part of revision ${revision}`,
      );
    }
  }

  /** Stored revisions that fell out of the history are deleted (as the operator, which wrote them). */
  async function dropRevisions(app: App, history: readonly HistoryEntry[]): Promise<void> {
    const keep = new Set(history.map((h) => h.revision));
    const index = `${app.metadata.namespace}/${appLabelValue(app.metadata.name)}`;
    for (const secret of deps.revisions.byIndex(INDEX_APP, index)) {
      const revision = Number(secret.metadata.labels?.[LABEL_REVISION]);
      if (!ownedBy(secret, app) || keep.has(revision) || secret.metadata.deletionTimestamp) continue;
      await deps.client.delete({
        apiVersion: 'v1',
        kind: 'Secret',
        name: revisionSecretName(app.metadata.name, revision),
        namespace: app.metadata.namespace!,
      });
    }
  }

  async function writeStatus(app: App, full: AppStatus): Promise<void> {
    const status = withoutEmptyCollections(full);
    const before = app.status?.conditions?.find((c) => c.type === 'Ready');
    const after = status.conditions?.find((c) => c.type === 'Ready');
    if (after && (before?.status !== after.status || before.reason !== after.reason)) {
      if (after.status === 'True') deps.events.record(app, 'Normal', after.reason, after.message);
      else if (status.phase === 'Degraded' || status.phase === 'Failed')
        deps.events.record(app, 'Warning', after.reason, after.message);
    }
    if (isSubset(status, app.status ?? {}) && isSubset(app.status ?? {}, status)) return;
    await deps.client.applyStatus({
      apiVersion: app.apiVersion,
      kind: app.kind,
      metadata: { name: app.metadata.name, namespace: app.metadata.namespace! },
      status,
    });
    written.set(keyOf(app.metadata), { uid: app.metadata.uid, status });
  }

  function statusWith(app: App, outcome: Outcome, rest: Partial<AppStatus>, drifts = 0): AppStatus {
    const generation = app.metadata.generation ?? 0;
    const { phase, conditions } = appConditions(app.status?.conditions, outcome, generation, now());
    const prev = app.status ?? {};
    return {
      ...prev,
      ...rest,
      observedGeneration: generation,
      phase,
      conditions,
      driftCorrections: (prev.driftCorrections ?? 0) + drifts,
    };
  }

  /** The last good revision, as prepared objects, so drift in it is corrected while delivery fails. */
  function lastGood(app: App, namespace: string): KubeObject[] | undefined {
    const revision = app.status?.revision;
    if (revision === undefined) return undefined;
    const stored = storedRevisions(app).get(revision);
    if (!stored) return undefined;
    try {
      checkObjects(stored.objects, namespace);
      return prepareObjects(stored.objects, app, namespace);
    } catch {
      return undefined;
    }
  }

  async function fail(key: string, app: App, failure: DeliveryFailure): Promise<Result> {
    const namespace = app.metadata.namespace!;
    const running = lastGood(app, namespace);
    let drifts = 0;
    if (running) {
      try {
        drifts = await ensure(app, running, true);
      } catch (err) {
        log.warn({ err, app: key }, 'could not restore the last good revision');
      }
    }
    log.info({ app: key, reason: failure.reason, message: failure.message }, 'app delivery failed');
    const hasRevision = app.status?.revision !== undefined;
    await writeStatus(
      app,
      statusWith(
        app,
        { kind: 'Failed', reason: failure.reason, message: failure.message, running: hasRevision },
        {},
        drifts,
      ),
    );
    if (failure.retryable) throw failure;
    // A project namespace exists a moment before its deployer Role and RoleBinding, so an App
    // reconciled in between — all of them arrive together after a cluster outage — is refused by
    // RBAC. While the namespace is young, look again soon rather than after a full resync.
    const created = Date.parse(deps.namespaces.get(namespace)?.metadata.creationTimestamp ?? '');
    if (failure.reason === 'ForbiddenObject' && Date.now() - created < YOUNG_NAMESPACE_MS)
      return { requeueAfterMs: Math.min(deps.resyncMs, 5_000) };
    return { requeueAfterMs: deps.resyncMs };
  }

  async function reconcile(key: string, ctx?: Pick<ReconcileContext, 'signal'>): Promise<Result> {
    const cached = deps.apps.get(key);
    if (!cached || cached.metadata.deletionTimestamp) {
      renders.forget(key);
      const uid = written.get(key)?.uid;
      written.delete(key);
      if (uid) for (const id of applied.keys()) if (id.startsWith(`${uid}/`)) applied.delete(id);
      return;
    }
    // This process is the only writer of App status (leader election), so the status it wrote last
    // is at least as new as the cache's, which may not have caught up with it yet. Reading the
    // cache's would repeat a revision or lose a drift count.
    const mine = written.get(key);
    const app = mine && mine.uid === cached.metadata.uid ? { ...cached, status: mine.status } : cached;
    const namespace = app.metadata.namespace!;
    const ns = deps.namespaces.get(namespace);
    // A namespace being deleted takes the App with it; recreating what its deletion removes would
    // only be refused.
    if (ns?.metadata.deletionTimestamp) return;
    if (!ns?.metadata.labels?.[LABEL_PROJECT]) {
      await writeStatus(
        app,
        statusWith(
          app,
          {
            kind: 'Waiting',
            reason: 'NotAProjectNamespace',
            message: `namespace ${namespace} is not a kubeOP project namespace (yet); Apps are delivered only into project namespaces`,
          },
          {},
        ),
      );
      return { requeueAfterMs: 30_000 };
    }

    let desired: Target;
    let objects: KubeObject[];
    try {
      desired = await target(key, app, ctx?.signal);
      checkObjects(desired.objects, namespace);
      objects = prepareObjects(desired.objects, app, namespace);
    } catch (err) {
      const failure = failureOf(err);
      if (!failure) throw err;
      return fail(key, app, failure);
    }

    const status = app.status ?? {};
    const digest = digestOf(objects);
    const current = status.history?.find((h) => h.revision === status.revision);
    const isNew =
      !current ||
      current.digest !== digest ||
      current.sourceRevision !== desired.sourceRevision ||
      (desired.rollbackOf !== undefined && current.rollbackOf !== desired.rollbackOf);
    let revision = status.revision ?? 0;
    let history = status.history ?? [];
    let drifts: number;
    try {
      if (isNew) {
        await dryRunAll(deps.client, objects);
        revision = nextRevision(status);
        await deps.client.apply(
          renderRevisionSecret(app, {
            revision,
            sourceRevision: desired.sourceRevision,
            objects: desired.objects,
          }),
        );
      }
      drifts = await ensure(app, objects, !isNew);
    } catch (err) {
      const failure = failureOf(err);
      if (!failure) throw err;
      return fail(key, app, failure);
    }
    await prune(app, objects, revision);
    if (isNew) {
      const entry: HistoryEntry = {
        revision,
        sourceRevision: desired.sourceRevision,
        deployedAt: now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        digest,
        ...(desired.rollbackOf !== undefined ? { rollbackOf: desired.rollbackOf } : {}),
      };
      const pushed = pushHistory(history, entry);
      history = pushed.history;
      deps.events.record(
        app,
        'Normal',
        desired.rollbackOf !== undefined ? 'RolledBack' : 'Applied',
        desired.rollbackOf !== undefined
          ? `revision ${revision} re-applies revision ${desired.rollbackOf} (${desired.sourceRevision}): ${objects.length} objects`
          : `revision ${revision} (${desired.sourceRevision}) applied: ${objects.length} objects`,
      );
    }
    await dropRevisions(app, history);

    const readiness = revisionReadiness(objects, (o) =>
      freshest(liveOf(o), applied.get(`${app.metadata.uid}/${objectId(o)}`)),
    );
    const url = deliveredUrl(app, objects);
    const next = statusWith(
      app,
      { kind: 'Deployed', revision, sourceRevision: desired.sourceRevision, readiness },
      {
        revision,
        sourceRevision: desired.sourceRevision,
        history,
        inventory: objects.map((o) => ({
          apiVersion: o.apiVersion,
          kind: o.kind,
          namespace,
          name: o.metadata.name,
        })),
      },
      drifts,
    );
    if (url) next.url = url;
    else delete next.url;
    await writeStatus(app, next);
    return { requeueAfterMs: Math.min(deps.resyncMs, desired.requeueAfterMs ?? Infinity) };
  }

  return {
    reconcile,
    invalidate(key) {
      renders.invalidate(key);
    },
  };
}
