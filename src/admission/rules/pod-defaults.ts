import { LABEL_PROJECT, LABEL_TENANT } from '../../domain/naming.ts';
import { parseQuantity } from '../../domain/quantity.ts';
import { parseImageReference } from '../image-reference.ts';
import {
  allow,
  deny,
  isRecord,
  pointer,
  record,
  str,
  strings,
  type AdmissionRequest,
  type Decision,
  type JsonPatchOperation,
} from '../review.ts';
import { cpuMemory, DEFAULT_CONTAINER_LIMITS } from '../../domain/limits.ts';
import { isViolation, tenantOf, type RuleContext } from './context.ts';

/** The operator's LimitRange defaults, shared so both paths give a pod the same resources. */
export const FALLBACK_LIMITS = DEFAULT_CONTAINER_LIMITS;

const RESOURCES = ['cpu', 'memory'] as const;

function lessThan(a: unknown, b: unknown): boolean {
  try {
    return parseQuantity(String(a)) < parseQuantity(String(b));
  } catch {
    return false;
  }
}

/**
 * Requests and limits for what a container leaves unset, from the project defaults. A default is
 * skipped when it would contradict an explicit value (a default request above the explicit limit,
 * a default limit below the explicit request): the API server would refuse the pod otherwise.
 */
function resourcePatch(
  base: Array<string | number>,
  resources: unknown,
  defaults: { defaultRequest: Record<string, string>; default: Record<string, string> },
): JsonPatchOperation[] {
  const requests = record(record(resources).requests);
  const limits = record(record(resources).limits);
  const addRequests: Record<string, string> = {};
  const addLimits: Record<string, string> = {};
  for (const r of RESOURCES) {
    const dReq = defaults.defaultRequest[r];
    const dLim = defaults.default[r];
    if (requests[r] === undefined && dReq && !(limits[r] !== undefined && lessThan(limits[r], dReq))) {
      addRequests[r] = dReq;
    }
    const effectiveRequest = requests[r] ?? addRequests[r];
    if (
      limits[r] === undefined &&
      dLim &&
      !(effectiveRequest !== undefined && lessThan(dLim, effectiveRequest))
    ) {
      addLimits[r] = dLim;
    }
  }
  const ops: JsonPatchOperation[] = [];
  const some = (o: object) => Object.keys(o).length > 0;
  if (!isRecord(resources)) {
    const value: Record<string, unknown> = {};
    if (some(addRequests)) value.requests = addRequests;
    if (some(addLimits)) value.limits = addLimits;
    if (some(value)) ops.push({ op: 'add', path: pointer(...base, 'resources'), value });
    return ops;
  }
  for (const [field, add, current] of [
    ['requests', addRequests, resources.requests],
    ['limits', addLimits, resources.limits],
  ] as const) {
    if (!some(add)) continue;
    if (!isRecord(current)) ops.push({ op: 'add', path: pointer(...base, 'resources', field), value: add });
    else
      for (const [k, v] of Object.entries(add))
        ops.push({ op: 'add', path: pointer(...base, 'resources', field, k), value: v });
  }
  return ops;
}

function isDigestPinned(image: string): boolean {
  try {
    return parseImageReference(image).digest !== undefined;
  } catch {
    return false;
  }
}

/**
 * The mutating rule family for Pods (CREATE). It only fills in what is missing, as a JSON Patch,
 * and never overrides an explicit value — an explicitly unsafe value is left for Pod Security
 * Admission `restricted` to refuse with its own message:
 *
 * - pod `securityContext.runAsNonRoot: true` and `seccompProfile: RuntimeDefault`;
 * - per container and init container `allowPrivilegeEscalation: false` and
 *   `capabilities.drop: [ALL]` (not for privileged containers or ones adding SYS_ADMIN, where the
 *   API server forbids the combination, and not on Windows pods);
 * - requests and limits from the Project's `spec.limits` (or the platform defaults);
 * - `imagePullPolicy: Always` for images not pinned by digest, with policy `Always`. This one does
 *   override: the API server has already defaulted the field to IfNotPresent before any webhook
 *   runs, so "missing" cannot be told apart, and a cached image must not be usable without the
 *   registry checking the pulling tenant's credentials (PL1-CC-DI-1);
 * - the labels paas.kubeop.io/tenant and paas.kubeop.io/project, set to the namespace's tenant and
 *   project (kubeOP's labels, so a wrong value is corrected).
 *
 * The patch is idempotent: applying it and running the family again yields an empty patch, which
 * makes reinvocation after other mutating webhooks safe.
 */
