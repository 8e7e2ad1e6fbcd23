import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../src/kube/client.ts';
import { createLaneSupervisor, type LaneSupervisor } from '../../../src/manager/outbox/lanes.ts';
import { insertCluster } from '../../../src/manager/clusters/store.ts';
import { createLogger } from '../../../src/platform/logging.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

/** A "cluster" that accepts TCP connections and never answers: no TLS handshake, no bytes, ever. */
async function hungServer(): Promise<{ server: Server; port: number; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, connections };
}

function clientOf(port: number): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'hung', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'ctx', cluster: 'hung', user: 'u' }],
    currentContext: 'ctx',
  });
  return new KubeClient(kc, { fieldManager: 'kubeop-manager' });
}

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** Resolves with how long the request took, or with Infinity once `capMs` passed without an answer. */
async function timed(app: FastifyInstance, url: string, token: string, capMs: number) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const answer = app.inject({ url, headers: bearer(token) }).then((res) => ({
    status: res.statusCode,
    ms: performance.now() - started,
  }));
  const cap = new Promise<{ status: number; ms: number }>((resolve) => {
    timer = setTimeout(() => resolve({ status: 0, ms: Infinity }), capMs);
  });
  try {
    return await Promise.race([answer, cap]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each(drivers)('a registered cluster that never answers, on $name', ({ open }) => {
  let t: TestDatabase;
  let hung: Awaited<ReturnType<typeof hungServer>>;
  let lanes: LaneSupervisor | undefined;
  let app: FastifyInstance | undefined;

  beforeEach(async () => {
    t = await open();
    hung = await hungServer();
  });
  afterEach(async () => {
    // Closing the hung sockets fails the requests still waiting on them, so the lane stops at once.
    for (const s of hung.connections) s.destroy();
    hung.server.close();
    await lanes?.stop();
    lanes = undefined;
    await app?.close();
    app = undefined;
    await t.drop();
  });

  it('keeps GET /v1/tenants prompt while delivery to that cluster is pending', async () => {
    const m = await managerApi(t.db);
    app = m.app;
    const adminToken = m.adminToken;
    const clusterId = randomUUID();
    await insertCluster(t.db, {
      id: clusterId,
      name: 'hung',
      server: `https://127.0.0.1:${hung.port}`,
      sealedKubeconfig: null,
      isDefault: true,
      labels: {},
    });
    const client = clientOf(hung.port);
    lanes = createLaneSupervisor({
      db: t.db,
      logger: quiet,
      access: { canOpen: () => true, open: () => Promise.reject(new Error('unused')) },
      pollMs: 50,
      renewMs: 200,
      statusEveryMs: 60_000,
      clientFor: async () => client,
    });
    lanes.start();
    const created = await m.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: bearer(adminToken),
      payload: { name: 'acme', spec: { owners: [{ kind: 'User', name: 'alice' }] } },
    });
    expect(created.statusCode).toBe(201);
    // The lane has taken the change and is now waiting on the cluster that never answers.
    await waitFor('the dispatcher to connect to the hung cluster', () => hung.connections.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    // A correctness bound on blocking, not a benchmark: a request that waits on the cluster's
    // socket timeout (30 s) or the send deadline (10 s) is far beyond it.
    for (let i = 0; i < 5; i++) {
      const res = await timed(m.app, '/v1/tenants', adminToken, 5_000);
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 300));
    }
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL AND cluster_id = $1',
      [clusterId],
    );
    expect(rows[0]!.n).toBe(1);
  }, 30_000);
});
