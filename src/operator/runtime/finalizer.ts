import { FINALIZER } from '../../domain/naming.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import type { Result } from './controller.ts';

export interface FinalizerHandlers {
  /** Brings the live object's world to its desired state. Idempotent. */
  apply: () => Promise<Result>;
  /**
   * Removes what the object made outside owner references. Idempotent; resolves true once all of it
   * is gone (the finalizer is then removed), false while deletion is still under way.
   */
  cleanup: () => Promise<boolean>;
}

/**
 * The finalizer protocol of every kubeOP controller, in one place. A live object gets kubeOP's
 * finalizer before anything is created for it, so nothing can be orphaned; an object being deleted
 * keeps it until `cleanup` reports everything gone, and only then is it removed — by server-side
 * apply of an empty list under kubeOP's field manager, which removes only kubeOP's own entry.
 */
export async function reconcileWithFinalizer(
  client: { apply: (obj: KubeObject) => Promise<unknown> },
  obj: KubeObject,
  handlers: FinalizerHandlers,
  retryMs = 2000,
): Promise<Result> {
  const has = obj.metadata.finalizers?.includes(FINALIZER) ?? false;
  const set = (finalizers: string[]) =>
    client.apply({
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: {
        name: obj.metadata.name,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        finalizers,
      },
    });
  if (obj.metadata.deletionTimestamp) {
    if (!has) return;
    if (!(await handlers.cleanup())) return { requeueAfterMs: retryMs };
    await set([]);
    return;
  }
  if (!has) await set([FINALIZER]);
  return handlers.apply();
}