export function mutatePod(req: AdmissionRequest, ctx: RuleContext): Decision {
  if (req.operation !== 'CREATE' || req.kind.kind !== 'Pod' || req.subResource) return allow();
  const t = tenantOf(req.namespace, ctx);
  if (isViolation(t)) return deny(t);
  const pod = record(req.object);
  const ops: JsonPatchOperation[] = [];

  const wantLabels = { [LABEL_TENANT]: t.ns.tenant, [LABEL_PROJECT]: t.ns.project };
  const meta = pod.metadata;
  if (!isRecord(meta)) ops.push({ op: 'add', path: '/metadata', value: { labels: wantLabels } });
  else if (!isRecord(meta.labels)) ops.push({ op: 'add', path: '/metadata/labels', value: wantLabels });
  else {
    for (const [k, v] of Object.entries(wantLabels)) {
      if (meta.labels[k] !== v) {
        ops.push({
          op: k in meta.labels ? 'replace' : 'add',
          path: pointer('metadata', 'labels', k),
          value: v,
        });
      }
    }
  }

  const spec = pod.spec;
  if (!isRecord(spec)) return { allowed: true, patch: ops };
  const windows = str(record(spec.os).name) === 'windows';

  const podSc = spec.securityContext;
  const wantPodSc: Record<string, unknown> = { runAsNonRoot: true };
  if (!windows) wantPodSc.seccompProfile = { type: 'RuntimeDefault' };
  if (!isRecord(podSc)) ops.push({ op: 'add', path: '/spec/securityContext', value: wantPodSc });
  else {
    for (const [k, v] of Object.entries(wantPodSc)) {
      if (podSc[k] === undefined)
        ops.push({ op: 'add', path: pointer('spec', 'securityContext', k), value: v });
    }
  }

  const limits = ctx.view.project(t.ns.project)?.spec.limits;
  const defaults = {
    defaultRequest: {
      ...FALLBACK_LIMITS.defaultRequest,
      ...(limits ? cpuMemory(limits.defaultRequest) : {}),
    },
    default: { ...FALLBACK_LIMITS.default, ...(limits ? cpuMemory(limits.default) : {}) },
  };

  for (const field of ['initContainers', 'containers'] as const) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((c: unknown, index) => {
      if (!isRecord(c)) return;
      const base = ['spec', field, index];
      if (!windows) {
        const sc = c.securityContext;
        const adds = strings(record(record(sc).capabilities).add);
        const escalationAllowed =
          record(sc).privileged === true || adds.some((a) => a === 'SYS_ADMIN' || a === 'CAP_SYS_ADMIN');
        if (!isRecord(sc)) {
          const value: Record<string, unknown> = escalationAllowed ? {} : { allowPrivilegeEscalation: false };
          value.capabilities = { drop: ['ALL'] };
          ops.push({ op: 'add', path: pointer(...base, 'securityContext'), value });
        } else {
          if (!escalationAllowed && sc.allowPrivilegeEscalation === undefined) {
            ops.push({
              op: 'add',
              path: pointer(...base, 'securityContext', 'allowPrivilegeEscalation'),
              value: false,
            });
          }
          if (!isRecord(sc.capabilities)) {
            ops.push({
              op: 'add',
              path: pointer(...base, 'securityContext', 'capabilities'),
              value: { drop: ['ALL'] },
            });
          } else if (sc.capabilities.drop === undefined) {
            ops.push({
              op: 'add',
              path: pointer(...base, 'securityContext', 'capabilities', 'drop'),
              value: ['ALL'],
            });
          }
        }
      }
      if (ctx.imagePullPolicy === 'Always' && typeof c.image === 'string' && !isDigestPinned(c.image)) {
        if (c.imagePullPolicy !== 'Always') {
          ops.push({
            op: c.imagePullPolicy === undefined ? 'add' : 'replace',
            path: pointer(...base, 'imagePullPolicy'),
            value: 'Always',
          });
        }
      }
      ops.push(...resourcePatch(base, c.resources, defaults));
    });
  }
  return { allowed: true, patch: ops };
}
