import { describe, expect, it } from 'vitest';
import type { App } from '../../schemas/crds/types.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { SourceError } from '../source.ts';
import { appLabelValue } from '../../domain/naming.ts';
import type { ExposureOptions } from './options.ts';
import {
  renderDeployment,
  renderImageApp,
  renderService,
  secretUses,
  tlsPlan,
  ANNOTATION_CLUSTER_ISSUER,
  ANNOTATION_DNS_HOSTNAME,
  ANNOTATION_DNS_TTL,
} from './render.ts';

const NS = 'acme-web-1234abcd';

const app = (spec: Partial<App['spec']> = {}, name = 'web'): App => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'App',
  metadata: { name, namespace: NS },
  spec: { source: { image: { ref: 'ghcr.io/acme/web:1.0' } }, ...spec },
});

const ingress: ExposureOptions = {
  route: { kind: 'Ingress' },
  clusterIssuer: 'letsencrypt',
  externalDns: { enabled: true },
};
const gateway: ExposureOptions = {
  route: { kind: 'HTTPRoute', gateway: { namespace: 'gateway-system', name: 'public' } },
  clusterIssuer: 'letsencrypt',
  externalDns: { enabled: true, ttlSeconds: 120 },
};

const exposed = (tls?: NonNullable<App['spec']['expose']>['tls'], more: Partial<App['spec']> = {}) =>
  app({
    ports: [{ containerPort: 8080 }],
    expose: { hosts: ['web.acme.example', 'www.acme.example'], ...(tls ? { tls } : {}) },
    ...more,
  });

type Obj = KubeObject & { spec: Record<string, unknown> };
const byKind = (objs: KubeObject[], kind: string) => objs.find((o) => o.kind === kind) as Obj | undefined;
const podSpec = (d: KubeObject) =>
  (d as unknown as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
const container = (d: KubeObject) => (podSpec(d).containers as Array<Record<string, unknown>>)[0]!;

function sourceError(fn: () => unknown): SourceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SourceError);
    return e as SourceError;
  }
  throw new Error('expected a SourceError');
}

