// bench/api: the manager API on real PostgreSQL — requests/s and p99 for listing apps (a page of 50)
// and creating an app (with its audit and outbox writes), at a fixed concurrency on loopback, against
// a bare Fastify server running the same SQL, in the same run. Both servers run as their own
// processes; this process only generates load. Usage: npm run bench -- api [--seconds 5] [--concurrency 16]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { startKubeop } from '../test/support/kubeop-process.ts';
import { machine, recordResult } from './support.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'api'),
  options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' } },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const token = 'kop_' + 'b'.repeat(43);
const say = (s: string) => process.stderr.write(`[api] ${s}\n`);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Runs `request` from CONCURRENCY loops for SECONDS; latencies in ms. */
async function load(request: (i: number) => Promise<Response>, okStatus: number): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const i = n++;
        const t0 = performance.now();
        const res = await request(i);
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (res.status !== okStatus) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: latencies.length / SECONDS, p50: q(0.5), p99: q(0.99), errors };
}

async function seed(url: string, project: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows: t } = await c.query<{ id: string }>(
      "INSERT INTO tenants (name, spec) VALUES ($1, '{}') RETURNING id",
      [`${project}-t`],
    );
    const { rows: p } = await c.query<{ id: string }>(
      "INSERT INTO projects (name, spec, tenant_id) VALUES ($1, '{}', $2) RETURNING id",
      [project, t[0]!.id],
    );
    for (let i = 0; i < 200; i++) {
      await c.query('INSERT INTO apps (name, spec, project_id) VALUES ($1, $2, $3)', [
        `seed-${String(i).padStart(3, '0')}`,
        { source: { image: { ref: 'nginx:1' } } },
        p[0]!.id,
      ]);
    }
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const db = await createPostgresDatabase();
  const manager = await startKubeop(['manager'], {
    KUBEOP_HTTP_ADDR: '127.0.0.1:0',
    KUBEOP_DB_URL: db.url,
    KUBEOP_BOOTSTRAP_TOKEN: token,
    KUBEOP_API_RATE_LIMIT: '1000000',
    KUBECONFIG: '/nonexistent',
  });
  // Its request logs still get written (a real server pays for them) but are not parsed here.
  manager.child.stdout?.removeAllListeners('data');
  manager.child.stdout?.resume();
  const baseline = spawn(
    process.execPath,
    [fileURLToPath(new URL('./api-baseline-server.ts', import.meta.url)), db.url],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const basePort = await new Promise<number>((resolve) =>
    baseline.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
  );
  try {
    // The manager has migrated the database; seed one tenant/project per server.
    await seed(db.url, 'bench-api');
    await seed(db.url, 'bench-base');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const appBody = (i: number, prefix: string) =>
      JSON.stringify({
        name: `${prefix}-${i}`,
        spec: { source: { image: { ref: 'ghcr.io/acme/web:1.0' } }, replicas: 2 },
      });
    const base = `http://127.0.0.1:${basePort}`;
    const api = `${manager.url}/v1/tenants/bench-api-t/projects/bench-api/apps`;

    say(`warming up, then ${SECONDS} s per measurement at concurrency ${CONCURRENCY}`);
    await load(() => fetch(api + '?limit=50', { headers: auth }), 200);
    const listBase = await load(() => fetch(`${base}/apps/bench-base`), 200);
    const listApi = await load(() => fetch(api + '?limit=50', { headers: auth }), 200);
    const createBase = await load(
      (i) =>
        fetch(`${base}/apps/bench-base`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: appBody(i, 'b'),
        }),
      201,
    );
    const createApi = await load(
      (i) => fetch(api, { method: 'POST', headers: auth, body: appBody(i, 'a') }),
      201,
    );

    const row = (name: string, b: Result, a: Result) =>
      console.log(
        `  ${name.padEnd(22)} baseline ${b.rps.toFixed(0).padStart(6)} req/s p99 ${b.p99.toFixed(1).padStart(6)} ms | manager ${a.rps.toFixed(0).padStart(6)} req/s p99 ${a.p99.toFixed(1).padStart(6)} ms | ratio ${(a.rps / b.rps).toFixed(2)} (errors ${b.errors}/${a.errors})`,
      );
    console.log(`api: concurrency ${CONCURRENCY}, ${SECONDS} s each, PostgreSQL on loopback`);
    row('list apps (page of 50)', listBase, listApi);
    row('create app', createBase, createApi);
    console.log(`  machine: ${machine()}`);
    recordResult('api', { seconds: SECONDS, concurrency: CONCURRENCY }, [
      {
        name: 'list apps, page of 50',
        unit: 'req/s',
        value: listApi.rps,
        baseline: listBase.rps,
        better: 'higher',
      },
      {
        name: 'list apps, page of 50: p99',
        unit: 'ms',
        value: listApi.p99,
        baseline: listBase.p99,
        better: 'lower',
      },
      {
        name: 'create app (+ audit + outbox)',
        unit: 'req/s',
        value: createApi.rps,
        baseline: createBase.rps,
        better: 'higher',
      },
      {
        name: 'create app: p99',
        unit: 'ms',
        value: createApi.p99,
        baseline: createBase.p99,
        better: 'lower',
      },
    ]);
  } finally {
    baseline.kill('SIGTERM');
    await manager.stop();
    await db.drop();
  }
}

await main();
