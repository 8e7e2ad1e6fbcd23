import { appUrl } from '../../../delivery/image/url.ts';
import type { App } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { objectHealth, type Readiness } from './health.ts';

export type { Readiness } from './health.ts';

/** One object's state; see health.ts. */
export const workloadReadiness = objectHealth;

/** The first workload that is not available decides; all available means the App is. */
export function revisionReadiness(
  desired: readonly KubeObject[],
  live: (o: KubeObject) => KubeObject | undefined,
): Readiness {
  let progressing: Readiness | undefined;
  for (const o of desired) {
    const r = workloadReadiness(live(o), o);
    if (r.state === 'Stalled') return r;
    if (r.state === 'Progressing') progressing ??= r;
  }
  return progressing ?? { state: 'Available' };
}

/**
 * `status.url`: from `spec.expose` when set (the image source's rule), otherwise from the first
 * Ingress host (https when a TLS entry covers it) or HTTPRoute hostname among the objects.
 */
export function deliveredUrl(app: App, objects: readonly KubeObject[]): string | undefined {
  const exposed = appUrl(app);
  if (exposed) return exposed;
  for (const o of objects) {
    if (o.kind === 'Ingress') {
      const spec = (o.spec ?? {}) as {
        rules?: Array<{ host?: string; http?: { paths?: Array<{ path?: string }> } }>;
        tls?: Array<{ hosts?: string[] }>;
      };
      const rule = spec.rules?.find((r) => r.host);
      if (!rule?.host) continue;
      const tls = spec.tls?.some((t) => t.hosts?.includes(rule.host!)) ?? false;
      return `${tls ? 'https' : 'http'}://${rule.host}${rule.http?.paths?.[0]?.path ?? '/'}`;
    }
    if (o.kind === 'HTTPRoute') {
      const host = ((o.spec ?? {}) as { hostnames?: string[] }).hostnames?.[0];
      if (host) return `https://${host}/`;
    }
  }
  return undefined;
}
