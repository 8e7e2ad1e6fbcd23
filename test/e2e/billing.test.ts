import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import type { Database } from '../../src/db/database.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import {
  LABEL_APP,
  LABEL_MANAGED_BY,
  LABEL_PROJECT,
  LABEL_TENANT,
  MANAGED_BY,
} from '../../src/domain/naming.ts';
import { startMetering, type RunningMetering } from '../../src/operator/metering/metering.ts';
import { httpSink } from '../../src/operator/metering/sender.ts';
import { createLogger } from '../../src/platform/logging.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { adminConfig, CoreV1Api, createTestNamespace, eventually, kubeconfigPath } from '../support/e2e.ts';
import type { Started } from '../support/kubeop-process.ts';
import { bearer, managerApi } from '../support/manager.ts';
import { metricValue, startOperatorProcess } from '../support/operator.ts';

const INTERVAL = 2; // seconds per metering window
const HOUR = 3_600_000;

// Pods on the local cluster (kwok runs them) → the operator's metering loop → the manager's
// ingestion on PostgreSQL → an invoice whose amounts follow from the pods' requests.
describe.skipIf(!kubeconfigPath)('billing from pods to an invoice', () => {
  const kc = kubeconfigPath ? adminConfig() : undefined;
  const core = kc?.makeApiClient(CoreV1Api);
  let db: Database;
  let dropDb: () => Promise<void>;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let metering: RunningMetering | undefined;
  let second: FastifyInstance | undefined;
  let operator: Started | undefined;
  let removeNs: (() => Promise<void>) | undefined;
  const registry = new Registry();

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    dropDb = created.drop;
    db = await openPostgres(created.url);
    const m = await managerApi(db);
    app = m.app;
    admin = bearer(m.adminToken);
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await metering?.stop();
    await operator?.stop();
    await second?.close();
    await removeNs?.();
    await app?.close();
    await db?.close();
    await dropDb?.();
  });

  it('meters two running pods every window and invoices exactly their requests', async () => {
    const ns = await createTestNamespace(kc!, 'billing', {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_TENANT]: 'acme',
      [LABEL_PROJECT]: 'shop',
    });
    removeNs = ns.remove;
    for (const name of ['web-1', 'web-2'])
      await core!.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: { name, labels: { [LABEL_APP]: 'web' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.example/web:1',
                resources: { requests: { cpu: '500m', memory: '256Mi' } },
              },
            ],
          },
        },
      });
    await eventually('both pods Running', async () => {
      const pods = await core!.listNamespacedPod({ namespace: ns.name });
      return pods.items.length === 2 && pods.items.every((p) => p.status?.phase === 'Running')
        ? true
        : undefined;
    });

    // Prices chosen so one 2 s window of 1 core, 0.5 GiB and 2 pods costs exactly 0.02 € per meter.
    const now = Date.now();
    const hour = Math.floor(now / HOUR) * HOUR;
    const plan = await app.inject({
      method: 'POST',
      url: '/v1/plans',
      headers: admin,
      payload: {
        name: 'e2e',
        currency: 'EUR',
        effectiveFrom: new Date(hour - HOUR).toISOString(),
        prices: [
          { meter: 'cpu', unitPrice: '36' },
          { meter: 'memory', unitPrice: '72' },
          { meter: 'pods', unitPrice: '18' },
        ],
      },
    });
    expect(plan.statusCode, plan.body).toBe(201);
    // Plans and invoices belong to a tenant the API knows (usage is metered for any name).
    const tenant = await app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: admin,
      payload: { name: 'acme', spec: { owners: [{ kind: 'User', name: 'alice' }] } },
    });
    expect(tenant.statusCode, tenant.body).toBe(201);
    await app.inject({
      method: 'PUT',
      url: '/v1/tenants/acme/plan',
      headers: admin,
      payload: { plan: 'e2e', effectiveFrom: new Date(hour - HOUR).toISOString() },
    });
    const tok = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: admin,
      payload: { name: 'operator', role: 'metering' },
    });
    const address = app.server.address() as { port: number };
    metering = await startMetering({
      kc: kc!,
      logger: createLogger({
        service: 'e2e-metering',
        level: 'silent',
        destination: new Writable({ write: (_c, _e, d) => d() }),
      }),
      registry,
      cluster: 'e2e',
      intervalSeconds: INTERVAL,
      sink: httpSink(`http://127.0.0.1:${address.port}`, tok.json().token as string),
      bufferSize: 10_000,
    });

    const windows = async () =>
      (
        await db.query<{ n: number }>(
          "SELECT count(DISTINCT at)::int AS n FROM usage_events WHERE tenant = 'acme' AND meter = 'cpu'",
        )
      ).rows[0]!.n;
    await eventually(
      'five metering windows delivered',
      async () => ((await windows()) >= 5 ? true : undefined),
      60_000,
    );
    await metering.stop();
    metering = undefined;
    await sleep(100);

    // Every window carries exactly what the pods request, once.
    const { rows } = await db.query<{
      meter: string;
      app: string;
      n: number;
      q: string;
      mn: string;
      mx: string;
    }>(
      `SELECT meter, app, count(*)::int AS n, sum(quantity)::text AS q, min(quantity)::text AS mn, max(quantity)::text AS mx
       FROM usage_events WHERE tenant = 'acme' GROUP BY meter, app ORDER BY meter`,
    );
    const w = await windows();
    expect(rows).toEqual([
      { meter: 'cpu', app: 'web', n: w, q: `${w * 2}.000000`, mn: '2.000000', mx: '2.000000' },
      {
        meter: 'memory',
        app: 'web',
        n: w,
        q: `${w * 2 ** 29 * 2}.000000`,
        mn: `${2 ** 29 * 2}.000000`,
        mx: `${2 ** 29 * 2}.000000`,
      },
      { meter: 'pods', app: 'web', n: w, q: `${w * 4}.000000`, mn: '4.000000', mx: '4.000000' },
    ]);
    expect(await registry.getSingleMetricAsString('kubeop_metering_dropped_samples_total')).not.toMatch(
      / [1-9]/,
    );

    // The invoice covers the hour of the samples and the next (a run may cross the hour).
    const draft = await app.inject({
      method: 'POST',
      url: '/v1/invoices',
      headers: admin,
      payload: {
        tenant: 'acme',
        periodStart: new Date(hour).toISOString(),
        periodEnd: new Date(hour + 2 * HOUR).toISOString(),
      },
    });
    expect(draft.statusCode, draft.body).toBe(201);
    // The period has not ended, so it cannot be finalized yet; the draft says what it will charge.
    const fin = await app.inject({
      method: 'POST',
      url: `/v1/invoices/${draft.json().id}/finalize`,
      headers: admin,
    });
    expect(fin.statusCode, fin.body).toBe(409);
    expect(fin.json().code).toBe('KUBEOP_ERR_PERIOD_NOT_ENDED');
    const inv = draft.json();
    expect(inv).toMatchObject({ status: 'draft', currency: 'EUR' });
    const cents = (n: number) => (n / 100).toFixed(2);
    const byMeter = new Map<string, { amount: string; project: string }>(
      inv.lines.map((l: { item: string; amount: string; project: string }) => [l.item, l]),
    );
    for (const meter of ['cpu', 'memory', 'pods']) {
      expect(byMeter.get(meter), meter).toMatchObject({ project: 'shop', amount: cents(2 * w) });
    }
    expect(inv.total).toBe(cents(6 * w));
  });

  it('buffers usage while the manager is unreachable, counts what overflows, and delivers the rest once', async () => {
    const ns = await createTestNamespace(kc!, 'billing-buf', {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_TENANT]: 'beta',
      [LABEL_PROJECT]: 'api',
    });
    const removeSecond = ns.remove;
    try {
      await core!.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: { name: 'api-1', labels: { [LABEL_APP]: 'api' } },
          spec: {
            containers: [
              { name: 'app', image: 'registry.example/api:1', resources: { requests: { cpu: '250m' } } },
            ],
          },
        },
      });
      await eventually('pod Running', async () =>
        (await core!.readNamespacedPod({ namespace: ns.name, name: 'api-1' })).status?.phase === 'Running'
          ? true
          : undefined,
      );
      // A port nobody listens on yet; the manager comes up there later.
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const p = (srv.address() as { port: number }).port;
          srv.close(() => resolve(p));
        });
      });
      const tok = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: admin,
        payload: { name: 'op2', role: 'metering' },
      });
      const reg = new Registry();
      metering = await startMetering({
        kc: kc!,
        logger: createLogger({
          service: 'e2e-metering',
          level: 'silent',
          destination: new Writable({ write: (_c, _e, d) => d() }),
        }),
        registry: reg,
        cluster: 'e2e-buffer',
        intervalSeconds: INTERVAL,
        sink: httpSink(`http://127.0.0.1:${port}`, tok.json().token as string),
        bufferSize: 8,
      });
      const dropped = async () =>
        Number(
          /dropped_samples_total\{reason="buffer_full"\} (\d+)/.exec(
            await reg.getSingleMetricAsString('kubeop_metering_dropped_samples_total'),
          )?.[1] ?? 0,
        );
      await eventually(
        'samples dropped from the full buffer',
        async () => ((await dropped()) > 0 ? true : undefined),
        60_000,
      );
      const beforeUp = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM usage_events WHERE cluster = 'e2e-buffer'",
      );
      expect(beforeUp.rows[0]!.n).toBe(0);

      second = (await managerApi(db)).app;
      await second.listen({ host: '127.0.0.1', port });
      await eventually(
        'buffered and new windows delivered',
        async () => {
          const { rows } = await db.query<{ n: number }>(
            "SELECT count(DISTINCT at)::int AS n FROM usage_events WHERE cluster = 'e2e-buffer' AND tenant = 'beta' AND meter = 'cpu'",
          );
          return rows[0]!.n >= 3 ? true : undefined;
        },
        60_000,
      );
      await metering.stop();
      metering = undefined;
      // Each delivered window counts once, with exactly the pod's request (0.25 core × 2 s).
      const { rows } = await db.query<{ n: number; windows: number; mn: string; mx: string }>(
        `SELECT count(*)::int AS n, count(DISTINCT at)::int AS windows, min(quantity)::text AS mn, max(quantity)::text AS mx
         FROM usage_events WHERE cluster = 'e2e-buffer' AND tenant = 'beta' AND meter = 'cpu'`,
      );
      expect(rows[0]!.n).toBe(rows[0]!.windows);
      expect([rows[0]!.mn, rows[0]!.mx]).toEqual(['0.500000', '0.500000']);
      expect(await reg.getSingleMetricAsString('kubeop_metering_buffered_samples')).toMatch(
        /kubeop_metering_buffered_samples 0/,
      );
    } finally {
      await removeSecond();
    }
  });

  it('meters from the real `kubeop operator` process when given a manager URL and a metering token', async () => {
    // The operator waits for its own CRDs; install them as the chart would.
    const client = new KubeClient(
      (() => {
        const c = new KubeConfig();
        c.loadFromFile(kubeconfigPath!);
        return c;
      })(),
      { fieldManager: 'e2e-billing' },
    );
    for (const crd of ['tenants', 'projects', 'apps']) {
      const text = readFileSync(
        new URL(`../../deploy/crds/${crd}.paas.kubeop.io.yaml`, import.meta.url),
        'utf8',
      );
      for (const doc of parseAllDocuments(text)) {
        const obj = doc.toJS() as KubeObject;
        await client.request(
          'PATCH',
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${obj.metadata.name}?fieldManager=e2e-billing&force=true`,
          { body: obj, contentType: 'application/apply-patch+yaml' },
        );
      }
    }
    const ns = await createTestNamespace(kc!, 'billing-proc', {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_TENANT]: 'gamma',
      [LABEL_PROJECT]: 'etl',
    });
    try {
      await core!.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: { name: 'job-1' },
          spec: {
            containers: [
              { name: 'app', image: 'registry.example/etl:1', resources: { requests: { cpu: '100m' } } },
            ],
          },
        },
      });
      await eventually('pod Running', async () =>
        (await core!.readNamespacedPod({ namespace: ns.name, name: 'job-1' })).status?.phase === 'Running'
          ? true
          : undefined,
      );
      const tok = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: admin,
        payload: { name: 'op3', role: 'metering' },
      });
      const token = tok.json().token as string;
      const address = app.server.address() as { port: number };
      operator = await startOperatorProcess(kubeconfigPath!, {
        KUBEOP_MANAGER_URL: `http://127.0.0.1:${address.port}`,
        KUBEOP_METERING_TOKEN: token,
        KUBEOP_METERING_INTERVAL_SECONDS: '2',
        KUBEOP_CLUSTER_NAME: 'proc',
        KUBEOP_LEADER_ELECT: 'false',
      });
      await eventually(
        'three windows from the operator process',
        async () => {
          const { rows } = await db.query<{ n: number }>(
            "SELECT count(DISTINCT at)::int AS n FROM usage_events WHERE cluster = 'proc' AND tenant = 'gamma' AND meter = 'cpu'",
          );
          return rows[0]!.n >= 3 ? true : undefined;
        },
        90_000,
      );
      const { rows } = await db.query<{ app: string; project: string; q: string }>(
        "SELECT DISTINCT app, project, quantity::text AS q FROM usage_events WHERE cluster = 'proc' AND tenant = 'gamma' AND meter = 'cpu'",
      );
      expect(rows).toEqual([{ app: '', project: 'etl', q: '0.200000' }]); // 0.1 core × 2 s, the project itself
      expect(
        await metricValue(operator.url, 'kubeop_metering_sent_total', { result: 'accepted' }),
      ).toBeGreaterThan(0);
      const output = JSON.stringify(operator.logs()) + operator.stderr();
      expect(output).not.toContain(token);
    } finally {
      await operator?.stop();
      operator = undefined;
      await ns.remove();
    }
  });
});
