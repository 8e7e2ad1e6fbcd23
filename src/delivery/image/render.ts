import { cpuMemory } from '../../domain/limits.ts';
import { appLabelValue, LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY } from '../../domain/naming.ts';
import type { App } from '../../schemas/crds/types.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { SourceError } from '../source.ts';
import type { ExposureOptions } from './options.ts';

/**
 * Pure renderers of an image App: Deployment, Service, Ingress or HTTPRoute (with cert-manager and
 * external-dns), HorizontalPodAutoscaler and PodDisruptionBudget. Nothing here reads the cluster;
 * the image source checks referenced Secrets first, then calls `renderImageApp`.
 *
 * Renderings leave out empty maps and lists and fields the API server defaults differently, so a
 * live object that matches is a superset of its rendering (the App controller's drift check).
 */

export const ANNOTATION_CLUSTER_ISSUER = 'cert-manager.io/cluster-issuer';
export const ANNOTATION_DNS_HOSTNAME = 'external-dns.alpha.kubernetes.io/hostname';
export const ANNOTATION_DNS_TTL = 'external-dns.alpha.kubernetes.io/ttl';
const CONTAINER = 'app';

type Spec = App['spec'];

/**
 * Labels of every rendered object and of the pods. Objects are named, and pods selected, by
 * `appLabelValue(app name)`: the App name where it is a valid Service name, else a hashed short form.
 */
export function appLabels(app: App): Record<string, string> {
  const name = appLabelValue(app.metadata.name);
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    'app.kubernetes.io/name': name,
    [LABEL_APP]: name,
  };
}

/** What selects the App's pods; it never changes, since a Deployment's selector is immutable. */
export function appSelector(app: App): Record<string, string> {
  return { [LABEL_APP]: appLabelValue(app.metadata.name) };
}

function meta(app: App, namespace: string, annotations?: Record<string, string>) {
  return {
    name: appLabelValue(app.metadata.name),
    namespace,
    labels: appLabels(app),
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
}

function imageOf(app: App) {
  const image = app.spec.source.image;
  if (!image) throw new SourceError('RenderFailed', `App ${app.metadata.name} has no spec.source.image`);
  return image;
}

/** The container port traffic from the Service and the Ingress/HTTPRoute goes to, if any. */
export function exposedPort(spec: Spec): number | undefined {
  return spec.expose?.port ?? spec.ports?.[0]?.containerPort;
}

function resources(spec: Spec): Record<string, unknown> | undefined {
  const requests = cpuMemory(spec.resources?.requests);
  const limits = cpuMemory(spec.resources?.limits);
  if (!requests && !limits) return undefined;
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

type Probe = NonNullable<NonNullable<Spec['probes']>['readiness']>;

function probe(app: App, which: 'readiness' | 'liveness', p: Probe | undefined) {
  if (!p) return undefined;
  const port = p.port ?? exposedPort(app.spec);
  if (port === undefined) {
    throw new SourceError(
      'RenderFailed',
      `the ${which} probe of App ${app.metadata.name} has no port: set probes.${which}.port, spec.ports or expose.port`,
    );
  }
  return {
    httpGet: { path: p.path, port },
    ...(p.initialDelaySeconds !== undefined ? { initialDelaySeconds: p.initialDelaySeconds } : {}),
    ...(p.periodSeconds !== undefined ? { periodSeconds: p.periodSeconds } : {}),
  };
}

function env(spec: Spec) {
  return (spec.env ?? []).map((e) =>
    e.secretKeyRef
      ? { name: e.name, valueFrom: { secretKeyRef: { name: e.secretKeyRef.name, key: e.secretKeyRef.key } } }
      : // The API server drops an empty value; rendering it would look like drift forever.
        { name: e.name, ...(e.value ? { value: e.value } : {}) },
  );
}

/**
 * The Deployment. Its pod passes Pod Security `restricted` (what project namespaces enforce): non-root,
 * RuntimeDefault seccomp, no privilege escalation, every capability dropped, no service account token.
 * The image must therefore run as a non-root (numeric) user. With autoscaling, `replicas` is left to
 * the HorizontalPodAutoscaler so the two never fight.
 */
export function renderDeployment(app: App, namespace: string): KubeObject {
  const spec = app.spec;
  const image = imageOf(app);
  const ports = (spec.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    containerPort: p.containerPort,
    protocol: p.protocol ?? 'TCP',
  }));
  const variables = env(spec);
  const envFrom = (spec.envFromSecrets ?? []).map((name) => ({ secretRef: { name } }));
  const container: Record<string, unknown> = {
    name: CONTAINER,
    image: image.ref,
    ...(ports.length ? { ports } : {}),
    ...(variables.length ? { env: variables } : {}),
    ...(envFrom.length ? { envFrom } : {}),
  };
  const res = resources(spec);
  if (res) container.resources = res;
  const readiness = probe(app, 'readiness', spec.probes?.readiness);
  if (readiness) container.readinessProbe = readiness;
  const liveness = probe(app, 'liveness', spec.probes?.liveness);
  if (liveness) container.livenessProbe = liveness;
  container.securityContext = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(app, namespace),
    spec: {
      ...(spec.autoscaling ? {} : { replicas: spec.replicas ?? 1 }),
      selector: { matchLabels: appSelector(app) },
      template: {
        metadata: { labels: appLabels(app) },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          ...(image.pullSecretName ? { imagePullSecrets: [{ name: image.pullSecretName }] } : {}),
          containers: [container],
        },
      },
    },
  };
}

