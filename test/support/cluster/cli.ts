// `npm run cluster -- up | down | status [--state-dir DIR] [--nodes N]`: the local control plane.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildControlPlane } from './build.ts';
import { clusterStatus, downCluster, upCluster } from './controlplane.ts';

const usage = 'usage: npm run cluster -- up|down|status [--state-dir DIR] [--nodes N]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { 'state-dir': { type: 'string' }, nodes: { type: 'string' } },
    });
  } catch (err) {
    process.stderr.write(`cluster: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  const stateDir = resolve(parsed.values['state-dir'] ?? process.env.KUBEOP_CLUSTER_DIR ?? '.cluster');
  if (rest.length || !command) {
    process.stderr.write(
      `cluster: ${command ? `unexpected argument ${rest[0]}` : 'missing command'}\n${usage}\n`,
    );
    return 2;
  }
  const log = (line: string) => process.stderr.write(`cluster: ${line}\n`);
  switch (command) {
    case 'up': {
      const nodes = Number(parsed.values.nodes ?? '3');
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 100) {
        process.stderr.write('cluster: --nodes must be an integer from 1 to 100\n');
        return 2;
      }
      const started = Date.now();
      const binDir = await buildControlPlane(log);
      const state = await upCluster({ stateDir, binDir, nodes, detached: true, log });
      log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s; logs in ${stateDir}/logs`);
      process.stdout.write(`KUBECONFIG=${state.kubeconfig}\n`);
      return 0;
    }
    case 'down': {
      const { stopped } = await downCluster(stateDir);
      log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running');
      return 0;
    }
    case 'status': {
      const status = await clusterStatus(stateDir);
      if (!status.exists) {
        process.stdout.write(`no cluster in ${stateDir}\n`);
        return 1;
      }
      process.stdout.write(`server ${status.server} (${status.apiserverReady ? 'ready' : 'NOT ready'})\n`);
      for (const c of status.components) {
        process.stdout.write(
          `${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.running ? 'running' : 'STOPPED'}  ${c.log}\n`,
        );
      }
      process.stdout.write(`KUBECONFIG=${status.kubeconfig}\n`);
      return status.apiserverReady && status.components.every((c) => c.running) ? 0 : 1;
    }
    default:
      process.stderr.write(`cluster: unknown command ${command}\n${usage}\n`);
      return 2;
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`cluster: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
