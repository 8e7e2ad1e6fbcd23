import { isTrusted } from '../identity.ts';
import { allow, deny, record, str, type AdmissionRequest, type Decision } from '../review.ts';
import type { RuleContext } from './context.ts';

/**
 * Rule `pvc-volume-name`: a tenant's PersistentVolumeClaim may not name an existing
 * PersistentVolume (`spec.volumeName`). A released volume with reclaim policy Retain still holds its
 * previous user's data; binding to it by name is how one tenant would read another's. Claims are
 * provisioned fresh by their StorageClass instead. Trusted identities (platform admins who
 * pre-provision volumes as system:masters, the operator) pass.
 */
export function validateVolumeClaim(req: AdmissionRequest, ctx: RuleContext): Decision {
  if (req.operation !== 'CREATE' || isTrusted(req.userInfo, ctx.trusted)) return allow();
  const volumeName = str(record(record(req.object).spec).volumeName);
  if (!volumeName) return allow();
  return deny({
    rule: 'pvc-volume-name',
    message: `spec.volumeName binds the claim to the existing PersistentVolume ${volumeName}, which may still hold another tenant's data`,
    fix: 'leave out spec.volumeName and let the StorageClass provision a new volume',
  });
}
