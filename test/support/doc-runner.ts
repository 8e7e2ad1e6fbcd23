// Runs one doc's shown commands (a DocScenario) the way a reader would: one `bash` process with
// `set -euo pipefail`, cwd = the repository root, in the environment HELPERS "Docs command format"
// promises. Contract: whatever the scenario started is gone when `runScenario` returns — its process
// group is killed, clusters it started under $DOCS_TMP are stopped, its database is dropped and
// $DOCS_TMP is removed — whether the doc passed, failed or timed out.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildControlPlane } from './cluster/build.ts';
import { downCluster, upCluster } from './cluster/controlplane.ts';
import { createPostgresDatabase } from './databases.ts';
import {
  blockTimes,
  DONE_MARKER,
  lastStartedBlock,
  scenarioScript,
  type DocScenario,
} from './doc-commands.ts';

export interface RunOptions {
  root: string;
  /** The shared e2e cluster's admin kubeconfig (docs with `cluster=fresh` get their own instead). */
  kubeconfig: string;
  log?: (line: string) => void;
}

export interface RunResult {
  ok: boolean;
  /** What went wrong, naming the file, the block's line and text, and the tail of the output. */
  report?: string;
  seconds: number;
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The directory of the control-plane binaries (kube-apiserver, etcd, kwok, helm), as
 * hack/controlplane/build.sh leaves them: the newest cache entry that has helm. scripts/helm.ts looks
 * in the same place.
 */
export function controlPlaneBinDir(
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  const cache =
    env.KUBEOP_CONTROLPLANE_CACHE ??
    join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubeop', 'controlplane');
  if (!existsSync(cache)) return undefined;
  return readdirSync(cache)
    .map((key) => join(cache, key))
    .filter((dir) => existsSync(join(dir, 'helm')) && existsSync(join(dir, 'kube-apiserver')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/** Cluster state directories (`state.json`) under `dir`, a few levels deep. */
function clusterStateDirs(dir: string, depth = 4): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name === 'state.json') found.push(dir);
    else if (entry.isDirectory() && !entry.isSymbolicLink())
      found.push(...clusterStateDirs(join(dir, entry.name), depth - 1));
  }
  return found;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole process group, SIGKILL to what is left after `graceMs`. */
async function killGroup(pid: number, graceMs = 5_000): Promise<void> {
  if (!groupAlive(pid)) return;
  process.kill(-pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
}

function tail(text: string, lines = 60, chars = 6000): string {
  const cut = text.split('\n').slice(-lines).join('\n');
  return cut.length > chars ? cut.slice(-chars) : cut;
}

export async function runScenario(scenario: DocScenario, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const database = await createPostgresDatabase();
  const docsTmp = mkdtempSync(join(tmpdir(), 'kubeop-docs-'));
  let pid: number | undefined;
  try {
    let kubeconfig = opts.kubeconfig;
    if (scenario.options.cluster === 'fresh') {
      const binDir = await buildControlPlane(log);
      const state = await upCluster({ stateDir: join(docsTmp, 'cluster'), binDir, nodes: 1, log });
      kubeconfig = state.kubeconfig;
    }
    const binDir = controlPlaneBinDir();
    const addr = `127.0.0.1:${await freePort()}`;
    const env: Record<string, string> = {
      PATH: [join(opts.root, 'node_modules', '.bin'), binDir, process.env.PATH].filter(Boolean).join(':'),
      HOME: process.env.HOME ?? homedir(),
      // Temporary files, `mktemp` and clusters started without --state-dir stay in the scenario's
      // directory, so the runner finds and stops whatever the doc left running.
      TMPDIR: docsTmp,
      KUBEOP_CLUSTER_DIR: join(docsTmp, 'local-cluster'),
      DOCS_TMP: docsTmp,
      KUBEOP_DATA_DIR: join(docsTmp, 'data'),
      KUBEOP_HTTP_ADDR: addr,
      KUBEOP_URL: `http://${addr}`,
      KUBECONFIG: kubeconfig,
      DATABASE_URL: database.url,
      ...(process.env.KUBEOP_TEST_PG_URL ? { KUBEOP_TEST_PG_URL: process.env.KUBEOP_TEST_PG_URL } : {}),
    };
    const scriptFile = join(docsTmp, 'scenario.sh');
    writeFileSync(scriptFile, scenarioScript(scenario));
    const outputFile = join(docsTmp, 'output.log');
    const out = openSync(outputFile, 'w');
    const child = spawn('bash', [scriptFile], {
      cwd: opts.root,
      env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    pid = child.pid;
    const timeoutMs = scenario.options.timeoutSeconds * 1000;
    const exit = await new Promise<{ code: number | null; signal: string | null; timedOut: boolean }>(
      (resolve) => {
        const timer = setTimeout(() => {
          resolve({ code: null, signal: null, timedOut: true });
        }, timeoutMs);
        child.on('error', (err) => {
          clearTimeout(timer);
          log(`bash: ${err.message}`);
          resolve({ code: null, signal: null, timedOut: false });
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, timedOut: false });
        });
      },
    );
    if (pid !== undefined) await killGroup(pid);
    const output = readFileSync(outputFile, 'utf8');
    const seconds = (Date.now() - started) / 1000;
    const times = blockTimes(output);
    const lines = [...times.started.keys()];
    log(
      'block times: ' +
        lines
          .map((line, i) => {
            const end = i + 1 < lines.length ? times.started.get(lines[i + 1]!) : times.done;
            return `${line}: ${end === undefined ? '?' : end - times.started.get(line)!}s`;
          })
          .join(', '),
    );
    if (!exit.timedOut && exit.code === 0 && output.includes(DONE_MARKER)) return { ok: true, seconds };
    const line = lastStartedBlock(output);
    const block = scenario.blocks.find((b) => b.line === line);
    const why = exit.timedOut
      ? `timed out after ${scenario.options.timeoutSeconds}s (doc-test: timeout=N raises it)`
      : exit.code === 0
        ? 'the script ended before its last block (an `exit` in a block?)'
        : `exited with ${exit.code ?? exit.signal}`;
    const report = [
      `${scenario.file}: ${why}`,
      block ? `in the block at ${scenario.file}:${block.line}:` : 'before the first block',
      ...(block ? ['```' + block.language, block.text, '```'] : []),
      'output (tail):',
      tail(output),
    ].join('\n');
    return { ok: false, report, seconds };
  } finally {
    if (pid !== undefined) await killGroup(pid).catch(() => {});
    for (const dir of clusterStateDirs(docsTmp)) {
      log(`stopping the cluster the doc left in ${dir}`);
      await downCluster(dir).catch((err: unknown) => log(`cluster down ${dir}: ${String(err)}`));
    }
    await database.drop().catch((err: unknown) => log(`dropping the doc's database: ${String(err)}`));
    rmSync(docsTmp, { recursive: true, force: true });
  }
}
