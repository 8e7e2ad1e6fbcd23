/**
 * AdmissionReview v1 (admission.k8s.io/v1) as the API server sends and expects it, and the one
 * decision shape every rule family returns. Only the fields kubeOP reads are typed; objects stay
 * `unknown` until a rule has checked their shape, because a webhook must survive any input.
 */

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  /** base64 of a JSON Patch (RFC 6902) document. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** One broken rule: which rule refused, what is wrong, and how to fix the object. */
export interface Violation {
  /** Stable rule id, documented in docs/admission.md (`allowed-registries`, `managed-object`, …). */
  rule: string;
  message: string;
  fix: string;
}

export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** What a rule family decides. Validating families return violations; mutating ones a patch. */
export type Decision =
  | { allowed: true; patch?: JsonPatchOperation[]; warnings?: string[] }
  | { allowed: false; violations: Violation[] };

export const allow = (): Decision => ({ allowed: true });

export const deny = (...violations: Violation[]): Decision =>
  violations.length ? { allowed: false, violations } : { allowed: true };

/** `kubeOP rule <id>: <message>. Fix: <fix>` — one sentence per violation, in order. */
export function denialMessage(violations: Violation[]): string {
  return violations.map((v) => `kubeOP rule ${v.rule}: ${v.message}. Fix: ${v.fix}.`).join(' ');
}

/** The AdmissionResponse for a decision; a patch is sent only when it changes something. */
export function toResponse(uid: string, decision: Decision): AdmissionResponse {
  if (!decision.allowed) {
    return {
      uid,
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: denialMessage(decision.violations) },
    };
  }
  const response: AdmissionResponse = { uid, allowed: true };
  if (decision.patch?.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  if (decision.warnings?.length) response.warnings = decision.warnings;
  return response;
}

/** A JSON Pointer (RFC 6901) from path segments: `/` and `~` in a key are escaped. */
export function pointer(...segments: Array<string | number>): string {
  return segments.map((s) => '/' + String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

// Small readers for untrusted JSON: they never throw, whatever the input.

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function record(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

export function records(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

export function labelsOf(obj: unknown): Record<string, string> {
  const labels = record(record(record(obj).metadata).labels);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function nameOf(obj: unknown): string | undefined {
  return str(record(record(obj).metadata).name);
}
