import { appLabelValue, LABEL_APP } from '../../../domain/naming.ts';
import { identityOf } from '../../../delivery/git/url.ts';
import type { Store } from '../../../kube/store.ts';
import type { App } from '../../../schemas/crds/types.ts';
import { keyOf, type KubeObject } from '../../../schemas/kube-object.ts';
import { ControllerBuilder, type ControllerDeclaration } from '../../runtime/builder.ts';
import type { ControllerDeps } from '../deps.ts';
import { byNamespace, INDEX_NAMESPACE, labelOf, MANAGED_NAMESPACES, APPS } from '../store.ts';
import { appReconciler, INDEX_APP, type DeliverySources } from './controller.ts';
import { DELIVERABLE_KINDS, kindKey, OPTIONAL_KINDS } from './kinds.ts';
import { LABEL_REVISION_OF } from './revisions.ts';
import { served } from './served.ts';

/** INDEX_APP value of an object: `<namespace>/<value of its app label>`. */
const appIndex = (namespace: string | undefined, value: string | undefined) =>
  value ? [`${namespace ?? ''}/${value}`] : [];
const appsByIndex = (a: App) => appIndex(a.metadata.namespace, appLabelValue(a.metadata.name));
const deliveredByApp = (o: KubeObject) => appIndex(o.metadata.namespace, labelOf(o, LABEL_APP));
const revisionsByApp = (o: KubeObject) => appIndex(o.metadata.namespace, labelOf(o, LABEL_REVISION_OF));

export interface AppControllerDeclaration extends ControllerDeclaration {
  /**
   * The Git webhook: the keys of every App whose spec.source.git.url is `repoUrl`, each told to
   * render again on its next reconcile (the caller enqueues them). Matched by repository identity
   * (host and path), so a push naming the https clone URL also finds Apps that use the ssh URL or
   * omit `.git`.
   */
  gitPushed(repoUrl: string): string[];
}

/**
 * The App controller and what it watches: the namespaces Apps live in (a project namespace
 * appearing lets its Apps deliver), and every delivered object (label LABEL_APP; kinds from CRDs
 * only where the cluster serves them), so a hand edit or deletion enqueues its App. Stored
 * revisions are cached (for rollback) but not watched: only the App controller writes them.
 */
export async function appController(
  deps: ControllerDeps,
  delivery: { sources: DeliverySources; resyncMs: number },
): Promise<AppControllerDeclaration> {
  const apps = deps.informer<App>(APPS);
  apps.addIndex(INDEX_APP, appsByIndex);
  apps.addIndex(INDEX_NAMESPACE, byNamespace);
  const namespaces = deps.informer(MANAGED_NAMESPACES);
  const appsOf = (obj: KubeObject) =>
    apps.byIndex(INDEX_APP, deliveredByApp(obj)[0] ?? '').map((a) => keyOf(a.metadata));
  const builder = ControllerBuilder.for('app', apps).watches(namespaces, (ns) =>
    apps.byIndex(INDEX_NAMESPACE, ns.metadata.name).map((a) => keyOf(a.metadata)),
  );
  const delivered = new Map<string, Store>();
  for (const k of DELIVERABLE_KINDS) {
    if (OPTIONAL_KINDS.has(kindKey(k)) && !(await served(deps.client, k.apiVersion, k.kind))) {
      deps.logger.info({ kind: kindKey(k) }, 'not served by this cluster; Apps cannot deliver it');
      continue;
    }
    const inf = deps.informer({ apiVersion: k.apiVersion, kind: k.kind, labelSelector: LABEL_APP });
    inf.addIndex(INDEX_APP, deliveredByApp);
    builder.watches(inf, appsOf);
    delivered.set(kindKey(k), inf);
  }
  const revisions = deps.informer({ apiVersion: 'v1', kind: 'Secret', labelSelector: LABEL_REVISION_OF });
  revisions.addIndex(INDEX_APP, revisionsByApp);
  const reconciler = appReconciler({
    client: deps.client,
    apps,
    namespaces,
    delivered,
    revisions,
    sources: delivery.sources,
    drift: deps.drift,
    events: deps.events,
    resyncMs: delivery.resyncMs,
    logger: deps.logger.child({ controller: 'app' }),
  });
  return {
    ...builder.complete((key, ctx) => reconciler.reconcile(key, ctx)),
    gitPushed(repoUrl) {
      const wanted = identityOf(repoUrl);
      if (!wanted) return [];
      const keys: string[] = [];
      for (const a of apps.list()) {
        const url = a.spec.source.git?.url;
        if (!url || identityOf(url) !== wanted) continue;
        const key = keyOf(a.metadata);
        reconciler.invalidate(key);
        keys.push(key);
      }
      return keys;
    },
  };
}
