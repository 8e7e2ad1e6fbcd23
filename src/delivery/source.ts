import type { App } from '../schemas/crds/types.ts';
import type { KubeObject } from '../schemas/kube-object.ts';

/**
 * The contract every delivery source (image, git, helm, raw) meets. A source turns an App into the
 * objects of one revision; it never writes to the cluster. The App controller then forces the objects
 * into the project's namespace, refuses what a tenant may not own, applies them as the project's
 * deployer ServiceAccount, records the inventory and prunes what left it.
 */
export interface Rendered {
  objects: KubeObject[];
  /** What identifies the revision: an image reference, a Git commit SHA, a chart name@version. */
  sourceRevision: string;
  /** Ask to be called again after this long even if nothing changes (Git polling). */
  requeueAfterMs?: number;
}

export interface SourceContext {
  app: App;
  /** The project namespace the App lives in; every rendered object ends up there. */
  namespace: string;
  /** Data of a Secret in the App's namespace, decoded to strings; undefined when it does not exist. */
  readSecret(name: string): Promise<Record<string, string> | undefined>;
  /** Data of a ConfigMap in the App's namespace; undefined when it does not exist. */
  readConfigMap(name: string): Promise<Record<string, string> | undefined>;
  signal?: AbortSignal;
}

export interface Source {
  render(ctx: SourceContext): Promise<Rendered>;
}

/**
 * Stable reasons a source can fail with; they become the `reason` of the App's Degraded/Ready
 * conditions, so they are part of the API.
 */
export type SourceFailureReason =
  | 'SourceUnreachable' // repository/registry/chart server not reachable or timed out
  | 'RevisionNotFound' // branch, tag, commit or chart version does not exist
  | 'CredentialsMissing' // referenced Secret or key missing
  | 'InvalidManifests' // YAML does not parse or an object lacks apiVersion/kind/metadata.name
  | 'ForbiddenObject' // cluster-scoped, another namespace, or a kind the project may not own
  | 'RenderFailed' // helm template / kustomize failed for another reason
  | 'SourceTooLarge'; // over a size limit

/**
 * A failure the App controller reports as a condition while leaving the last good revision running.
 * `message` is shown to tenants: it must say what to fix and must never contain a secret.
 * `retryable` failures are retried with backoff; the others wait for a spec change (or the poll).
 */
export class SourceError extends Error {
  readonly reason: SourceFailureReason;
  readonly retryable: boolean;
  constructor(
    reason: SourceFailureReason,
    message: string,
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SourceError';
    this.reason = reason;
    this.retryable = opts.retryable ?? reason === 'SourceUnreachable';
  }
}
