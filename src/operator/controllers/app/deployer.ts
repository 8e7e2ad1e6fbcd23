import { KubeApiError, type Impersonation, type KubeClient } from '../../../kube/client.ts';
import { resourcePath, resourceType } from '../../../kube/resources.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { DEPLOYER } from '../project/rbac.ts';
import { DeliveryFailure } from './failure.ts';
import { describeObject } from './prepare.ts';

/**
 * Every write of a delivered object goes as the project's deployer ServiceAccount, so the API
 * server's RBAC (the deployer Role), quotas and admission decide what an App's source may create —
 * not trust in the source. Only the App's status and its stored revisions are written as the operator.
 */
export function deployerOf(namespace: string): Impersonation {
  return { user: `system:serviceaccount:${namespace}:${DEPLOYER}` };
}

/** Why the API server refused a delivered object, as a reason and a tenant-facing message. */
export function refusal(err: unknown, obj: KubeObject): { reason: string; message: string } | undefined {
  if (!(err instanceof KubeApiError)) return undefined;
  const what = `${obj.apiVersion} ${describeObject(obj)}`;
  const said = err.message.replace(/^\S+ \S+: \d+ /, '');
  if (err.code === 403 && /exceeded quota/i.test(said)) {
    return { reason: 'QuotaExceeded', message: `${what} does not fit the project quota: ${said}` };
  }
  if (err.code === 403) return { reason: 'ForbiddenObject', message: `${what} was refused: ${said}` };
  if (err.code === 404) {
    return {
      reason: 'ForbiddenObject',
      message: `${what}: this cluster does not serve ${obj.apiVersion} ${obj.kind} (${said})`,
    };
  }
  // Server-side apply reports a value of the wrong type as a 500 "failed to create typed patch object".
  if (err.code === 400 || err.code === 422 || /typed patch object/.test(said)) {
    return { reason: 'InvalidManifests', message: `${what} is invalid: ${said}` };
  }
  return undefined;
}

function applyPath(client: KubeClient, obj: KubeObject, dryRun: boolean): string {
  const r = resourceType(obj.apiVersion, obj.kind);
  const query = `?fieldManager=${encodeURIComponent(client.fieldManager)}&force=true${dryRun ? '&dryRun=All' : ''}`;
  return resourcePath(r, obj.metadata.namespace, obj.metadata.name) + query;
}

/**
 * Server-side dry run of every object as the deployer, before any is applied: RBAC, quota,
 * admission webhooks and schema validation all answer, and nothing changes. So a revision with one
 * bad object is refused as a whole and the last good one keeps running untouched (nothing is ever
 * half-applied because of a refusal). Throws DeliveryFailure for a refusal; other errors as they come.
 */
export async function dryRunAll(client: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const obj of objects) {
    try {
      await client.request('PATCH', applyPath(client, obj, true), {
        body: obj,
        contentType: 'application/apply-patch+yaml',
        impersonate: deployerOf(obj.metadata.namespace!),
      });
    } catch (err) {
      const r = refusal(err, obj);
      if (!r) throw err;
      throw new DeliveryFailure(r.reason, r.message, { cause: err });
    }
  }
}

/** Server-side apply as the deployer; returns the object as the API server stored it. */
export function applyAsDeployer(client: KubeClient, obj: KubeObject): Promise<KubeObject> {
  return client.apply(obj, { impersonate: deployerOf(obj.metadata.namespace!) });
}

export function deleteAsDeployer(
  client: KubeClient,
  ref: { apiVersion: string; kind: string; name: string; namespace: string },
): Promise<boolean> {
  return client.delete(ref, { impersonate: deployerOf(ref.namespace) });
}
