import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretSealer } from '../../../src/kms/columns.ts';
import { allEncryptedColumns } from '../../../src/kms/registry.ts';
import { rotate } from '../../../src/kms/rotate.ts';
import { clusterAccess } from '../../../src/manager/clusters/cluster-access.ts';
import { ensureLocalCluster } from '../../../src/manager/clusters/service.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';
import { keyring } from '../kms/fixtures.ts';
import { findPlaintext } from '../kms/plaintext-scan.ts';

const pem = (what: string, body: string) => `-----BEGIN ${what}-----\n${body}\n-----END ${what}-----\n`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig for a cluster nobody listens on (port 1), with secrets a scan can look for. */
function kubeconfigFor(name: string) {
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const key = pem('PRIVATE KEY', randomBytes(48).toString('base64'));
  const text = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: 'https://127.0.0.1:1',
          'certificate-authority-data': b64(pem('CERTIFICATE', 'Q0EK')),
        },
      },
    ],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'ctx', context: { cluster: name, user: 'admin' } }],
    'current-context': 'ctx',
  });
  return { text, secrets: [token, text], key };
}

const tenantSpec = { owners: [{ kind: 'User', name: 'alice' }] };

describe.each(drivers)('clusters on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  const kms = keyring('k2', 'k1');
  const oldKms = keyring('k1');
  const stored: string[] = [];

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db, {
      clusters: { access: clusterAccess({ sealer: secretSealer(kms) }), memberKubeconfigMaxSeconds: 7200 },
    });
    app = m.app;
    admin = bearer(m.adminToken);
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  const req = (method: string, url: string, payload?: unknown, headers = admin) =>
    app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload: payload as object } : {}) });
  const count = async (sql: string, params: unknown[] = []) =>
    (await t.db.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('keeps changes made before any cluster exists unplaced, and the first cluster adopts them', async () => {
    expect((await req('POST', '/v1/tenants', { name: 'early', spec: tenantSpec })).statusCode).toBe(201);
    const p = await req('POST', '/v1/tenants/early/projects', { name: 'early-p', spec: {} });
    expect(p.json()).toMatchObject({ cluster: null });
    expect(await count('SELECT count(*)::int AS n FROM outbox WHERE cluster_id IS NOT NULL')).toBe(0);

    const kc = kubeconfigFor('first');
    stored.push(...kc.secrets);
    const res = await req('POST', '/v1/clusters?check=false', { name: 'first', kubeconfig: kc.text });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'first',
      server: 'https://127.0.0.1:1',
      default: true,
      kubeconfigSource: 'stored',
      projects: 1,
    });
    expect(res.body).not.toContain(kc.secrets[0]);
    expect(await count('SELECT count(*)::int AS n FROM outbox WHERE cluster_id IS NULL')).toBe(0);
    expect((await req('GET', '/v1/tenants/early/projects/early-p')).json()).toMatchObject({
      cluster: 'first',
    });
  });

  it('stores the kubeconfig only as a KMS envelope, which rotation re-wraps', async () => {
    const { rows } = await t.db.query<{ kubeconfig: string }>(
      "SELECT kubeconfig FROM clusters WHERE name = 'first'",
    );
    expect(rows[0]!.kubeconfig).toMatch(/^kms1:k2:/);
    expect(await findPlaintext(t.db, stored)).toEqual([]);
    // Rewrite it under the old key, then rotate through the registry as `kubeop kms rotate` does.
    const { rows: ids } = await t.db.query<{ id: string }>("SELECT id FROM clusters WHERE name = 'first'");
    const column = allEncryptedColumns.find((c) => c.table === 'clusters')!;
    const text = await secretSealer(kms).openText(column, ids[0]!.id, rows[0]!.kubeconfig);
    await t.db.query("UPDATE clusters SET kubeconfig = $1 WHERE name = 'first'", [
      await secretSealer(oldKms).seal(column, ids[0]!.id, text),
    ]);
    const report = await rotate(t.db, kms, allEncryptedColumns);
    expect(report.columns.find((c) => c.column === 'clusters.kubeconfig')).toMatchObject({ rewrapped: 1 });
    // Still opens: the check reaches the connection stage (nothing listens on port 1).
    const check = await req('POST', '/v1/clusters/first/check');
    expect(check.statusCode).toBe(200);
    expect(check.json()).toMatchObject({
      reachable: false,
      cluster: { checkError: expect.stringMatching(/version/) },
    });
  });

  it('refuses an unreachable cluster with a 422 and stores nothing', async () => {
    const before = await count('SELECT count(*)::int AS n FROM clusters');
    const res = await req('POST', '/v1/clusters', { name: 'gone', kubeconfig: kubeconfigFor('gone').text });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_CLUSTER_UNREACHABLE' });
    expect(await count('SELECT count(*)::int AS n FROM clusters')).toBe(before);
  });

  it('refuses a kubeconfig that would run a command, without echoing it', async () => {
    const evil = stringify({
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { exec: { command: 'sh', args: ['-c', 'touch /tmp/pwned-xyz'] } } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    });
    const res = await req('POST', '/v1/clusters?check=false', { name: 'evil', kubeconfig: evil });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_KUBECONFIG_INVALID' });
    expect(res.body).not.toContain('pwned-xyz');
    expect(await count("SELECT count(*)::int AS n FROM clusters WHERE name = 'evil'")).toBe(0);
  });

  it('places projects on the named cluster, sending the tenant there too', async () => {
    const kc = kubeconfigFor('second');
    stored.push(...kc.secrets);
    expect(
      (await req('POST', '/v1/clusters?check=false', { name: 'second', kubeconfig: kc.text })).json(),
    ).toMatchObject({
      default: false,
    });
    expect((await req('POST', '/v1/tenants', { name: 'acme', spec: tenantSpec })).statusCode).toBe(201);
    // The tenant goes to every cluster.
    expect(
      await count(
        "SELECT count(DISTINCT cluster_id)::int AS n FROM outbox WHERE kind = 'Tenant' AND name = 'acme'",
      ),
    ).toBe(2);
    const p = await req('POST', '/v1/tenants/acme/projects', {
      name: 'acme-two',
      cluster: 'second',
      spec: {},
    });
    expect(p.statusCode).toBe(201);
    expect(p.json()).toMatchObject({ cluster: 'second' });
    const d = await req('POST', '/v1/tenants/acme/projects', { name: 'acme-one', spec: {} });
    expect(d.json()).toMatchObject({ cluster: 'first' });
    await req('POST', '/v1/tenants/acme/projects/acme-two/apps', {
      name: 'web',
      spec: { source: { image: { ref: 'nginx:1' } } },
    });
    const { rows } = await t.db.query<{ kind: string; name: string; cluster: string }>(
      `SELECT o.kind, o.name, c.name AS cluster FROM outbox o JOIN clusters c ON c.id = o.cluster_id
       WHERE o.name IN ('acme-two', 'web', 'acme-one') ORDER BY o.id`,
    );
    expect(rows).toEqual([
      { kind: 'Project', name: 'acme-two', cluster: 'second' },
      { kind: 'Project', name: 'acme-one', cluster: 'first' },
      { kind: 'App', name: 'web', cluster: 'second' },
    ]);
    const missing = await req('POST', '/v1/tenants/acme/projects', {
      name: 'acme-x',
      cluster: 'nope',
      spec: {},
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'KUBEOP_ERR_CLUSTER_NOT_FOUND' });
  });

  it('lists and gets clusters without their kubeconfig', async () => {
    const list = await req('GET', '/v1/clusters?limit=1');
    const page = list.json() as { items: Array<{ name: string }>; nextCursor?: string };
    expect(page.items.map((i) => i.name)).toEqual(['first']);
    const next = await req('GET', `/v1/clusters?limit=1&cursor=${page.nextCursor}`);
    expect((next.json() as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['second']);
    const one = await req('GET', '/v1/clusters/second');
    expect(one.json()).toMatchObject({ name: 'second', projects: 1, lane: null });
    for (const body of [list.body, next.body, one.body]) {
      for (const s of stored) expect(body).not.toContain(s.slice(0, 40));
      expect(body).not.toContain('kms1:');
    }
  });

  it('refuses to deregister a cluster with projects unless forced', async () => {
    const refused = await req('DELETE', '/v1/clusters/second');
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'KUBEOP_ERR_CLUSTER_IN_USE' });
    expect(await count("SELECT count(*)::int AS n FROM clusters WHERE name = 'second'")).toBe(1);
    expect((await req('DELETE', '/v1/clusters/second?force=true')).statusCode).toBe(204);
    expect((await req('GET', '/v1/tenants/acme/projects/acme-two')).json()).toMatchObject({ cluster: null });
    expect((await req('GET', '/v1/clusters/second')).statusCode).toBe(404);
  });

  it('refuses a member kubeconfig for an unplaced project, and beyond the configured lifetime', async () => {
    const unplaced = await req('POST', '/v1/tenants/acme/projects/acme-two/kubeconfig', {});
    expect(unplaced.statusCode).toBe(409);
    expect(unplaced.json()).toMatchObject({ code: 'KUBEOP_ERR_PROJECT_NOT_PLACED' });
    const long = await req('POST', '/v1/tenants/acme/projects/acme-one/kubeconfig', {
      expirationSeconds: 9000,
    });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ code: 'KUBEOP_ERR_EXPIRATION_TOO_LONG' });
  });

  it('registers the manager’s own cluster once, keeping the default, and follows a new server URL', async () => {
    expect(await ensureLocalCluster(t.db, 'https://local:6443')).toEqual({
      name: 'default',
      created: true,
      isDefault: false,
    });
    expect(await ensureLocalCluster(t.db, 'https://moved:6443')).toMatchObject({ created: false });
    const res = await req('GET', '/v1/clusters/default');
    expect(res.json()).toMatchObject({
      server: 'https://moved:6443',
      kubeconfigSource: 'manager',
      default: false,
    });
    expect(await count('SELECT count(*)::int AS n FROM clusters WHERE kubeconfig IS NULL')).toBe(1);
    expect((await req('DELETE', '/v1/clusters/default')).statusCode).toBe(204);
  });

  it('writes an audit entry for registration and deregistration, without the kubeconfig', async () => {
    const { rows } = await t.db.query<{ action: string; detail: unknown }>(
      "SELECT action, detail FROM audit_log WHERE resource_type = 'cluster' ORDER BY id",
    );
    expect(rows.map((r) => r.action)).toEqual(['register', 'register', 'deregister', 'deregister']);
    expect(JSON.stringify(rows)).not.toContain('tok-');
  });
});

describe('clusters without a KMS key', () => {
  it('refuses to register a kubeconfig with a 503 naming the missing key, and stores nothing', async () => {
    const t = await drivers[1]!.open();
    const { app, adminToken } = await managerApi(t.db);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/clusters?check=false',
        headers: bearer(adminToken),
        payload: { name: 'c', kubeconfig: kubeconfigFor('c').text },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_KMS_NOT_CONFIGURED' });
      expect((await t.db.query('SELECT 1 FROM clusters')).rows).toEqual([]);
    } finally {
      await app.close();
      await t.drop();
    }
  });
});
