import { createHash } from 'node:crypto';
import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../domain/naming.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { untrustedRequestCel, type TrustedIdentities } from './identity.ts';
import { WEBHOOKS, type WebhookDefinition } from './webhooks.ts';

export const VALIDATING_CONFIGURATION = 'kubeop-validating';
export const MUTATING_CONFIGURATION = 'kubeop-mutating';
/** Hash of the rendered configuration: a replica writes only when the live object differs. */
export const CONFIG_HASH_ANNOTATION = 'paas.kubeop.io/config-hash';

const ADMISSIONREGISTRATION = 'admissionregistration.k8s.io/v1';

/** How the API server reaches the webhook server: a URL (loopback, out of cluster) or a Service. */
export type WebhookEndpoint =
  { url: string } | { service: { namespace: string; name: string; port: number } };

export interface ConfigurationOptions {
  endpoint: WebhookEndpoint;
  /** PEM of the CA certificate(s) the API server trusts for the webhook server. */
  caBundlePem: string;
  /** kubeOP's own namespace; never subject to its webhooks. */
  systemNamespace: string;
  trusted: TrustedIdentities;
  timeoutSeconds: number;
  webhooks?: WebhookDefinition[];
}

function clientConfig(endpoint: WebhookEndpoint, path: string, caBundle: string): Record<string, unknown> {
  if ('url' in endpoint) return { url: `${endpoint.url.replace(/\/+$/, '')}${path}`, caBundle };
  return { service: { ...endpoint.service, path }, caBundle };
}

/**
 * The webhook configurations, generated from WEBHOOKS. Guarantees, for every webhook:
 * - it never applies in kube-system or kubeOP's own namespace, so the webhook can never block its
 *   own restart (or the control plane's);
 * - objects in namespaces are only sent from kubeOP tenant namespaces (managed-by=kubeop and a
 *   tenant label); Namespace objects only when they carry the tenant label before or after;
 * - failurePolicy Fail (these are security rules: an unreachable webhook refuses rather than lets
 *   through), sideEffects None (dry-run requests are judged too), a short timeout;
 * - families that exempt trusted identities skip them with a matchCondition, so the operator and
 *   the control plane do not depend on admission being up.
 */
export function renderWebhookConfigurations(opts: ConfigurationOptions): [KubeObject, KubeObject] {
  const caBundle = Buffer.from(opts.caBundlePem).toString('base64');
  const excluded = {
    key: 'kubernetes.io/metadata.name',
    operator: 'NotIn',
    values: [...new Set(['kube-system', opts.systemNamespace])],
  };
  const render = (w: WebhookDefinition): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      name: w.name,
      clientConfig: clientConfig(opts.endpoint, w.path, caBundle),
      rules: w.rules,
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      sideEffects: 'None',
      timeoutSeconds: opts.timeoutSeconds,
      admissionReviewVersions: ['v1'],
    };
    if (w.selection === 'tenant-namespaces') {
      out.namespaceSelector = {
        matchExpressions: [
          { key: LABEL_MANAGED_BY, operator: 'In', values: [MANAGED_BY] },
          { key: LABEL_TENANT, operator: 'Exists' },
          excluded,
        ],
      };
    } else if (w.selection === 'tenant-namespace-objects') {
      out.namespaceSelector = { matchExpressions: [excluded] };
      out.objectSelector = { matchExpressions: [{ key: LABEL_TENANT, operator: 'Exists' }] };
    }
    if (w.skipTrusted) {
      out.matchConditions = [{ name: 'not-trusted', expression: untrustedRequestCel(opts.trusted) }];
    }
    if (w.type === 'mutating') out.reinvocationPolicy = 'IfNeeded';
    return out;
  };
  const webhooks = opts.webhooks ?? WEBHOOKS;
  const config = (kind: string, name: string, type: WebhookDefinition['type']): KubeObject => {
    const body = { webhooks: webhooks.filter((w) => w.type === type).map(render) };
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
    return {
      apiVersion: ADMISSIONREGISTRATION,
      kind,
      metadata: {
        name,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY },
        annotations: { [CONFIG_HASH_ANNOTATION]: hash },
      },
      ...body,
    };
  };
  return [
    config('ValidatingWebhookConfiguration', VALIDATING_CONFIGURATION, 'validating'),
    config('MutatingWebhookConfiguration', MUTATING_CONFIGURATION, 'mutating'),
  ];
}

/** The CA bundle (PEM) each webhook of a live configuration carries, decoded. */
export function liveCaBundles(config: unknown): string[] {
  const webhooks = (config as { webhooks?: Array<{ clientConfig?: { caBundle?: string } }> })?.webhooks ?? [];
  return webhooks.map((w) => Buffer.from(w.clientConfig?.caBundle ?? '', 'base64').toString('utf8'));
}
