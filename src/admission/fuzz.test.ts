// Fuzz and property tests: random and malformed AdmissionReviews never make a rule family throw out
// of the handler, and random objects are never let through when a rule forbids them. Seeded, so a
// failure names the seed and case that reproduce it.
import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  fakeView,
  managedLabels,
  pod,
  request,
  reviewBody,
  ruleContext,
  tenant,
} from '../../test/support/admission-fixtures.ts';
import { handleReview } from './handle.ts';
import type { Decision, JsonPatchOperation } from './review.ts';
import { validateWorkloadImages } from './rules/images.ts';
import { validateManagedObject } from './rules/managed.ts';
import { mutatePod } from './rules/pod-defaults.ts';
import { validateService } from './rules/services.ts';
import { WEBHOOKS } from './webhooks.ts';

const SEED = Number(process.env.KUBEOP_FUZZ_SEED ?? 20261126);
const CASES = Number(process.env.KUBEOP_FUZZ_CASES ?? 1500);

/** mulberry32: small, fast, seedable. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof rng>;

const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '🐳',
  'a'.repeat(300),
  '../../etc',
  '__proto__',
  'constructor',
  '%00',
  '*',
];

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER]);
    case 3:
      return r.pick(WEIRD_STRINGS);
    case 4:
      return r.pick(['CREATE', 'UPDATE', 'DELETE', 'Pod', 'v1', 'system:masters']);
    case 5:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--)
        o[r.pick(['spec', 'metadata', 'containers', 'image', 'labels', 'x', '__proto__'])] = randomValue(
          r,
          depth + 1,
        );
      return o;
    }
  }
}

/** Replaces or deletes a random member somewhere inside `doc` (in place). */
function mutate(r: Rng, doc: unknown): void {
  let cur = doc;
  for (let depth = 0; depth < 6; depth++) {
    if (typeof cur !== 'object' || cur === null) return;
    const keys = Object.keys(cur);
    if (!keys.length) return;
    const key = r.pick(keys);
    const child = (cur as Record<string, unknown>)[key];
    if (r.chance(0.35) || typeof child !== 'object' || child === null) {
      if (r.chance(0.3)) delete (cur as Record<string, unknown>)[key];
      else (cur as Record<string, unknown>)[key] = randomValue(r);
      return;
    }
    cur = child;
  }
}

function sampleRequest(r: Rng) {
  const kinds = [
    'Pod',
    'Service',
    'Ingress',
    'HTTPRoute',
    'NetworkPolicy',
    'Namespace',
    'Project',
    'App',
    'Deployment',
  ];
  const kind = r.pick(kinds);
  const obj = {
    apiVersion: 'v1',
    kind,
    metadata: { name: 'x', labels: r.chance(0.5) ? managedLabels() : {} },
    spec: {
      containers: [{ name: 'a', image: 'ghcr.io/acme/a:1' }],
      template: { spec: { containers: [{ name: 'b', image: 'quay.io/b' }] } },
      type: 'NodePort',
      rules: [{ host: 'a.acme.example' }],
      hostnames: ['b.acme.example'],
      tenantRef: { name: 'acme' },
      source: {
        image: { ref: 'nginx' },
        raw: { manifests: [{ kind: 'ConfigMap', metadata: { name: 'c', namespace: 'x' } }] },
      },
      expose: { hosts: ['c.acme.example'] },
    },
  };
  return request(kind, obj, {
    operation: r.pick(['CREATE', 'UPDATE', 'DELETE'] as const),
    oldObject: r.chance(0.5) ? structuredClone(obj) : undefined,
  });
}

function isValidDecisionAnswer(out: ReturnType<typeof handleReview>, uid: unknown): void {
  if (out.status === 400) {
    expect(typeof out.error).toBe('string');
    return;
  }
  const res = out.review.response!;
  expect(res.uid).toBe(uid);
  expect(typeof res.allowed).toBe('boolean');
  if (!res.allowed) expect(res.status?.message).toMatch(/^kubeOP rule [a-z-]+: /);
  if (res.patch) expect(Array.isArray(JSON.parse(Buffer.from(res.patch, 'base64').toString()))).toBe(true);
}