describe('image app rendering: the Deployment', () => {
  it('runs the image with a pod that passes Pod Security restricted', () => {
    const d = renderDeployment(app(), NS);
    expect(d).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
    });
    expect(podSpec(d).securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec(d).automountServiceAccountToken).toBe(false);
    expect(container(d)).toMatchObject({
      image: 'ghcr.io/acme/web:1.0',
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    // Nothing restricted forbids: no host namespaces, no privileged, no added capabilities, no volumes.
    const json = JSON.stringify(d);
    for (const forbidden of [
      'hostNetwork',
      'hostPID',
      'hostIPC',
      'privileged',
      '"add"',
      'hostPath',
      'volumes',
    ]) {
      expect(json).not.toContain(forbidden);
    }
  });

  it('selects its pods by a stable app label and labels them as kubeOP-managed', () => {
    const d = renderDeployment(app(), NS) as Obj;
    expect(d.spec.selector).toEqual({ matchLabels: { 'paas.kubeop.io/app': 'web' } });
    expect(d.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'kubeop',
      'app.kubernetes.io/name': 'web',
      'paas.kubeop.io/app': 'web',
    });
    expect((d.spec.template as { metadata: { labels: unknown } }).metadata.labels).toEqual(d.metadata.labels);
  });

  it('defaults to one replica and uses the requested count', () => {
    expect((renderDeployment(app(), NS) as Obj).spec.replicas).toBe(1);
    expect((renderDeployment(app({ replicas: 3 }), NS) as Obj).spec.replicas).toBe(3);
    expect((renderDeployment(app({ replicas: 0 }), NS) as Obj).spec.replicas).toBe(0);
  });

  it('leaves replicas to the autoscaler when autoscaling is on', () => {
    const d = renderDeployment(
      app({ replicas: 3, autoscaling: { minReplicas: 2, maxReplicas: 5 } }),
      NS,
    ) as Obj;
    expect('replicas' in d.spec).toBe(false);
  });

  it('passes resources, ports, env values, secret keys, envFrom and the pull secret', () => {
    const d = renderDeployment(
      app({
        source: { image: { ref: 'registry:5000/team/app:v2', pullSecretName: 'regcred' } },
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
        ports: [
          { name: 'http', containerPort: 8080 },
          { containerPort: 9090, protocol: 'UDP' },
        ],
        env: [
          { name: 'MODE', value: 'production' },
          { name: 'DB_PASSWORD', secretKeyRef: { name: 'db', key: 'password' } },
          { name: 'EMPTY' },
          { name: 'BLANK', value: '' },
        ],
        envFromSecrets: ['shared', 'extra'],
      }),
      NS,
    );
    expect(podSpec(d).imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(container(d)).toMatchObject({
      image: 'registry:5000/team/app:v2',
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      ports: [
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
        { containerPort: 9090, protocol: 'UDP' },
      ],
      env: [
        { name: 'MODE', value: 'production' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'EMPTY' },
        { name: 'BLANK' },
      ],
      envFrom: [{ secretRef: { name: 'shared' } }, { secretRef: { name: 'extra' } }],
    });
    // Exactly: the API server drops an empty value, so rendering one would read as drift forever.
    expect(container(d).env).toEqual([
      { name: 'MODE', value: 'production' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'EMPTY' },
      { name: 'BLANK' },
    ]);
  });

  it('leaves out empty lists and maps so the live object can match its rendering', () => {
    const c = container(renderDeployment(app({ env: [], envFromSecrets: [], ports: [], resources: {} }), NS));
    for (const key of ['env', 'envFrom', 'ports', 'resources', 'readinessProbe', 'livenessProbe']) {
      expect(c).not.toHaveProperty(key);
    }
    expect(podSpec(renderDeployment(app(), NS))).not.toHaveProperty('imagePullSecrets');
  });

  it('renders HTTP probes on their port, else the exposed port, else the first port', () => {
    const c = container(
      renderDeployment(
        app({
          ports: [{ containerPort: 8080 }, { containerPort: 9000 }],
          probes: {
            readiness: { path: '/ready', initialDelaySeconds: 2, periodSeconds: 5 },
            liveness: { path: '/live', port: 9000 },
          },
        }),
        NS,
      ),
    );
    expect(c.readinessProbe).toEqual({
      httpGet: { path: '/ready', port: 8080 },
      initialDelaySeconds: 2,
      periodSeconds: 5,
    });
    expect(c.livenessProbe).toEqual({ httpGet: { path: '/live', port: 9000 } });
    const viaExpose = container(
      renderDeployment(
        app({
          ports: [{ containerPort: 8080 }],
          expose: { hosts: ['a.example.com'], port: 3000 },
          probes: { readiness: { path: '/' } },
        }),
        NS,
      ),
    );
    expect(viaExpose.readinessProbe).toEqual({ httpGet: { path: '/', port: 3000 } });
  });

  it('refuses a probe without any port with a message that says what to set', () => {
    const err = sourceError(() => renderDeployment(app({ probes: { liveness: { path: '/live' } } }), NS));
    expect(err.reason).toBe('RenderFailed');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('probes.liveness.port');
  });

  it('changes only the image when the image changes (a rollout, not a new object)', () => {
    const before = renderDeployment(app(), NS);
    const after = renderDeployment(app({ source: { image: { ref: 'ghcr.io/acme/web:1.1' } } }), NS);
    expect(container(after).image).toBe('ghcr.io/acme/web:1.1');
    expect({ ...after, spec: undefined }).toEqual({ ...before, spec: undefined });
    expect(JSON.stringify(after).replace('1.1', '1.0')).toBe(JSON.stringify(before));
  });
});

describe('image app rendering: the Service', () => {
  it('is absent for an app without ports or expose', () => {
    expect(renderService(app(), NS)).toBeUndefined();
    expect(renderImageApp(app(), NS, ingress).map((o) => o.kind)).toEqual(['Deployment']);
  });

  it('exposes every declared port on the same number, naming unnamed ones', () => {
    const svc = renderService(
      app({
        ports: [
          { name: 'web', containerPort: 8080 },
          { containerPort: 53, protocol: 'UDP' },
        ],
      }),
      NS,
    ) as Obj;
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'paas.kubeop.io/app': 'web' },
      ports: [
        { name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP' },
        { name: 'udp-53', port: 53, targetPort: 53, protocol: 'UDP' },
      ],
    });
  });

  it('adds the exposed port when it is not a declared one', () => {
    const svc = renderService(app({ expose: { hosts: ['a.example.com'], port: 3000 } }), NS) as Obj;
    expect(svc.spec.ports).toEqual([{ name: 'tcp-3000', port: 3000, targetPort: 3000, protocol: 'TCP' }]);
  });
});