/** A ClusterIP Service for the declared ports (and the exposed one); undefined when there is none. */
export function renderService(app: App, namespace: string): KubeObject | undefined {
  const spec = app.spec;
  const ports = (spec.ports ?? []).map((p) => {
    const protocol = p.protocol ?? 'TCP';
    return {
      name: p.name ?? `${protocol.toLowerCase()}-${p.containerPort}`,
      port: p.containerPort,
      targetPort: p.containerPort,
      protocol,
    };
  });
  const exposed = spec.expose ? exposedPort(spec) : undefined;
  if (exposed !== undefined && !ports.some((p) => p.port === exposed && p.protocol === 'TCP')) {
    ports.push({ name: `tcp-${exposed}`, port: exposed, targetPort: exposed, protocol: 'TCP' });
  }
  if (!ports.length) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(app, namespace),
    spec: { type: 'ClusterIP', selector: appSelector(app), ports },
  };
}

/** How the hosts get TLS: the ClusterIssuer for Auto, the Secret for Secret, nothing for None. */
export type TlsPlan =
  | { mode: 'Auto'; clusterIssuer: string; secretName: string }
  | { mode: 'Secret'; secretName: string }
  | { mode: 'None' };

export function tlsPlan(app: App, opts: Pick<ExposureOptions, 'clusterIssuer'>): TlsPlan {
  const tls = app.spec.expose?.tls;
  const mode = tls?.mode ?? 'Auto';
  if (mode === 'None') return { mode };
  if (mode === 'Secret') {
    if (!tls?.secretName) {
      throw new SourceError('RenderFailed', 'expose.tls.mode Secret needs expose.tls.secretName');
    }
    return { mode, secretName: tls.secretName };
  }
  const clusterIssuer = tls?.clusterIssuer ?? opts.clusterIssuer;
  if (!clusterIssuer) {
    throw new SourceError(
      'RenderFailed',
      'TLS mode Auto needs a cert-manager ClusterIssuer and the platform configures none (KUBEOP_CLUSTER_ISSUER): set expose.tls.clusterIssuer, or use expose.tls.mode Secret or None',
    );
  }
  return { mode, clusterIssuer, secretName: `${appLabelValue(app.metadata.name)}-tls` };
}

function dnsAnnotations(hosts: string[], opts: ExposureOptions): Record<string, string> {
  if (!opts.externalDns.enabled) return {};
  return {
    [ANNOTATION_DNS_HOSTNAME]: hosts.join(','),
    ...(opts.externalDns.ttlSeconds !== undefined
      ? { [ANNOTATION_DNS_TTL]: String(opts.externalDns.ttlSeconds) }
      : {}),
  };
}

type Expose = NonNullable<Spec['expose']>;

function paths(expose: Expose): string[] {
  return expose.paths?.length ? expose.paths : ['/'];
}

/** An Ingress; with TLS Auto, cert-manager's ingress-shim issues the certificate it names. */
export function renderIngress(app: App, namespace: string, opts: ExposureOptions, tls: TlsPlan): KubeObject {
  const expose = app.spec.expose as Expose;
  const port = exposedPort(app.spec) as number;
  const name = appLabelValue(app.metadata.name);
  const ingressClass = opts.route.kind === 'Ingress' ? opts.route.ingressClass : undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(app, namespace, {
      ...(tls.mode === 'Auto' ? { [ANNOTATION_CLUSTER_ISSUER]: tls.clusterIssuer } : {}),
      ...dnsAnnotations(expose.hosts, opts),
    }),
    spec: {
      ...(ingressClass ? { ingressClassName: ingressClass } : {}),
      ...(tls.mode === 'None' ? {} : { tls: [{ hosts: expose.hosts, secretName: tls.secretName }] }),
      rules: expose.hosts.map((host) => ({
        host,
        http: {
          paths: paths(expose).map((path) => ({
            path,
            pathType: 'Prefix',
            backend: { service: { name, port: { number: port } } },
          })),
        },
      })),
    },
  };
}

