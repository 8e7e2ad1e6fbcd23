import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { runKubeop, startKubeop, type Started } from '../support/kubeop-process.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// `npm start -- --local-cluster`: the quick start on a machine without a cluster. Runs where the
// e2e suite runs, because it needs the control-plane binaries the suite's global setup builds.
describe.skipIf(!kubeconfigPath)('kubeop all --local-cluster', () => {
  const dirs: string[] = [];
  let svc: Started | undefined;
  afterAll(async () => {
    if (svc && svc.child.exitCode === null) await svc.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('starts its own control plane, runs every component on it, and stops it on exit', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kubeop-local-'));
    dirs.push(dataDir);
    const token = `kop_${randomBytes(24).toString('base64url')}`;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    svc = await startKubeop(
      ['all', '--local-cluster'],
      {
        KUBEOP_HTTP_ADDR: '127.0.0.1:0',
        KUBEOP_WEBHOOK_ADDR: '127.0.0.1:0',
        KUBEOP_DATA_DIR: dataDir,
        KUBEOP_BOOTSTRAP_TOKEN: token,
        KUBECONFIG: '/nonexistent/kubeconfig',
      },
      240_000,
    );
    const stateDir = join(dataDir, 'local-cluster');
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as {
      server: string;
      components: Array<{ name: string; pid: number }>;
    };
    expect(state.components.map((c) => c.name)).toEqual(
      expect.arrayContaining(['etcd', 'kube-apiserver', 'kwok']),
    );
    expect(svc.stderr()).toContain(`local cluster: ready at ${state.server}`);

    // The manager registered that cluster, and the operator reconciles on it.
    const clusters = (await (await fetch(`${svc.url}/v1/clusters`, { headers: auth })).json()) as {
      items: Array<{ name: string; server: string }>;
    };
    expect(clusters.items).toEqual([expect.objectContaining({ name: 'default', server: state.server })]);
    const created = await fetch(`${svc.url}/v1/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'acme', spec: { owners: [{ kind: 'User', name: 'alice' }] } }),
    });
    expect(created.status).toBe(201);
    await eventually(
      'tenant Ready on the local cluster, read back through the API',
      async () => {
        const t = (await (await fetch(`${svc!.url}/v1/tenants/acme`, { headers: auth })).json()) as {
          status?: { conditions?: Array<{ type: string; status: string }> };
        };
        return t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      120_000,
    );

    expect(await svc.stop('SIGTERM')).toBe(0);
    // Stopped processes are reaped once kubeop, their parent, is gone: give init a moment.
    await eventually(
      'every control-plane process gone',
      async () => (state.components.some((c) => alive(c.pid)) ? undefined : true),
      15_000,
    );
    expect(existsSync(stateDir)).toBe(false);
  }, 360_000);

  it('without built binaries it says what to run, in one line, and exits 1', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'kubeop-no-cp-'));
    dirs.push(empty);
    const r = await runKubeop(['all', '--local-cluster'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DATA_DIR: empty,
      KUBEOP_CONTROLPLANE_CACHE: empty,
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^kubeop: --local-cluster: the control-plane binaries are not built \(.*\); run: bash hack\/controlplane\/build\.sh$/,
    );
  });
});