describe('image app rendering: Ingress exposure and TLS', () => {
  it('TLS Auto (the default) names the platform ClusterIssuer for cert-manager and a TLS secret', () => {
    const objs = renderImageApp(exposed(), NS, ingress);
    expect(objs.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'Ingress']);
    const ing = byKind(objs, 'Ingress')!;
    expect(ing.metadata.annotations).toEqual({
      [ANNOTATION_CLUSTER_ISSUER]: 'letsencrypt',
      [ANNOTATION_DNS_HOSTNAME]: 'web.acme.example,www.acme.example',
    });
    expect(ing.spec).toEqual({
      tls: [{ hosts: ['web.acme.example', 'www.acme.example'], secretName: 'web-tls' }],
      rules: ['web.acme.example', 'www.acme.example'].map((host) => ({
        host,
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 8080 } } } },
          ],
        },
      })),
    });
  });

  it("TLS Auto uses the App's own ClusterIssuer over the platform's", () => {
    const ing = byKind(
      renderImageApp(exposed({ mode: 'Auto', clusterIssuer: 'internal-ca' }), NS, ingress),
      'Ingress',
    )!;
    expect(ing.metadata.annotations?.[ANNOTATION_CLUSTER_ISSUER]).toBe('internal-ca');
  });

  it('TLS Auto without any ClusterIssuer is a non-retryable failure that says how to fix it', () => {
    const err = sourceError(() => renderImageApp(exposed(), NS, { ...ingress, clusterIssuer: undefined }));
    expect(err.reason).toBe('RenderFailed');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/KUBEOP_CLUSTER_ISSUER.*expose\.tls\.clusterIssuer.*Secret or None/);
    // The App's own issuer is enough.
    expect(() =>
      renderImageApp(exposed({ mode: 'Auto', clusterIssuer: 'x' }), NS, {
        ...ingress,
        clusterIssuer: undefined,
      }),
    ).not.toThrow();
  });

  it('TLS Secret uses the existing Secret and asks cert-manager for nothing', () => {
    const ing = byKind(
      renderImageApp(exposed({ mode: 'Secret', secretName: 'web-cert' }), NS, ingress),
      'Ingress',
    )!;
    expect(ing.metadata.annotations).not.toHaveProperty(ANNOTATION_CLUSTER_ISSUER);
    expect(ing.spec.tls).toEqual([
      { hosts: ['web.acme.example', 'www.acme.example'], secretName: 'web-cert' },
    ]);
  });

  it('TLS None has no tls section and no issuer, and needs no ClusterIssuer', () => {
    const ing = byKind(
      renderImageApp(exposed({ mode: 'None' }), NS, { ...ingress, clusterIssuer: undefined }),
      'Ingress',
    )!;
    expect(ing.spec).not.toHaveProperty('tls');
    expect(ing.metadata.annotations).toEqual({
      [ANNOTATION_DNS_HOSTNAME]: 'web.acme.example,www.acme.example',
    });
  });

  it('uses the configured ingress class, the given paths and the exposed port', () => {
    const ing = byKind(
      renderImageApp(
        app({
          ports: [{ containerPort: 8080 }],
          expose: { hosts: ['api.acme.example'], paths: ['/api', '/v2'], port: 9000, tls: { mode: 'None' } },
        }),
        NS,
        { ...ingress, route: { kind: 'Ingress', ingressClass: 'nginx' } },
      ),
      'Ingress',
    )!;
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.rules).toEqual([
      {
        host: 'api.acme.example',
        http: {
          paths: ['/api', '/v2'].map((path) => ({
            path,
            pathType: 'Prefix',
            backend: { service: { name: 'web', port: { number: 9000 } } },
          })),
        },
      },
    ]);
  });

  it('leaves out external-dns annotations when external-dns is off, and adds the TTL when set', () => {
    const off = byKind(
      renderImageApp(exposed({ mode: 'None' }), NS, { ...ingress, externalDns: { enabled: false } }),
      'Ingress',
    )!;
    expect(off.metadata).not.toHaveProperty('annotations');
    const ttl = byKind(
      renderImageApp(exposed(), NS, { ...ingress, externalDns: { enabled: true, ttlSeconds: 60 } }),
      'Ingress',
    )!;
    expect(ttl.metadata.annotations?.[ANNOTATION_DNS_TTL]).toBe('60');
  });

  it('refuses an exposed app without any container port', () => {
    const err = sourceError(() => renderImageApp(app({ expose: { hosts: ['a.example.com'] } }), NS, ingress));
    expect(err.message).toContain('set spec.ports or expose.port');
  });
});

