import { ConfigError, type Config } from '../../platform/config.ts';

/**
 * Platform settings that decide how an image App is reached. They come from `KUBEOP_EXPOSURE`,
 * `KUBEOP_INGRESS_CLASS`, `KUBEOP_GATEWAY`, `KUBEOP_CLUSTER_ISSUER` and `KUBEOP_EXTERNAL_DNS*`.
 */
export interface ExposureOptions {
  /** Ingress (optionally with a class) or an HTTPRoute attached to one platform Gateway. */
  route: { kind: 'Ingress'; ingressClass?: string } | { kind: 'HTTPRoute'; gateway: GatewayRef };
  /** The ClusterIssuer for TLS mode Auto; an App may name another. Unset: Auto needs the App's. */
  clusterIssuer?: string;
  /** Annotate routes for external-dns, optionally with a record TTL in seconds. */
  externalDns: { enabled: boolean; ttlSeconds?: number };
}

export interface GatewayRef {
  namespace: string;
  name: string;
}

/** The exposure settings of a loaded configuration; HTTPRoute without a Gateway is a ConfigError. */
export function exposureFromConfig(config: Config): ExposureOptions {
  let route: ExposureOptions['route'];
  if (config.KUBEOP_EXPOSURE === 'HTTPRoute') {
    const [namespace, name] = (config.KUBEOP_GATEWAY ?? '').split('/');
    if (!namespace || !name) {
      throw new ConfigError(
        'KUBEOP_GATEWAY',
        'KUBEOP_GATEWAY is required when KUBEOP_EXPOSURE=HTTPRoute: expected <namespace>/<name> of the parent Gateway',
      );
    }
    route = { kind: 'HTTPRoute', gateway: { namespace, name } };
  } else {
    route = {
      kind: 'Ingress',
      ...(config.KUBEOP_INGRESS_CLASS ? { ingressClass: config.KUBEOP_INGRESS_CLASS } : {}),
    };
  }
  return {
    route,
    ...(config.KUBEOP_CLUSTER_ISSUER ? { clusterIssuer: config.KUBEOP_CLUSTER_ISSUER } : {}),
    externalDns: {
      enabled: config.KUBEOP_EXTERNAL_DNS,
      ...(config.KUBEOP_EXTERNAL_DNS_TTL !== undefined ? { ttlSeconds: config.KUBEOP_EXTERNAL_DNS_TTL } : {}),
    },
  };
}