describe('fuzzing the webhook handler', () => {
  it(`malformed reviews never escape the handler, for every webhook (seed ${SEED}, ${CASES} cases)`, () => {
    const r = rng(SEED);
    const ctx = ruleContext();
    for (let i = 0; i < CASES; i++) {
      const body = reviewBody(sampleRequest(r)) as Record<string, unknown>;
      for (let m = r.int(6); m >= 0; m--) mutate(r, body);
      if (r.chance(0.05)) Object.assign(body, { request: randomValue(r) });
      const uid = (body.request as { uid?: unknown } | null)?.uid;
      for (const w of WEBHOOKS) {
        let out: ReturnType<typeof handleReview> | undefined;
        expect(() => (out = handleReview(body, w.family, ctx)), `case ${i} ${w.name}`).not.toThrow();
        isValidDecisionAnswer(out!, uid);
      }
    }
  });

  it('non-object JSON of every shape is a 400, never a crash', () => {
    const r = rng(SEED + 1);
    for (let i = 0; i < 500; i++) {
      const out = handleReview(randomValue(r), WEBHOOKS[0]!.family, ruleContext());
      expect([200, 400]).toContain(out.status);
    }
  });
});

/** Images with what the policy `ghcr.io/acme, docker.io` must decide, written down independently. */
const IMAGES: Array<[image: unknown, allowed: boolean]> = [
  ['ghcr.io/acme/web:1', true],
  ['ghcr.io/acme/team/web@sha256:' + 'd'.repeat(64), true],
  ['nginx', true],
  ['library/nginx:1.27', true],
  ['acme/web', true],
  ['docker.io/acme/web', true],
  ['index.docker.io/library/redis', true],
  ['quay.io/acme/web', false],
  ['ghcr.io/acme-evil/web', false],
  ['ghcr.io/other/web', false],
  ['ghcr.io.evil.example/acme/web', false],
  ['registry:5000/acme/web', false],
  ['localhost/acme/web', false],
  ['docker.io.evil.example/nginx', false],
  ['Nginx', false],
  ['ghcr.io/acme/web:', false],
  ['', false],
  [' nginx', false],
  [42, false],
  [null, false],
];