describe('image app rendering: HTTPRoute exposure', () => {
  it('attaches an HTTPRoute to the platform Gateway with the hosts, paths and service port', () => {
    const objs = renderImageApp(
      exposed(undefined, { expose: { hosts: ['web.acme.example'], paths: ['/app'] } }),
      NS,
      gateway,
    );
    expect(objs.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'Certificate', 'HTTPRoute']);
    const route = byKind(objs, 'HTTPRoute')!;
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.metadata.annotations).toEqual({
      [ANNOTATION_DNS_HOSTNAME]: 'web.acme.example',
      [ANNOTATION_DNS_TTL]: '120',
    });
    expect(route.spec).toEqual({
      parentRefs: [
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gateway-system', name: 'public' },
      ],
      hostnames: ['web.acme.example'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/app' } }],
          backendRefs: [{ name: 'web', port: 8080 }],
        },
      ],
    });
  });

  it('TLS Auto issues a cert-manager Certificate for the hosts from the ClusterIssuer', () => {
    const cert = byKind(
      renderImageApp(exposed({ mode: 'Auto', clusterIssuer: 'internal-ca' }), NS, gateway),
      'Certificate',
    )!;
    expect(cert).toMatchObject({
      apiVersion: 'cert-manager.io/v1',
      metadata: { name: 'web', namespace: NS },
    });
    expect(cert.spec).toEqual({
      secretName: 'web-tls',
      dnsNames: ['web.acme.example', 'www.acme.example'],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'internal-ca' },
    });
  });

  it('TLS Secret and None render no Certificate', () => {
    for (const tls of [{ mode: 'Secret' as const, secretName: 'web-cert' }, { mode: 'None' as const }]) {
      expect(renderImageApp(exposed(tls), NS, gateway).map((o) => o.kind)).toEqual([
        'Deployment',
        'Service',
        'HTTPRoute',
      ]);
    }
  });
});

describe('image app rendering: autoscaling and disruption budget', () => {
  it('renders an autoscaling/v2 HPA on CPU utilization (default 80%) and a PDB on the pod selector', () => {
    const objs = renderImageApp(
      app({ autoscaling: { minReplicas: 2, maxReplicas: 6 }, disruptionBudget: { minAvailable: 1 } }),
      NS,
      ingress,
    );
    expect(objs.map((o) => o.kind)).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
    expect(byKind(objs, 'HorizontalPodAutoscaler')).toMatchObject({
      apiVersion: 'autoscaling/v2',
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
      },
    });
    expect(byKind(objs, 'PodDisruptionBudget')).toMatchObject({
      apiVersion: 'policy/v1',
      spec: { minAvailable: 1, selector: { matchLabels: { 'paas.kubeop.io/app': 'web' } } },
    });
  });

  it('uses the requested CPU target', () => {
    const hpa = byKind(
      renderImageApp(
        app({ autoscaling: { minReplicas: 1, maxReplicas: 2, targetCPUUtilizationPercentage: 50 } }),
        NS,
        ingress,
      ),
      'HorizontalPodAutoscaler',
    )!;
    expect(JSON.stringify(hpa.spec)).toContain('"averageUtilization":50');
  });
});

describe('image app rendering: names', () => {
  it('names objects after the App when that is a valid Service name', () => {
    const objs = renderImageApp(exposed(), NS, ingress);
    expect(objs.map((o) => o.metadata.name)).toEqual(['web', 'web', 'web']);
  });

  it('gives Apps whose names are no valid Service name valid, distinct object names and labels', () => {
    const names = ['9lives', 'web.v2', 'web-v2', 'x'.repeat(100), `${'x'.repeat(99)}y`];
    const seen = new Set<string>();
    for (const name of names) {
      const objs = renderImageApp(
        app(
          {
            ports: [{ containerPort: 80 }],
            expose: { hosts: ['a.example.com'] },
            disruptionBudget: { minAvailable: 1 },
          },
          name,
        ),
        NS,
        gateway,
      );
      const short = appLabelValue(name);
      expect(short).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
      seen.add(short);
      for (const o of objs) {
        expect(o.metadata.name).toBe(short);
        expect(o.metadata.namespace).toBe(NS);
        expect(o.metadata.labels?.['paas.kubeop.io/app']).toBe(short);
      }
      expect(tlsPlan(app({}, name), gateway)).toMatchObject({ secretName: `${short}-tls` });
    }
    expect(seen.size).toBe(names.length);
  });
});

describe('image app rendering: secrets the pods need', () => {
  it('lists the pull secret, env secret keys, envFrom secrets and the TLS secret', () => {
    expect(
      secretUses(
        app({
          source: { image: { ref: 'x:1', pullSecretName: 'regcred' } },
          env: [
            { name: 'A', value: '1' },
            { name: 'B', secretKeyRef: { name: 'db', key: 'password' } },
          ],
          envFromSecrets: ['shared'],
          ports: [{ containerPort: 80 }],
          expose: { hosts: ['a.example.com'], tls: { mode: 'Secret', secretName: 'cert' } },
        }),
      ),
    ).toEqual([
      { name: 'regcred', where: 'spec.source.image.pullSecretName' },
      { name: 'db', key: 'password', where: 'env B' },
      { name: 'shared', where: 'spec.envFromSecrets[0]' },
      { name: 'cert', key: 'tls.crt', where: 'spec.expose.tls.secretName' },
    ]);
    expect(secretUses(app())).toEqual([]);
  });
});
