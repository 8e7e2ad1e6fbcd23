import { CLUSTER_SCOPED_KINDS } from '../../kube/resources.ts';
import { isTrusted } from '../identity.ts';
import {
  allow,
  deny,
  isRecord,
  nameOf,
  record,
  str,
  type AdmissionRequest,
  type Decision,
  type Violation,
} from '../review.ts';
import { appHosts } from '../tenancy.ts';
import { isViolation, tenantOf, type RuleContext } from './context.ts';
import { hostnameViolations } from './hostnames.ts';
import { imageUses, imageViolations, type ImageUse } from './images.ts';

/**
 * Rule `project-tenant`: a Project may only name a tenant its author owns (directly or through a
 * group in the tenant's `spec.owners`). Trusted identities pass — the operator, the control plane
 * and cluster administrators create projects for any tenant. RBAC normally keeps tenant users away
 * from Projects altogether; this rule holds when a platform team delegates project creation.
 */
export function validateProject(req: AdmissionRequest, ctx: RuleContext): Decision {
  if (isTrusted(req.userInfo, ctx.trusted)) return allow();
  const tenantName = str(record(record(record(req.object).spec).tenantRef).name) ?? '';
  const user = req.userInfo.username ?? '';
  const groups = Array.isArray(req.userInfo.groups) ? req.userInfo.groups : [];
  const tenant = ctx.view.tenant(tenantName);
  const owns = (tenant?.spec.owners ?? []).some(
    (o) => (o.kind === 'User' && o.name === user) || (o.kind === 'Group' && groups.includes(o.name)),
  );
  if (owns) return allow();
  // One message whether or not the tenant exists, so the answer does not reveal other tenants.
  return deny({
    rule: 'project-tenant',
    message: `Project ${req.name ?? nameOf(req.object) ?? ''} names tenant "${tenantName}", and ${user || 'the requester'} is not an owner of such a tenant`,
    fix: 'set spec.tenantRef.name to a tenant you own, or ask an owner of that tenant (or a platform admin) to create the Project',
  });
}

function appImages(app: unknown): { uses: ImageUse[]; manifests: Array<Record<string, unknown>> } {
  const source = record(record(record(app).spec).source);
  const uses: ImageUse[] = [];
  const image = record(source.image);
  if (image.ref !== undefined) uses.push({ where: 'spec.source.image.ref of this App', image: image.ref });
  const manifests = Array.isArray(record(source.raw).manifests)
    ? (record(source.raw).manifests as unknown[])
    : [];
  const objects = manifests.filter(isRecord);
  objects.forEach((m, i) => {
    const kind = str(m.kind) ?? '';
    uses.push(...imageUses(kind, m, `spec.source.raw.manifests[${i}] (${kind} ${nameOf(m) ?? ''})`));
  });
  return { uses, manifests: objects };
}

/**
 * Rule family for Apps, judged up front so a tenant learns at `kubectl apply` time what delivery
 * would be refused later: raw manifests stay in the App's namespace and are namespaced kinds (rule
 * `app-namespace`), images follow the tenant's registries (`allowed-registries`,
 * `image-reference`), and `spec.expose.hosts` follow the hostname rules. Applies to everyone: it is
 * the tenant's policy, not the requester's rights. On UPDATE only what the update adds is judged.
 */
export function validateApp(req: AdmissionRequest, ctx: RuleContext): Decision {
  const t = tenantOf(req.namespace, ctx);
  if (isViolation(t)) return deny(t);
  const isUpdate = req.operation === 'UPDATE';
  const out: Violation[] = [];
  const { uses, manifests } = appImages(req.object);

  manifests.forEach((m, i) => {
    const kind = str(m.kind) ?? '';
    const where = `spec.source.raw.manifests[${i}] (${kind} ${nameOf(m) ?? ''})`;
    const ns = str(record(m.metadata).namespace);
    if (CLUSTER_SCOPED_KINDS.has(kind)) {
      out.push({
        rule: 'app-namespace',
        message: `${where} is cluster-scoped; an App deploys namespaced objects into its own namespace only`,
        fix: `remove the ${kind} from the App; cluster-scoped objects are the platform team's`,
      });
    } else if (ns !== undefined && ns !== t.ns.namespace) {
      out.push({
        rule: 'app-namespace',
        message: `${where} names namespace ${ns}; an App deploys into its own namespace ${t.ns.namespace} only`,
        fix: "remove metadata.namespace from the manifest: kubeOP places it in the App's namespace",
      });
    }
  });

  const oldImages = new Set(isUpdate ? appImages(req.oldObject).uses.map((u) => u.image) : []);
  out.push(
    ...imageViolations(
      uses.filter((u) => !oldImages.has(u.image)),
      t.ns.tenant,
      t.tenant,
    ),
  );

  const oldHosts = new Set(isUpdate ? appHosts(req.oldObject) : []);
  out.push(
    ...hostnameViolations({
      hosts: appHosts(req.object).filter((h) => !oldHosts.has(h)),
      tenantName: t.ns.tenant,
      tenant: t.tenant,
      self: { kind: 'App', namespace: t.ns.namespace, name: req.name ?? nameOf(req.object) },
      view: ctx.view,
    }),
  );
  return deny(...out);
}
