import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { celViolations } from '../../src/schemas/cel.ts';
import { API_VERSION, crdDefinitions } from '../../src/schemas/crds/definitions.ts';
import { celCases, quantityCases, tenant } from '../support/cel-cases.ts';
import { adminConfig, createTestNamespace, errorOf, kubeconfigPath } from '../support/e2e.ts';
import { installKubeop } from '../support/operator.ts';

/**
 * The manager API evaluates the CRDs' CEL rules itself (src/schemas/cel.ts). This proves it agrees
 * with a real API server: every case the evaluator accepts, the API server accepts (dry run), and
 * every case it refuses, the API server refuses with the same message.
 */
describe.skipIf(!kubeconfigPath)('CEL rules: the manager and the API server agree', () => {
  let client: KubeClient;
  let ns: { name: string; remove: () => Promise<void> };
  const stored = `cel-stored-${Date.now().toString(36)}`;

  const def = (kind: string) => crdDefinitions.find((d) => d.kind === kind)!;
  const path = (kind: string, name?: string) => {
    const d = def(kind);
    const base =
      d.scope === 'Namespaced'
        ? `/apis/${API_VERSION}/namespaces/${ns.name}/${d.plural}`
        : `/apis/${API_VERSION}/${d.plural}`;
    return name ? `${base}/${name}` : base;
  };
  const object = (kind: string, name: string, spec: unknown, resourceVersion?: string) => ({
    apiVersion: API_VERSION,
    kind,
    metadata: {
      name,
      ...(def(kind).scope === 'Namespaced' ? { namespace: ns.name } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec,
  });

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    client = new KubeClient(adminConfig(), { fieldManager: 'kubeop-e2e' });
    ns = await createTestNamespace(adminConfig(), 'cel');
    // The stored object the transition rules (oldSelf) compare with; only Project has one.
    const withOld = celCases.filter((c) => c.old !== undefined);
    expect(withOld.map((c) => c.kind)).toEqual(['Project']);
    await client.request('POST', path('Project'), { body: object('Project', stored, withOld[0]!.old) });
  });
  afterAll(async () => {
    await client?.request('DELETE', path('Project', stored)).catch(() => {});
    await ns?.remove();
  });

  /** Sends the spec with dryRun=All: as a create, or as an update of a stored object for transition rules. */
  async function send(kind: string, spec: unknown, old: unknown): Promise<unknown> {
    if (old === undefined) {
      return client.request('POST', `${path(kind)}?dryRun=All`, { body: object(kind, 'cel-case', spec) });
    }
    const current = await client.request<{ metadata: { resourceVersion: string } }>(
      'GET',
      path(kind, stored),
    );
    return client.request('PUT', `${path(kind, stored)}?dryRun=All`, {
      body: object(kind, stored, spec, current.metadata.resourceVersion),
    });
  }

  it.each(celCases)('$kind: both accept the value that keeps "$message"', async ({ kind, accept, old }) => {
    expect(celViolations(def(kind).spec, accept, old)).toEqual([]);
    await send(kind, accept, old);
  });

  it.each(celCases)(
    '$kind: both refuse the value that breaks "$message"',
    async ({ kind, refuse, old, message }) => {
      expect(celViolations(def(kind).spec, refuse, old).map((v) => v.message)).toContain(message);
      const err = await errorOf(send(kind, refuse, old));
      expect(err.code).toBe(422);
      expect(err.message).toContain(message);
    },
  );

  it.each(quantityCases)(
    'quantity %s as a tenant cpu quota: the API server answers %s',
    async (q, verdict) => {
      const spec = { ...tenant, quota: { cpu: q } };
      expect(celViolations(def('Tenant').spec, spec).map((v) => v.message)).toEqual(
        verdict === true ? [] : [verdict],
      );
      if (verdict === true) {
        await send('Tenant', spec, undefined);
      } else {
        const err = await errorOf(send('Tenant', spec, undefined));
        expect(err.code).toBe(422);
        expect(err.message).toContain(verdict);
      }
    },
  );
});
