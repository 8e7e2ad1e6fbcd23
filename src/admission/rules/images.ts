import type { Tenant } from '../../schemas/crds/types.ts';
import {
  formatImageReference,
  ImageReferenceError,
  parseImageReference,
  registryAllows,
} from '../image-reference.ts';
import { containersOf, describeContainer, podSpecOf } from '../pod-spec.ts';
import { deny, type AdmissionRequest, type Decision, type Violation } from '../review.ts';
import { isViolation, tenantOf, type RuleContext } from './context.ts';

/** An image to judge and where it appears, for the message (`container "app" of this Pod`). */
export interface ImageUse {
  where: string;
  image: unknown;
}

/**
 * Images only from the tenant's `spec.policy.allowedRegistries` (rule `allowed-registries`); an
 * empty or absent list allows any registry. Every image must parse as a reference (rule
 * `image-reference`) whatever the list says, so the registry judged is the registry pulled from.
 */
export function imageViolations(uses: ImageUse[], tenantName: string, tenant: Tenant): Violation[] {
  const allowed = tenant.spec.policy?.allowedRegistries ?? [];
  const out: Violation[] = [];
  for (const { where, image } of uses) {
    if (typeof image !== 'string') {
      out.push({
        rule: 'image-reference',
        message: `${where} has no image`,
        fix: 'set the image, for example ghcr.io/acme/web:1.2',
      });
      continue;
    }
    let ref;
    try {
      ref = parseImageReference(image);
    } catch (err) {
      if (!(err instanceof ImageReferenceError)) throw err;
      out.push({
        rule: 'image-reference',
        message: `${where}: ${err.message}`,
        fix: 'write the image as [registry[:port]/]repository[:tag][@sha256:digest], for example ghcr.io/acme/web:1.2',
      });
      continue;
    }
    if (allowed.length === 0 || allowed.some((entry) => registryAllows(entry, ref))) continue;
    out.push({
      rule: 'allowed-registries',
      message: `${where} uses image "${image}", which is pulled from ${formatImageReference({ registry: ref.registry, repository: ref.repository })}; tenant ${tenantName} allows images only from ${allowed.join(', ')}`,
      fix: `use an image from one of those registries, or ask a platform admin to add its registry to spec.policy.allowedRegistries of Tenant ${tenantName}`,
    });
  }
  return out;
}

/** The images of every container of the object's pod spec, with where each one sits. */
export function imageUses(kind: string, obj: unknown, what = `this ${kind}`): ImageUse[] {
  return containersOf(podSpecOf(kind, obj)).map((e) => ({
    where: `${describeContainer(e)} of ${what}`,
    image: e.container.image,
  }));
}

/**
 * Rule family for Pods (and their ephemeral containers) and the workloads with pod templates.
 * On UPDATE only images the update introduces are judged: tightening a tenant's policy must not
 * block scaling, relabelling or deleting what already runs (new pods are judged when created).
 */
export function validateWorkloadImages(req: AdmissionRequest, ctx: RuleContext): Decision {
  const t = tenantOf(req.namespace, ctx);
  if (isViolation(t)) return deny(t);
  const kind = req.kind.kind;
  const existing = new Set(
    req.operation === 'UPDATE' ? imageUses(kind, req.oldObject).map((u) => u.image) : [],
  );
  const uses = imageUses(kind, req.object).filter((u) => !existing.has(u.image));
  return deny(...imageViolations(uses, t.ns.tenant, t.tenant));
}