describe('properties: random objects are never let through when a rule forbids them', () => {
  it('a pod is allowed exactly when every container image is allowed', () => {
    const r = rng(SEED + 2);
    for (let i = 0; i < CASES; i++) {
      let expected = true;
      const list = () =>
        Array.from({ length: r.int(3) }, (_, n) => {
          if (r.chance(0.05)) return r.pick([null, 7, 'c', []]); // not a container object: nothing to pull
          const [image, ok] = r.pick(IMAGES);
          if (!ok) expected = false;
          const c: Record<string, unknown> = { name: `c${n}` };
          if (image !== null) c.image = image;
          else expected = false; // a container without an image
          return c;
        });
      const spec: Record<string, unknown> = {
        containers: list(),
        initContainers: list(),
        ephemeralContainers: list(),
      };
      const d = validateWorkloadImages(request('Pod', pod(spec)), ruleContext());
      expect(d.allowed, `case ${i}: ${JSON.stringify(spec)}`).toBe(expected);
    }
  });

  it('a service is allowed exactly when its type is allowed and it sets no external IPs', () => {
    const r = rng(SEED + 3);
    const allowedTypes = ['ClusterIP', 'LoadBalancer'] as const;
    const ctx = ruleContext(
      fakeView({ tenants: [tenant('acme', { allowedServiceTypes: [...allowedTypes] })] }),
    );
    for (let i = 0; i < CASES; i++) {
      const type = r.pick([undefined, 'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Weird']);
      const ips = r.chance(0.3) ? ['10.0.0.1'] : r.chance(0.5) ? [] : undefined;
      const d = validateService(
        request('Service', { metadata: { name: 's' }, spec: { type, externalIPs: ips } }),
        ctx,
      );
      const expected =
        (type === undefined || (allowedTypes as readonly string[]).includes(type)) && !ips?.length;
      expect(d.allowed, `case ${i}: ${type} ${JSON.stringify(ips)}`).toBe(expected);
    }
  });

  it('no untrusted user changes or deletes a managed object, whatever the request looks like', () => {
    const r = rng(SEED + 4);
    for (let i = 0; i < CASES; i++) {
      const kind = r.pick([
        'ResourceQuota',
        'LimitRange',
        'NetworkPolicy',
        'Role',
        'RoleBinding',
        'ServiceAccount',
      ]);
      const old = {
        kind,
        metadata: { name: r.pick(['kubeop-quota', 'kubeop-default-deny', 'x']), labels: managedLabels() },
      };
      const now = structuredClone(old) as Record<string, unknown>;
      for (let m = r.int(4); m > 0; m--) mutate(r, now);
      const user = r.pick([
        { username: 'alice' },
        { username: 'system:serviceaccount:acme:kubeop-deployer', groups: ['system:serviceaccounts'] },
        { username: 'system:serviceaccount:kube-systemx:y' },
        { username: 'mallory', groups: ['system:mastersx', 'masters'] },
        {},
      ]);
      const operation = r.pick(['UPDATE', 'DELETE'] as const);
      const d = validateManagedObject(
        request(kind, operation === 'DELETE' ? undefined : now, {
          operation,
          oldObject: old,
          userInfo: user,
        }),
        ruleContext(),
      );
      expect(d.allowed, `case ${i}`).toBe(false);
    }
  });

  it('a pod without explicit unsafe values meets Pod Security restricted after mutation, and mutation is idempotent', () => {
    const r = rng(SEED + 5);
    const maybe = <T>(v: T) => (r.chance(0.5) ? v : undefined);
    for (let i = 0; i < CASES; i++) {
      const container = (n: number) => {
        const c: Record<string, unknown> = {
          name: `c${n}`,
          image: r.pick(['ghcr.io/acme/a:1', 'nginx', `ghcr.io/acme/a@sha256:${'e'.repeat(64)}`]),
        };
        const sc = maybe({
          allowPrivilegeEscalation: maybe(false),
          capabilities: maybe({ drop: maybe(['ALL']), add: maybe(['NET_BIND_SERVICE']) }),
          readOnlyRootFilesystem: maybe(true),
          runAsNonRoot: maybe(true),
        });
        if (sc) c.securityContext = JSON.parse(JSON.stringify(sc));
        if (r.chance(0.3)) c.imagePullPolicy = r.pick(['IfNotPresent', 'Never', 'Always']);
        if (r.chance(0.3))
          c.resources = JSON.parse(
            JSON.stringify({
              requests: maybe({ cpu: maybe('10m') }),
              limits: maybe({ memory: maybe('1Gi') }),
            }),
          );
        return c;
      };
      const spec: Record<string, unknown> = {
        containers: Array.from({ length: 1 + r.int(3) }, (_, n) => container(n)),
      };
      if (r.chance(0.4)) spec.initContainers = [container(9)];
      const podSc = maybe({
        runAsNonRoot: maybe(true),
        seccompProfile: maybe({ type: 'RuntimeDefault' }),
        fsGroup: maybe(2000),
      });
      if (podSc) spec.securityContext = JSON.parse(JSON.stringify(podSc));
      const obj = pod(spec, r.chance(0.5) ? { labels: { app: 'x' } } : {});
      const d: Decision = mutatePod(request('Pod', obj), ruleContext());
      expect(d.allowed).toBe(true);
      const out = applyJsonPatch(obj, (d.allowed && d.patch) || []) as {
        spec: {
          securityContext: Record<string, unknown>;
          containers: Array<Record<string, Record<string, unknown>>>;
          initContainers?: Array<Record<string, Record<string, unknown>>>;
        };
      };
      // The restricted profile's checks that defaults can satisfy.
      expect(out.spec.securityContext.runAsNonRoot, `case ${i}`).toBe(true);
      expect(out.spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      for (const c of [...out.spec.containers, ...(out.spec.initContainers ?? [])]) {
        expect(c.securityContext!.allowPrivilegeEscalation, `case ${i}`).toBe(false);
        expect((c.securityContext!.capabilities as { drop: string[] }).drop).toContain('ALL');
        expect(c.resources?.requests).toBeDefined();
        if (!String(c.image).includes('@sha256:')) expect(c.imagePullPolicy).toBe('Always');
      }
      const again = mutatePod(request('Pod', out), ruleContext());
      expect((again.allowed && again.patch) as JsonPatchOperation[], `case ${i} idempotent`).toEqual([]);
    }
  });
});
