import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../../domain/naming.ts';
import { isTrusted } from '../identity.ts';
import { allow, deny, labelsOf, nameOf, type AdmissionRequest, type Decision } from '../review.ts';
import type { RuleContext } from './context.ts';

/** kubeOP's labels on a tenant namespace: tenancy, ownership, and the Pod Security level it set. */
export function isKubeopNamespaceLabel(key: string): boolean {
  return (
    key.startsWith('paas.kubeop.io/') ||
    key === LABEL_MANAGED_BY ||
    key.startsWith('pod-security.kubernetes.io/')
  );
}

const isTenantNamespace = (labels: Record<string, string>) =>
  labels[LABEL_TENANT] !== undefined || labels[LABEL_MANAGED_BY] === MANAGED_BY;

/**
 * Rule `namespace-labels`: only kubeOP (trusted identities) creates namespaces labelled as tenant
 * namespaces, and nobody else adds, changes or removes kubeOP's labels on one — the labels bind a
 * namespace to its tenant (policies, network isolation) and set Pod Security `restricted`.
 * Other labels and annotations stay free.
 */
export function validateNamespaceLabels(req: AdmissionRequest, ctx: RuleContext): Decision {
  if (isTrusted(req.userInfo, ctx.trusted)) return allow();
  const name = req.name ?? nameOf(req.object) ?? '';
  const now = labelsOf(req.object);
  if (req.operation === 'CREATE') {
    return isTenantNamespace(now)
      ? deny({
          rule: 'namespace-labels',
          message: `namespace ${name} carries kubeOP tenant labels; only kubeOP creates tenant namespaces`,
          fix: 'create a Project for the tenant and kubeOP creates its namespace, or leave out the paas.kubeop.io/ and app.kubernetes.io/managed-by labels',
        })
      : allow();
  }
  if (req.operation !== 'UPDATE') return allow();
  const before = labelsOf(req.oldObject);
  if (!isTenantNamespace(before) && !isTenantNamespace(now)) return allow();
  const keys = new Set([...Object.keys(before), ...Object.keys(now)].filter(isKubeopNamespaceLabel));
  const changed = [...keys].filter((k) => before[k] !== now[k]).sort();
  return changed.length
    ? deny({
        rule: 'namespace-labels',
        message: `the labels ${changed.join(', ')} of namespace ${name} are kubeOP's; tenants cannot add, change or remove them`,
        fix: "keep kubeOP's labels as they are; other labels and annotations may be changed",
      })
    : allow();
}