/**
 * An HTTPRoute attached to the platform Gateway. TLS ends at the Gateway's listeners; with TLS
 * Auto a cert-manager Certificate (see renderCertificate) puts the certificate in the App's namespace.
 */
export function renderHttpRoute(
  app: App,
  namespace: string,
  opts: ExposureOptions & { route: { kind: 'HTTPRoute' } },
): KubeObject {
  const expose = app.spec.expose as Expose;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: meta(app, namespace, dnsAnnotations(expose.hosts, opts)),
    spec: {
      parentRefs: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          namespace: opts.route.gateway.namespace,
          name: opts.route.gateway.name,
        },
      ],
      hostnames: expose.hosts,
      rules: [
        {
          matches: paths(expose).map((value) => ({ path: { type: 'PathPrefix', value } })),
          backendRefs: [{ name: appLabelValue(app.metadata.name), port: exposedPort(app.spec) as number }],
        },
      ],
    },
  };
}

/** A cert-manager Certificate for the hosts, issued by a ClusterIssuer into `secretName`. */
export function renderCertificate(app: App, namespace: string, tls: TlsPlan & { mode: 'Auto' }): KubeObject {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: meta(app, namespace),
    spec: {
      secretName: tls.secretName,
      dnsNames: (app.spec.expose as Expose).hosts,
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: tls.clusterIssuer },
    },
  };
}

export function renderAutoscaler(app: App, namespace: string): KubeObject | undefined {
  const a = app.spec.autoscaling;
  if (!a) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(app, namespace),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: appLabelValue(app.metadata.name) },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage ?? 80 },
          },
        },
      ],
    },
  };
}

export function renderDisruptionBudget(app: App, namespace: string): KubeObject | undefined {
  const budget = app.spec.disruptionBudget;
  if (!budget) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(app, namespace),
    spec: { minAvailable: budget.minAvailable, selector: { matchLabels: appSelector(app) } },
  };
}

/** Everything an image App consists of, in apply order. Throws SourceError on an unusable spec. */
export function renderImageApp(app: App, namespace: string, opts: ExposureOptions): KubeObject[] {
  const out: KubeObject[] = [renderDeployment(app, namespace)];
  const service = renderService(app, namespace);
  if (service) out.push(service);
  if (app.spec.expose) {
    if (exposedPort(app.spec) === undefined) {
      throw new SourceError(
        'RenderFailed',
        `App ${app.metadata.name} is exposed but has no container port: set spec.ports or expose.port`,
      );
    }
    const tls = tlsPlan(app, opts);
    if (opts.route.kind === 'HTTPRoute') {
      if (tls.mode === 'Auto') out.push(renderCertificate(app, namespace, tls));
      out.push(renderHttpRoute(app, namespace, { ...opts, route: opts.route }));
    } else {
      out.push(renderIngress(app, namespace, opts, tls));
    }
  }
  const hpa = renderAutoscaler(app, namespace);
  if (hpa) out.push(hpa);
  const pdb = renderDisruptionBudget(app, namespace);
  if (pdb) out.push(pdb);
  return out;
}

/** A Secret the App's pods need, and where the App refers to it (for the error message). */
export interface SecretUse {
  name: string;
  key?: string;
  where: string;
}

/** Every Secret the rendered objects depend on; the source checks they exist before applying. */
export function secretUses(app: App): SecretUse[] {
  const spec = app.spec;
  const out: SecretUse[] = [];
  const pull = spec.source.image?.pullSecretName;
  if (pull) out.push({ name: pull, where: 'spec.source.image.pullSecretName' });
  for (const e of spec.env ?? []) {
    if (e.secretKeyRef) {
      out.push({ name: e.secretKeyRef.name, key: e.secretKeyRef.key, where: `env ${e.name}` });
    }
  }
  (spec.envFromSecrets ?? []).forEach((name, i) => out.push({ name, where: `spec.envFromSecrets[${i}]` }));
  const tls = spec.expose?.tls;
  if (tls?.mode === 'Secret' && tls.secretName) {
    out.push({ name: tls.secretName, key: 'tls.crt', where: 'spec.expose.tls.secretName' });
  }
  return out;
}
