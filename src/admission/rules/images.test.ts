import { describe, expect, it } from 'vitest';
import { fakeView, NS, pod, request, ruleContext, tenant } from '../../../test/support/admission-fixtures.ts';
import { denialMessage } from '../review.ts';
import { validateWorkloadImages } from './images.ts';

const judge = (req: ReturnType<typeof request>, ctx = ruleContext()) => validateWorkloadImages(req, ctx);
const rules = (d: ReturnType<typeof judge>) => (d.allowed ? [] : d.violations.map((v) => v.rule));

describe('images only from the tenant registries', () => {
  it('allows a pod whose images come from allowed registries, short Docker Hub names included', () => {
    const spec = {
      initContainers: [{ name: 'init', image: 'busybox:1.36' }],
      containers: [
        { name: 'app', image: 'ghcr.io/acme/web:1' },
        { name: 'proxy', image: 'library/nginx' },
      ],
    };
    expect(judge(request('Pod', pod(spec)))).toEqual({ allowed: true });
  });

  it('refuses an image from another registry, naming the container, the registry, the rule and the fix', () => {
    const d = judge(request('Pod', pod({ containers: [{ name: 'app', image: 'quay.io/evil/miner:1' }] })));
    expect(rules(d)).toEqual(['allowed-registries']);
    expect(d.allowed || denialMessage(d.violations)).toBe(
      'kubeOP rule allowed-registries: container "app" of this Pod uses image "quay.io/evil/miner:1", which is pulled from quay.io/evil/miner; tenant acme allows images only from ghcr.io/acme, docker.io. Fix: use an image from one of those registries, or ask a platform admin to add its registry to spec.policy.allowedRegistries of Tenant acme.',
    );
  });

  it('checks init and ephemeral containers too', () => {
    const d = judge(
      request(
        'Pod',
        pod({
          initContainers: [{ name: 'setup', image: 'evil.example/x' }],
          ephemeralContainers: [{ name: 'debug', image: 'ghcr.io/acme-evil/shell' }],
        }),
      ),
    );
    expect(d.allowed ? [] : d.violations.map((v) => v.message.split(' uses')[0])).toEqual([
      'init container "setup" of this Pod',
      'ephemeral container "debug" of this Pod',
    ]);
  });

  it('does not mistake a registry port for a tag', () => {
    const ctx = ruleContext(
      fakeView({ tenants: [tenant('acme', { allowedRegistries: ['registry:5000'] })] }),
    );
    expect(
      judge(request('Pod', pod({ containers: [{ name: 'a', image: 'registry:5000/x' }] })), ctx).allowed,
    ).toBe(true);
    expect(
      rules(judge(request('Pod', pod({ containers: [{ name: 'a', image: 'registry/x' }] })), ctx)),
    ).toEqual(['allowed-registries']);
  });

  it('refuses an unparseable image even when any registry is allowed', () => {
    const ctx = ruleContext(fakeView({ tenants: [tenant('acme', {})] }));
    const d = judge(
      request('Pod', pod({ containers: [{ name: 'a', image: 'Evil/Miner' }, { name: 'b' }] })),
      ctx,
    );
    expect(rules(d)).toEqual(['image-reference', 'image-reference']);
    expect(
      judge(request('Pod', pod({ containers: [{ name: 'a', image: 'quay.io/x/y' }] })), ctx).allowed,
    ).toBe(true);
  });

  it('looks into the pod templates of Deployments and CronJobs', () => {
    const template = { template: { spec: { containers: [{ name: 'app', image: 'evil.example/app' }] } } };
    const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: template };
    expect(rules(judge(request('Deployment', deploy)))).toEqual(['allowed-registries']);
    const cron = { metadata: { name: 'c' }, spec: { jobTemplate: { spec: template } } };
    expect(rules(judge(request('CronJob', cron)))).toEqual(['allowed-registries']);
  });

  it('on update judges only images the update introduces', () => {
    const old = pod({ containers: [{ name: 'app', image: 'quay.io/legacy/app:1' }] });
    const relabelled = { ...old, metadata: { name: 'p', labels: { x: 'y' } } };
    expect(judge(request('Pod', relabelled, { operation: 'UPDATE', oldObject: old })).allowed).toBe(true);
    const changed = pod({ containers: [{ name: 'app', image: 'quay.io/legacy/app:2' }] });
    expect(rules(judge(request('Pod', changed, { operation: 'UPDATE', oldObject: old })))).toEqual([
      'allowed-registries',
    ]);
  });

  it('refuses, with a retryable message, a namespace the cache does not know yet', () => {
    const d = judge(request('Pod', pod(), { namespace: 'brand-new' }));
    expect(rules(d)).toEqual(['tenancy-unknown']);
    expect(d.allowed || d.violations[0]!.fix).toMatch(/^retry in a few seconds/);
  });

  it('refuses a namespace whose tenant is gone', () => {
    const ctx = ruleContext(fakeView({ tenants: [] }));
    const d = judge(request('Pod', pod()), ctx);
    expect(d.allowed || d.violations[0]!.message).toBe(
      `namespace ${NS} belongs to tenant acme, which does not exist`,
    );
  });
});
