import type { RuleContext, RuleFamily } from './rules/context.ts';
import {
  isRecord,
  record,
  toResponse,
  type AdmissionRequest,
  type AdmissionReview,
  type Decision,
  type Operation,
} from './review.ts';

const OPERATIONS = new Set<string>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/** The outcome of one HTTP call: an AdmissionReview to send back, or a 400 for a body that is none. */
export type ReviewOutcome =
  | { status: 200; review: AdmissionReview; decision: Decision; request: AdmissionRequest }
  | { status: 400; error: string };

/**
 * Checks that `body` is an AdmissionReview v1 with a request we can answer, and returns that request
 * with the fields rules rely on coerced to their types (kind, resource and userInfo present). Only a
 * body without a usable `request.uid` or operation is refused outright (400, which the API server
 * treats as a failed call: refused under failurePolicy Fail) — without the uid no answer can be
 * matched, and an operation no rule knows must not slip past the rules that check operations.
 */
export function parseReview(body: unknown): AdmissionRequest | string {
  if (!isRecord(body)) return 'the body is not a JSON object';
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') {
    return 'expected apiVersion admission.k8s.io/v1 and kind AdmissionReview';
  }
  const req = body.request;
  if (!isRecord(req)) return 'the AdmissionReview has no request';
  if (typeof req.uid !== 'string' || req.uid === '') return 'request.uid is missing';
  if (typeof req.operation !== 'string' || !OPERATIONS.has(req.operation)) {
    return 'request.operation must be CREATE, UPDATE, DELETE or CONNECT';
  }
  const kind = record(req.kind);
  const resource = record(req.resource);
  const user = record(req.userInfo);
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const out: AdmissionRequest = {
    uid: req.uid,
    kind: { group: text(kind.group), version: text(kind.version), kind: text(kind.kind) },
    resource: {
      group: text(resource.group),
      version: text(resource.version),
      resource: text(resource.resource),
    },
    operation: req.operation as Operation,
    userInfo: {
      username: text(user.username),
      groups: Array.isArray(user.groups) ? user.groups.filter((g): g is string => typeof g === 'string') : [],
    },
    object: req.object ?? undefined,
    oldObject: req.oldObject ?? undefined,
  };
  if (typeof req.subResource === 'string' && req.subResource) out.subResource = req.subResource;
  if (typeof req.name === 'string' && req.name) out.name = req.name;
  if (typeof req.namespace === 'string' && req.namespace) out.namespace = req.namespace;
  if (typeof req.dryRun === 'boolean') out.dryRun = req.dryRun;
  return out;
}

/** Called with each exception a rule family threw, for logging; the request is denied regardless. */
export type OnRuleError = (err: unknown, request: AdmissionRequest) => void;

/**
 * One webhook call, start to end, without I/O: parse, run the family, answer. Contract: never
 * throws; an exception inside a rule becomes a denial (rule `internal-error`) — a webhook that lets
 * a request through because it crashed would be no guardrail at all.
 */
export function handleReview(
  body: unknown,
  family: RuleFamily,
  ctx: RuleContext,
  onError: OnRuleError = () => {},
): ReviewOutcome {
  const request = parseReview(body);
  if (typeof request === 'string') return { status: 400, error: request };
  let decision: Decision;
  try {
    decision = family(request, ctx);
  } catch (err) {
    onError(err, request);
    decision = {
      allowed: false,
      violations: [
        {
          rule: 'internal-error',
          message: `kubeOP could not evaluate this ${request.kind.kind || 'request'} (${errorText(err)})`,
          fix: 'retry; if it keeps failing, report this message to the platform team',
        },
      ],
    };
  }
  return {
    status: 200,
    review: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: toResponse(request.uid, decision),
    },
    decision,
    request,
  };
}

function errorText(err: unknown): string {
  try {
    return String(err instanceof Error ? err.message : err).slice(0, 200);
  } catch {
    return 'unknown error';
  }
}
